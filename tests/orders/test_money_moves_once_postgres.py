"""Money moves once, proven with real concurrent requests through the admin: each staff
member (or each click) is its own thread with its own signed-in browser, lined up on a
barrier. The payment sandbox's own records say what happened at the processor."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from orders.models import Order, OrderEmail, OrderStatusChange, PaymentAction, Status
from orders.services import order_ship, payment_sync
from tests.factories import OfferFactory
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_payments import checkout
from tests.threads import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fulfilment(django_user_model):
    """Staff members who may ship, cancel and refund (by permission: the staff groups
    made by a data migration do not survive the flush between these tests)."""
    perms = Permission.objects.filter(
        content_type__app_label="orders",
        codename__in=["view_order", "change_order", "ship_order", "cancel_order", "refund_order"],
    )

    def make(name):
        user = django_user_model.objects.create_user(
            email=f"{name}@arkiv.example", password="a-long-passphrase", is_staff=True
        )
        user.user_permissions.set(perms)
        return user

    return make


@pytest.fixture
def paid_order(client, payment_sandbox, postgres):
    offers = OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)
    url, order = checkout(client, offers)
    pay(url)
    return payment_sync(order)


@pytest.fixture
def shipped_order(paid_order, fulfilment):
    return order_ship(paid_order, carrier="DHL", tracking_number="JD1", by=fulfilment("packer"))


def race(*posts):
    """Send every (client, url, data) at the same moment, each from its own thread;
    returns the page each browser ends on."""

    def send(i):
        client, url, data = posts[i]
        response = client.post(url, data, follow=True)
        return f"{response.status_code} {response.content.decode()}"

    return at_once(len(posts), send)


def sandbox_record(sandbox, order):
    """What the processor did to the order's payment, by its own account."""
    intent = sandbox.intents[order.payment_intent_id]
    kinds = {"payment_intent.succeeded": "captures", "payment_intent.canceled": "voids"}
    record = {"captures": 0, "voids": 0}
    for event in sandbox.events:
        if event["type"] in kinds and event["data"]["object"]["id"] == intent["id"]:
            record[kinds[event["type"]]] += 1
    record["refunds"] = sorted(r["amount"] for r in sandbox.refunds.values() if r["payment_intent"] == intent["id"])
    record["status"] = intent["status"]
    return record


def moves(order, to):
    return OrderStatusChange.objects.filter(order=order, to_status=to).count()


def emails(order, kind, subject):
    """(emails queued of this kind, emails sent whose subject says so) for the order."""
    return (
        OrderEmail.objects.filter(order=order, kind=kind).count(),
        sum(order.number in m.subject and subject in m.subject for m in mail.outbox),
    )


def test_refund_submitted_twice_at_once_refunds_once(shipped_order, payment_sandbox, fulfilment):
    staff = fulfilment("clara")
    url = f"/admin/orders/order/{shipped_order.pk}/refund/"
    form = action_form(staff_client(staff), url, amount="10.00", note="Scratched")
    pages = race((staff_client(staff), url, form), (staff_client(staff), url, form))

    assert sandbox_record(payment_sandbox, shipped_order)["refunds"] == [1000]
    order = Order.objects.get(pk=shipped_order.pk)
    assert order.status == Status.PARTIALLY_REFUNDED and order.amount_refunded == Decimal("10.00")
    assert moves(order, Status.PARTIALLY_REFUNDED) == 1
    assert emails(order, "refunded", "A refund for") == (1, 1)
    assert PaymentAction.objects.filter(order=order, kind="refund").count() == 1
    assert sum(f"Refunded 10.00 on {order.number}" in p for p in pages) == 1, pages
    assert sum("Already done: refund of 10.00" in p for p in pages) == 1, pages


def test_ship_double_clicked_captures_once_with_one_history_row_and_one_email(paid_order, payment_sandbox, fulfilment):
    staff = fulfilment("clara")
    url = f"/admin/orders/order/{paid_order.pk}/ship/"
    form = action_form(staff_client(staff), url, tracking_number="JD014600003")
    pages = race((staff_client(staff), url, form), (staff_client(staff), url, form))

    record = sandbox_record(payment_sandbox, paid_order)
    assert record["captures"] == 1 and record["status"] == "succeeded"
    order = Order.objects.get(pk=paid_order.pk)
    assert order.status == Status.SHIPPED and order.amount_captured == order.total
    assert moves(order, Status.SHIPPED) == 1
    assert emails(order, "shipped", "is on its way") == (1, 1)
    assert sum("shipped; payment captured" in p for p in pages) == 1, pages
    assert sum("Already done: capture of" in p for p in pages) == 1, pages


def test_ship_racing_cancel_gives_one_outcome_that_the_processor_agrees_with(paid_order, payment_sandbox, fulfilment):
    packer, manager = fulfilment("packer"), fulfilment("manager")
    ship, cancel = (f"/admin/orders/order/{paid_order.pk}/{action}/" for action in ("ship", "cancel"))
    ship_client, cancel_client = staff_client(packer), staff_client(manager)
    pages = race(
        (ship_client, ship, action_form(ship_client, ship, tracking_number="JD2")),
        (cancel_client, cancel, action_form(cancel_client, cancel, note="Customer called")),
    )

    record = sandbox_record(payment_sandbox, paid_order)
    order = Order.objects.get(pk=paid_order.pk)
    assert record["captures"] + record["voids"] == 1
    if order.status == Status.SHIPPED:
        assert record["status"] == "succeeded" and order.amount_captured == order.total
        assert "Not cancelled: Only paid, unshipped orders can be cancelled" in pages[1], pages
        assert "is Shipped since" in pages[1] and "packer@arkiv.example" in pages[1]
    else:
        assert order.status == Status.CANCELLED and record["status"] == "canceled"
        assert order.amount_captured == 0
        assert "Not shipped: Only paid orders can be shipped" in pages[0], pages
        assert "is Cancelled since" in pages[0] and "manager@arkiv.example" in pages[0]
    assert moves(order, Status.SHIPPED) + moves(order, Status.CANCELLED) == 1
    assert emails(order, "shipped", "is on its way")[0] + emails(order, "cancelled", "has been cancelled")[0] == 1
    assert len(mail.outbox) == 2  # the confirmation, and the one outcome
    assert PaymentAction.objects.filter(order=order).count() == 1


def test_two_staff_refunding_different_amounts_at_once_refund_once(shipped_order, payment_sandbox, fulfilment):
    first, second = staff_client(fulfilment("clara")), staff_client(fulfilment("robert"))
    url = f"/admin/orders/order/{shipped_order.pk}/refund/"
    # Both open the refund page before either sends it.
    forms = action_form(first, url, amount="10.00"), action_form(second, url, amount="20.00")
    pages = race((first, url, forms[0]), (second, url, forms[1]))

    record = sandbox_record(payment_sandbox, shipped_order)
    assert len(record["refunds"]) == 1 and record["refunds"][0] in (1000, 2000)
    order = Order.objects.get(pk=shipped_order.pk)
    assert order.amount_refunded * 100 == record["refunds"][0]
    assert moves(order, Status.PARTIALLY_REFUNDED) == 1
    assert emails(order, "refunded", "A refund for") == (1, 1)
    assert sum("Refunded " in p and "customer emailed" in p for p in pages) == 1, pages
    assert sum("Not refunded: While this form was open" in p for p in pages) == 1, pages
