"""The admin's front page tells staff how the shop is doing and what needs doing, in a
fixed number of queries however many orders there are."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderLine, Status
from privacy.models import Alert, AlertDigest, CampaignDelivery, Consent, EmailCampaign, OptOutRequest, Purpose
from tests.factories import OfferFactory, RecordingFactory, WorkFactory
from tests.orders.helpers import staff_client

pytestmark = pytest.mark.django_db


def order(*, status=Status.AUTHORISED, lines=(), days_ago=0, refunded="0.00", authorised_days_ago=None):
    """An order as checkout leaves it, placed `days_ago` days ago."""
    subtotal = sum((offer.price * quantity for offer, quantity in lines), Decimal("0.00"))
    placed = timezone.now() - datetime.timedelta(days=days_ago)
    address = {
        f"{kind}_{name}": value
        for kind in ("billing", "shipping")
        for name, value in [
            ("name", "Clara Schumann"),
            ("line1", "1 Wieck Street"),
            ("city", "Leipzig"),
            ("postcode", "04109"),
            ("country", "DE"),
        ]
    }
    made = Order.objects.create(
        email="clara@example.com",
        phone="+49 341 000000",
        shipping_method="standard",
        subtotal=subtotal,
        shipping_cost=Decimal("0.00"),
        total=subtotal,
        expires_at=placed + datetime.timedelta(hours=1),
        **address,
    )
    authorised_at = (
        placed if authorised_days_ago is None else timezone.now() - datetime.timedelta(days=authorised_days_ago)
    )
    Order.objects.filter(pk=made.pk).update(
        created_at=placed,
        status=status,
        authorised_at=authorised_at if status != Status.PENDING_PAYMENT else None,
        amount_authorised=subtotal,
        amount_captured=subtotal if status != Status.AUTHORISED else 0,
        amount_refunded=Decimal(refunded),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=made,
            offer=offer,
            sku=offer.sku,
            title=offer.release.title,
            format_label="CD",
            unit_price=offer.price,
            quantity=quantity,
        )
        for offer, quantity in lines
    )
    return made


def front_page(user):
    return staff_client(user).get("/admin/").content.decode()


def test_the_front_page_charts_sales_and_orders_per_day_without_scripts(admin_user):
    offer = OfferFactory(price=Decimal("20.00"))
    order(lines=[(offer, 1)])
    order(status=Status.PARTIALLY_REFUNDED, lines=[(offer, 2)], refunded="5.00")
    order(status=Status.PENDING_PAYMENT, lines=[(offer, 3)])  # not paid: not a sale
    order(lines=[(offer, 1)], days_ago=120)  # before the 90 days shown

    page = front_page(admin_user)

    dashboard = page.split('id="shop-dashboard"')[1]
    assert "55.00 from 2 paid orders" in dashboard
    today = timezone.localdate()
    assert f"<title>{today.day} {today:%b}: 55.00 sales</title>" in dashboard
    assert f"<title>{today.day} {today:%b}: 2 orders</title>" in dashboard
    assert dashboard.count('<svg class="dashboard-chart"') == 2
    assert dashboard.count('<rect class="bar"') == 2 * 90
    assert "<script" not in page.split('id="content-main"')[1]


def test_the_front_page_lists_what_needs_doing(admin_user):
    plenty, last_two = OfferFactory(stock=40), OfferFactory(stock=2)
    OfferFactory(stock=0, made_to_order=True, lead_time_days=5)  # burned to order: never low
    order(lines=[(plenty, 1)])
    order(lines=[(plenty, 1)], authorised_days_ago=6)
    order(lines=[(plenty, 1)], authorised_days_ago=8)
    order(status=Status.SHIPPED, lines=[(plenty, 1)])
    for number in range(3):
        OptOutRequest.objects.create(
            message_id=f"<{number}@example.com>", sender="x@example.com", state=OptOutRequest.State.QUEUED, reason="?"
        )
    OptOutRequest.objects.create(
        message_id="<done@example.com>", sender="y@example.com", state=OptOutRequest.State.APPLIED, reason="clear"
    )

    dashboard = front_page(admin_user).split('id="shop-dashboard"')[1]

    assert "<strong>3</strong> orders waiting to ship" in dashboard
    assert "<strong>1</strong> payment authorisations expire within 2 days" in dashboard
    assert "<strong>1</strong> already lapsed" in dashboard
    assert "<strong>1</strong> offers with 2 or fewer in stock" in dashboard
    assert f'({last_two.sku})</a></td><td class="number">2 left' in dashboard
    assert "<strong>3</strong> messages to service@ waiting for staff" in dashboard


def test_the_front_page_names_the_best_selling_works_and_releases(admin_user):
    symphony, concerto = WorkFactory(title="Symphony No. 5"), WorkFactory(title="Violin Concerto")
    karajan, mutter = OfferFactory(release__title="Karajan 1963"), OfferFactory(release__title="Mutter 1980")
    RecordingFactory(release=karajan.release, work=symphony)
    RecordingFactory(release=mutter.release, work=concerto)
    order(lines=[(karajan, 3), (mutter, 1)])
    order(lines=[(karajan, 2)])

    dashboard = front_page(admin_user).split('id="shop-dashboard"')[1]

    works = dashboard.split("Top works")[1].split("</table>")[0]
    assert works.index("Symphony No. 5") < works.index("Violin Concerto")
    assert "5</td></tr>" in works
    releases = dashboard.split("Top releases")[1].split("</table>")[0]
    assert releases.index("Karajan 1963") < releases.index("Mutter 1980")


def test_the_front_page_counts_alerts_and_campaigns(admin_user):
    work = WorkFactory()
    for number in range(4):
        Alert.objects.create(email=f"a{number}@example.com", kind=Alert.Kind.WORK, work=work)
    Consent.objects.create(email="a0@example.com", purpose=Purpose.ALERTS, granted=True)
    Consent.objects.create(email="b@example.com", purpose=Purpose.PROMO_EMAIL, granted=True)
    Consent.objects.create(email="c@example.com", purpose=Purpose.PROMO_EMAIL, granted=False)
    AlertDigest.objects.create(email="a0@example.com", day=timezone.localdate(), items=3)
    campaign = EmailCampaign.objects.create(subject="Autumn", body_text="...")
    CampaignDelivery.objects.create(campaign=campaign, email="b@example.com")

    dashboard = front_page(admin_user).split('id="shop-dashboard"')[1]

    assert "<strong>4</strong> alerts set; <strong>1</strong> addresses confirmed for alerts" in dashboard
    assert "<strong>1</strong> alert emails sent, telling of <strong>3</strong> new items" in dashboard
    assert "<strong>1</strong> addresses confirmed for offers by email; <strong>1</strong> campaign emails" in dashboard


def test_the_front_page_costs_the_same_queries_with_two_orders_or_sixty(admin_user):
    """Guards against figures computed per order or per day in Python (an N+1 over
    orders, lines or the 90 days)."""
    client = staff_client(admin_user)
    offers = [OfferFactory(stock=number) for number in range(4)]
    for offer in offers:
        RecordingFactory(release=offer.release)
    order(lines=[(offers[0], 1)])
    order(lines=[(offers[1], 1)], days_ago=3)
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/")
    for number in range(60):
        order(lines=[(offers[number % 4], 1), (offers[(number + 1) % 4], 2)], days_ago=number % 89)
    caches["shared"].clear()  # both visits compute every figure afresh
    with CaptureQueriesContext(connection) as many:
        response = client.get("/admin/")
    assert "from 62 paid orders" in response.content.decode()
    assert len(many) == len(few)


def test_staff_who_may_not_see_orders_see_no_sales_figures(django_user_model):
    editor = django_user_model.objects.create_user(
        email="editor@arkiv.example", password="a-long-passphrase", is_staff=True
    )
    order(lines=[(OfferFactory(), 1)])
    page = front_page(editor)
    assert 'id="shop-dashboard"' not in page and "paid orders" not in page


def test_sales_figures_stay_a_few_minutes_while_what_needs_doing_is_live(admin_user):
    """The 90 days of sales are read once every few minutes, not on every visit; the
    orders waiting to ship are counted on every visit."""
    offer = OfferFactory(price=Decimal("20.00"))
    order(lines=[(offer, 1)])
    client = staff_client(admin_user)
    client.get("/admin/")
    order(lines=[(offer, 1)])

    dashboard = client.get("/admin/").content.decode().split('id="shop-dashboard"')[1]

    assert "20.00 from 1 paid orders" in dashboard
    assert "<strong>2</strong> orders waiting to ship" in dashboard
