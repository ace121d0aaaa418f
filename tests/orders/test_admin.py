"""Staff work orders in the admin: ship (captures and emails), cancel (voids), refund,
resend, packing slip; groups give each role only what it needs."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from orders.models import Order, Status
from orders.services import payment_sync
from tests.factories import OfferFactory
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_payments import checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    def make(group):
        user = django_user_model.objects.create_user(
            email=f"{group.lower().replace(' ', '')}@arkiv.example", password="a-long-passphrase", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture
def paid_order(client, payment_sandbox):
    offers = OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)
    url, order = checkout(client, offers)
    pay(url)
    client.logout()
    return payment_sync(order)


def test_fulfilment_ships_an_order_with_tracking(
    client, staff, paid_order, payment_sandbox, django_capture_on_commit_callbacks
):
    client = staff_client(staff("Fulfilment"))
    page = client.get(f"/admin/orders/order/{paid_order.pk}/change/").content.decode()
    assert "Mark shipped" in page and "1 Wieck Street" in page
    url = f"/admin/orders/order/{paid_order.pk}/ship/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, action_form(client, url, tracking_number="JD014600003"), follow=True)
    assert "shipped; payment captured and customer emailed" in response.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == Status.SHIPPED and paid_order.tracking_number == "JD014600003"
    assert payment_sandbox.intents[paid_order.payment_intent_id]["status"] == "succeeded"
    assert "JD014600003" in mail.outbox[-1].body
    assert paid_order.history.get(to_status=Status.SHIPPED).by.email == "fulfilment@arkiv.example"


def test_cancel_and_refund_through_the_admin(client, staff, paid_order, payment_sandbox):
    client = staff_client(staff("Fulfilment"))
    ship = f"/admin/orders/order/{paid_order.pk}/ship/"
    ship_form = action_form(client, ship, tracking_number="X")
    cancel = f"/admin/orders/order/{paid_order.pk}/cancel/"
    client.post(cancel, action_form(client, cancel, note="Customer asked"))
    paid_order.refresh_from_db()
    assert paid_order.status == Status.CANCELLED
    assert payment_sandbox.intents[paid_order.payment_intent_id]["status"] == "canceled"
    # Shipping a cancelled order (from a page opened before) is refused with a message
    # saying who cancelled it, not an error page.
    response = client.post(ship, ship_form, follow=True)
    body = response.content.decode()
    assert response.status_code == 200 and "Not shipped" in body and "is Cancelled since" in body
    assert "fulfilment@arkiv.example" in body


def test_refund_by_lines_and_refusal_of_too_much(client, staff, paid_order, admin_user):
    from orders.services import order_ship

    order_ship(paid_order, carrier="DHL", tracking_number="JD1", by=admin_user)
    client = staff_client(staff("Fulfilment"))
    line = paid_order.lines.get(unit_price=Decimal("15.00"))
    url = f"/admin/orders/order/{paid_order.pk}/refund/"
    too_much = client.post(url, action_form(client, url, amount="999.00"))
    assert "At most 56.95 can be refunded" in too_much.content.decode(), too_much.context["form"].errors
    client.post(url, action_form(client, url, **{f"line_{line.pk}": "1", "note": "Scratched"}))
    paid_order.refresh_from_db()
    line.refresh_from_db()
    assert paid_order.status == Status.PARTIALLY_REFUNDED and paid_order.amount_refunded == Decimal("15.00")
    assert line.quantity_refunded == 1


def test_resend_an_email_and_print_a_packing_slip(client, staff, paid_order, django_capture_on_commit_callbacks):
    client = staff_client(staff("Fulfilment"))
    email = paid_order.emails.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/orders/order/{paid_order.pk}/resend/{email.pk}/")
    assert paid_order.emails.count() == 2 and mail.outbox[-1].to == ["clara@example.com"]
    slip = client.get(f"/admin/orders/order/{paid_order.pk}/packing-slip/").content.decode()
    assert paid_order.number in slip and "1 Wieck Street" in slip
    assert all(line.sku in slip for line in paid_order.lines.all())


def test_catalog_editors_never_see_orders_and_fulfilment_cannot_edit_the_catalog(client, staff, paid_order):
    client = staff_client(staff("Catalog editors"))
    assert client.get("/admin/orders/order/").status_code == 403
    assert client.get(f"/admin/orders/order/{paid_order.pk}/change/").status_code == 403
    assert client.get(f"/admin/orders/order/{paid_order.pk}/packing-slip/").status_code == 403
    assert client.get("/admin/catalog/release/add/").status_code == 200
    client = staff_client(staff("Fulfilment"))
    assert client.get("/admin/catalog/release/add/").status_code == 403
    assert client.post(f"/admin/orders/order/{paid_order.pk}/change/", {}).status_code in (200, 302)


def test_orders_list_filters_and_search(client, staff, paid_order):
    client = staff_client(staff("Fulfilment"))
    Order.objects.filter(pk=paid_order.pk).update(authorised_at=timezone.now() - datetime.timedelta(days=6))
    expiring = client.get("/admin/orders/order/?authorisation=expiring").content.decode()
    assert paid_order.number in expiring and "expires in 1 day" in expiring
    # Coloured by our stylesheet: the Content-Security-Policy blocks inline style attributes.
    assert 'class="authorisation-expiring"' in expiring and "css/admin_orders.css" in expiring
    assert 'style="color' not in expiring
    assert paid_order.number not in client.get("/admin/orders/order/?authorisation=expired").content.decode()
    assert paid_order.number in client.get("/admin/orders/order/?q=clara%40example.com").content.decode()
    assert paid_order.number in client.get("/admin/orders/order/?q=Schumann").content.decode()
    assert paid_order.number not in client.get("/admin/orders/order/?made_to_order=yes").content.decode()
    assert paid_order.number in client.get("/admin/orders/order/?status__exact=authorised").content.decode()


def test_fulfilment_staff_see_the_invoices_their_shipping_issues_and_the_vat_rates(staff):
    client = staff_client(staff("Fulfilment"))

    assert client.get("/admin/orders/invoice/").status_code == 200
    assert client.get("/admin/orders/vatrate/").status_code == 200
    assert client.get("/admin/orders/vatrate/add/").status_code == 403  # rates are not theirs to change
