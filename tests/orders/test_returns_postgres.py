"""A return is refunded once and never over-returned, proven with real concurrent
requests on PostgreSQL: each click or staff member is its own thread with its own
signed-in browser, lined up on a barrier; the payment sandbox says what it refunded."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client

from orders import returns
from orders.models import Order, OrderLine, PaymentAction, ReturnRequest, Status
from orders.services import order_ship, payment_sync
from tests.factories import OfferFactory
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_money_moves_once_postgres import race
from tests.orders.test_payments import checkout
from tests.threads import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fulfilment(django_user_model):
    perms = Permission.objects.filter(
        content_type__app_label="orders",
        codename__in=["view_order", "change_order", "refund_order", "view_returnrequest", "change_returnrequest"],
    )

    def make(name):
        user = django_user_model.objects.create_user(
            email=f"{name}@arkiv.example", password="a-long-passphrase", is_staff=True
        )
        user.user_permissions.set(perms)
        return user

    return make


@pytest.fixture
def buyer():
    return Client()


@pytest.fixture
def shipped_order(buyer, payment_sandbox, postgres, fulfilment):
    offers = OfferFactory(price=Decimal("15.00"), stock=5), OfferFactory(price=Decimal("22.00"), stock=2)
    url, order = checkout(buyer, offers)
    pay(url)
    return order_ship(payment_sync(order), carrier="DHL", tracking_number="JD1", by=fulfilment("packer"))


@pytest.fixture
def received_return(shipped_order, fulfilment):
    line = OrderLine.objects.filter(order=shipped_order).order_by("unit_price").first()
    ret = returns.return_open(
        order=shipped_order, quantities={line.pk: 2}, reason="faulty", token="9" * 32
    )  # two copies at 15.00
    returns.return_mark_received(ret=ret, by=fulfilment("receiver"))
    mail.outbox.clear()
    return ret


def refunds_at_processor(sandbox, order):
    order.refresh_from_db()
    return sorted(r["amount"] for r in sandbox.refunds.values() if r["payment_intent"] == order.payment_intent_id)


def test_refund_double_clicked_refunds_the_return_once(received_return, shipped_order, payment_sandbox, fulfilment):
    staff = fulfilment("clara")
    url = f"/admin/orders/returnrequest/{received_return.pk}/refund/"
    form = action_form(staff_client(staff), url)
    pages = race((staff_client(staff), url, form), (staff_client(staff), url, form))

    assert refunds_at_processor(payment_sandbox, shipped_order) == [3000]
    order = Order.objects.get(pk=shipped_order.pk)
    assert order.status == Status.PARTIALLY_REFUNDED and order.amount_refunded == Decimal("30.00")
    assert PaymentAction.objects.filter(order=order, kind="refund").count() == 1
    assert ReturnRequest.objects.get(pk=received_return.pk).state == "refunded"
    assert [m.subject for m in mail.outbox] == [f"Your return {received_return.number} is refunded"]
    assert sum(f"Refunded 30.00 for return {received_return.number}" in p for p in pages) == 1, pages
    assert sum("Already done" in p for p in pages) == 1, pages


def test_two_staff_refunding_the_same_return_at_once_refund_it_once(
    received_return, shipped_order, payment_sandbox, fulfilment
):
    first, second = staff_client(fulfilment("clara")), staff_client(fulfilment("robert"))
    url = f"/admin/orders/returnrequest/{received_return.pk}/refund/"
    # Both open the refund page before either sends it: two different one-time tokens.
    forms = action_form(first, url), action_form(second, url)
    pages = race((first, url, forms[0]), (second, url, forms[1]))

    assert refunds_at_processor(payment_sandbox, shipped_order) == [3000]
    order = Order.objects.get(pk=shipped_order.pk)
    assert order.amount_refunded == Decimal("30.00")
    line = OrderLine.objects.filter(order=order).order_by("unit_price").first()
    assert line.quantity_refunded == 2
    assert PaymentAction.objects.filter(order=order, kind="refund").count() == 1
    assert len(mail.outbox) == 1
    assert sum("Already done: return" in p and "Nothing was refunded twice" in p for p in pages) == 1, pages


def test_two_returns_opened_at_once_never_return_more_copies_than_were_bought(shipped_order, buyer):
    line = OrderLine.objects.filter(order=shipped_order).order_by("unit_price").first()  # 2 copies bought

    def open_one(i):
        try:
            return returns.return_open(
                order=shipped_order, quantities={line.pk: 2}, reason="changed_mind", token=f"{i}" * 32
            ).number
        except returns.ReturnError as exc:
            return str(exc)

    outcomes = at_once(2, open_one)
    assert ReturnRequest.objects.count() == 1
    assert sum(o.startswith("RT-") for o in outcomes) == 1, outcomes
    assert sum("every copy has already been returned" in o for o in outcomes) == 1, outcomes
