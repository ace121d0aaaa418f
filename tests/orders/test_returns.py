"""Returns: within 14 days of delivery (the terms of sale), the customer opens a return
from the order page; staff mark it received and refund the returned lines' value once,
through the payment sandbox; the customer is emailed at each step."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from orders import returns
from orders.models import Order, OrderEmail, OrderLine, ReturnRequest, Status
from orders.services import order_ship, payment_sync
from privacy import services as privacy
from privacy.models import PolicyDocument
from tests.factories import OfferFactory, ReleaseFactory
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_payments import checkout

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"


@pytest.fixture
def packer(django_user_model):
    user = django_user_model.objects.create_user(email="packer@arkiv.example", password=PASSWORD, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="orders",
            codename__in=["view_order", "change_order", "refund_order", "view_returnrequest", "change_returnrequest"],
        )
    )
    return user


def shipped(client, packer):
    """Two copies of a Brahms record at 15.00 and one Bach at 22.00, paid on the sandbox and shipped."""
    offers = (
        OfferFactory(release=ReleaseFactory(title="Brahms: Symphony no. 4"), price=Decimal("15.00"), stock=5),
        OfferFactory(release=ReleaseFactory(title="Bach: Cello Suites"), price=Decimal("22.00"), stock=2),
    )
    url, order = checkout(client, offers)
    pay(url)
    order = order_ship(payment_sync(order), carrier="DHL", tracking_number="JD1", by=packer)
    mail.outbox.clear()
    return order


@pytest.fixture
def clara(client):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())
    client.force_login(user)
    return user


@pytest.fixture
def order(client, clara, payment_sandbox, packer):
    return shipped(client, packer)


def lines(order):
    brahms, bach = OrderLine.objects.filter(order=order).order_by("unit_price")
    return brahms, bach


def return_form(client, order, **quantities):
    """What the return form sends when filled in as a customer would."""
    page = client.get(f"/orders/{order.number}/return/")
    assert page.status_code == 200, page.content.decode()[:2000]
    token = page.context["form"]["token"].value()
    return {"token": token, "reason": "damaged", "details": "The case was cracked.", **quantities}


def open_return(client, order, **quantities):
    return client.post(f"/orders/{order.number}/return/", return_form(client, order, **quantities), follow=True)


def test_the_owner_opens_a_return_from_the_order_page_and_is_told_where_to_send_it(client, order):
    brahms, _ = lines(order)
    page = client.get(order.get_absolute_url()).content.decode()
    assert f'href="/orders/{order.number}/return/"' in page and "Return items" in page

    response = open_return(client, order, **{f"line_{brahms.pk}": 1})
    ret = ReturnRequest.objects.get()
    assert response.redirect_chain[-1][0] == order.get_absolute_url()
    assert f"Return {ret.number} is open" in response.content.decode()
    assert ret.state == "opened" and ret.amount == Decimal("15.00") and ret.reason == "damaged"
    assert [(line.order_line_id, line.quantity) for line in ret.lines.all()] == [(brahms.pk, 1)]
    [email] = mail.outbox
    assert email.to == ["clara@example.com"]
    assert email.subject == f"Your return {ret.number} for Arkiv order {order.number}"
    assert "1 x Brahms: Symphony no. 4" in email.body and "15.00 EUR" in email.body
    assert f"Write {ret.number} on the parcel" in email.body
    assert f"Return {ret.number}" in client.get(order.get_absolute_url()).content.decode()


def test_a_guest_opens_a_return_from_their_order_page_only_while_it_is_valid(client, payment_sandbox, packer, settings):
    order = shipped(client, packer)  # a guest: no one is signed in
    brahms, _ = lines(order)
    assert open_return(client, order, **{f"line_{brahms.pk}": 2}).status_code == 200
    assert ReturnRequest.objects.get().amount == Decimal("30.00")

    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert client.get(f"/orders/{order.number}/return/").status_code == 404


def test_someone_elses_order_cannot_be_returned(client, order):
    brahms, _ = lines(order)
    stranger = Client()
    stranger.force_login(User.objects.create_user(email="mallory@example.com", password=PASSWORD))
    for visitor in (stranger, Client()):
        assert visitor.get(f"/orders/{order.number}/return/").status_code == 404
        posted = visitor.post(
            f"/orders/{order.number}/return/",
            {"token": "6f1c7f4e-8a36-4c36-a7a5-2f3d1f8f0b8e", "reason": "other", f"line_{brahms.pk}": 1},
        )
        assert posted.status_code == 404
    assert not ReturnRequest.objects.exists() and mail.outbox == []


def test_more_copies_than_bought_or_left_are_refused_with_a_clear_message(client, order):
    brahms, bach = lines(order)
    too_many = open_return(client, order, **{f"line_{brahms.pk}": 3})
    assert too_many.status_code == 400
    assert "You can return at most 2 of this item." in too_many.content.decode()

    open_return(client, order, **{f"line_{brahms.pk}": 1})
    again = open_return(client, order, **{f"line_{brahms.pk}": 2})
    assert again.status_code == 400 and "You can return at most 1 of this item." in again.content.decode()

    nothing = open_return(client, order)
    assert nothing.status_code == 400
    assert "Choose how many copies of at least one item you are returning." in nothing.content.decode()

    no_reason = client.post(
        f"/orders/{order.number}/return/", {**return_form(client, order, **{f"line_{bach.pk}": 1}), "reason": "bored"}
    )
    assert no_reason.status_code == 400 and "Select a valid choice" in no_reason.content.decode()
    assert ReturnRequest.objects.count() == 1 and len(mail.outbox) == 1


def test_the_service_refuses_more_than_is_left_whatever_the_form_said(client, order):
    brahms, _ = lines(order)
    returns.return_open(order=order, quantities={brahms.pk: 2}, reason="faulty", token="0" * 32)
    with pytest.raises(returns.ReturnError, match="every copy has already been returned"):
        returns.return_open(order=order, quantities={brahms.pk: 1}, reason="faulty", token="1" * 32)
    with pytest.raises(returns.ReturnError, match="not part of this order"):
        returns.return_open(order=order, quantities={brahms.pk + 1000: 1}, reason="faulty", token="2" * 32)


def test_the_window_is_14_days_from_delivery_as_the_terms_say_with_the_transit_allowance(client, order, settings):
    terms = PolicyDocument.objects.filter(kind="terms").order_by("-version").first()
    assert "within 14 days of delivery" in terms.body
    settings.RETURN_TRANSIT_DAYS = 7
    brahms, _ = lines(order)

    # Delivered (shipped + 7 days) 13 days ago: still open.
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now() - datetime.timedelta(days=20))
    assert client.get(f"/orders/{order.number}/return/").status_code == 200

    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now() - datetime.timedelta(days=21, hours=1))
    order.refresh_from_db()
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Return items" not in page
    refused = client.post(
        f"/orders/{order.number}/return/",
        {"token": "6f1c7f4e-8a36-4c36-a7a5-2f3d1f8f0b8e", "reason": "other", f"line_{brahms.pk}": 1},
    )
    assert refused.status_code == 403
    ended = timezone.localtime(order.shipped_at + datetime.timedelta(days=21))
    assert f"The return period for order {order.number} ended on {ended:%d %B %Y}" in refused.content.decode()
    assert not ReturnRequest.objects.exists()


def test_an_order_that_has_not_shipped_cannot_be_returned(client, clara, payment_sandbox, offers):
    url, order = checkout(client, offers)
    pay(url)
    payment_sync(order)
    response = client.get(f"/orders/{order.number}/return/")
    assert response.status_code == 403 and "has not shipped yet" in response.content.decode()


def test_the_same_return_form_sent_twice_opens_one_return(client, order):
    brahms, _ = lines(order)
    form = return_form(client, order, **{f"line_{brahms.pk}": 1})
    first = client.post(f"/orders/{order.number}/return/", form)
    second = client.post(f"/orders/{order.number}/return/", form)
    assert first.status_code == second.status_code == 302
    assert ReturnRequest.objects.count() == 1 and len(mail.outbox) == 1


def test_staff_receive_and_refund_the_returned_lines_value_once_and_the_customer_hears_each_step(
    client, order, packer, payment_sandbox
):
    brahms, bach = lines(order)
    open_return(client, order, **{f"line_{brahms.pk}": 1, f"line_{bach.pk}": 1})
    ret = ReturnRequest.objects.get()
    staff = staff_client(packer)

    listed = staff.get("/admin/orders/returnrequest/?state__exact=opened").content.decode()
    assert ret.number in listed and "Mark received" in listed
    assert ret.number not in staff.get("/admin/orders/returnrequest/?state__exact=received").content.decode()

    not_yet = staff.post(
        f"/admin/orders/returnrequest/{ret.pk}/refund/",
        action_form(staff, f"/admin/orders/returnrequest/{ret.pk}/refund/"),
        follow=True,
    )
    assert "has not been received yet" in not_yet.content.decode()

    received = staff.post(f"/admin/orders/returnrequest/{ret.pk}/receive/", follow=True).content.decode()
    assert f"Return {ret.number} marked received; customer emailed." in received
    assert mail.outbox[-1].subject == f"We have received your return {ret.number}"
    assert "We will refund 37.00 EUR" in mail.outbox[-1].body

    url = f"/admin/orders/returnrequest/{ret.pk}/refund/"
    form = action_form(staff, url)
    done = staff.post(url, form, follow=True).content.decode()
    assert f"Refunded 37.00 for return {ret.number}; customer emailed." in done
    again = staff.post(url, form, follow=True).content.decode()
    assert f"Already done: return {ret.number} was refunded (37.00)" in again
    fresh = staff.post(url, action_form(staff, url), follow=True).content.decode()  # a second staff member's form
    assert "Already done" in fresh

    refunds = [r["amount"] for r in payment_sandbox.refunds.values()]
    assert refunds == [3700]
    order.refresh_from_db()
    ret.refresh_from_db()
    assert order.status == Status.PARTIALLY_REFUNDED and order.amount_refunded == Decimal("37.00")
    assert ret.state == "refunded" and ret.refund.amount == Decimal("37.00") and ret.refund.by == packer
    assert [(li.quantity_refunded) for li in lines(order)] == [1, 1]
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count(f"Your return {ret.number} is refunded") == 1
    assert "We have refunded 37.00 EUR for your return" in mail.outbox[-1].body
    # One email for the refund: the return's, not the order's as well.
    assert not OrderEmail.objects.filter(order=order, kind="refunded").exists()
    assert "Refunded" in client.get(order.get_absolute_url()).content.decode()
    change = staff.get(f"/admin/orders/returnrequest/{ret.pk}/change/").content.decode()
    assert "The case was cracked." in change and "Brahms: Symphony no. 4" in change


def test_staff_mark_returns_received_from_the_list_once(client, order, packer):
    brahms, _ = lines(order)
    open_return(client, order, **{f"line_{brahms.pk}": 1})
    ret = ReturnRequest.objects.get()
    staff = staff_client(packer)
    for _ in range(2):
        staff.post(
            "/admin/orders/returnrequest/",
            {"action": "mark_received", "_selected_action": [ret.pk]},
        )
    ret.refresh_from_db()
    assert ret.state == "received" and ret.received_by == packer
    assert [m.subject for m in mail.outbox].count(f"We have received your return {ret.number}") == 1


def test_the_data_download_has_the_returns_and_erasure_removes_what_the_customer_wrote(client, clara, order):
    brahms, _ = lines(order)
    open_return(client, order, **{f"line_{brahms.pk}": 1})
    data = json.loads(client.get("/account/privacy/my-data.json").content)
    [ret] = data["orders"][0]["returns"]
    assert ret["details"] == "The case was cracked." and ret["lines"] == [
        {"item": "Brahms: Symphony no. 4", "quantity": 1}
    ]
    assert re.match(r"RT-[0-9A-Z]{8}$", ret["number"])

    privacy.account_erase(user=clara)
    assert ReturnRequest.objects.get().details == ""


def test_an_order_past_its_retention_date_is_purged_with_its_refunded_returns(client, order, packer):
    brahms, _ = lines(order)
    open_return(client, order, **{f"line_{brahms.pk}": 1})
    ret = ReturnRequest.objects.get()
    returns.return_mark_received(ret=ret, by=packer)
    staff = staff_client(packer)
    url = f"/admin/orders/returnrequest/{ret.pk}/refund/"
    staff.post(url, action_form(staff, url))
    assert ReturnRequest.objects.get().state == "refunded"

    Order.objects.filter(pk=order.pk).update(retain_until=datetime.date(2000, 1, 1))
    # The order's invoice and the refund's credit note are kept for their own retention
    # period, from the day they were issued; the order goes with them once that has passed.
    from orders.privacy_data import purge

    purge(timezone.localdate() + datetime.timedelta(days=365 * 11))
    assert not Order.objects.exists() and not ReturnRequest.objects.exists()


def privacy_purge():
    from orders.privacy_data import purge

    return purge(timezone.now().date())


def queries_of(client, url):
    """How many queries a page reads (the connection's log is emptied first: it keeps only
    the last 9,000, which a test that pays on the sandbox and ships can fill)."""
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_staff_list_of_returns_reads_the_same_number_of_queries_however_many_returns(client, order, packer):
    brahms, bach = lines(order)
    staff = staff_client(packer)
    open_return(client, order, **{f"line_{brahms.pk}": 1})
    one = queries_of(staff, "/admin/orders/returnrequest/")
    open_return(client, order, **{f"line_{brahms.pk}": 1})
    open_return(client, order, **{f"line_{bach.pk}": 1})
    # Guards against a query per row for its order.
    assert queries_of(staff, "/admin/orders/returnrequest/") == one
    assert staff.get("/admin/orders/returnrequest/").content.decode().count('class="field-number"') == 3
