"""One table of legal moves; one function that moves; a history row per move."""

import datetime
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Offer
from orders.cart import CartLine
from orders.models import Order, Status
from orders.services import TRANSITIONS, IllegalTransition, order_place, order_transition, orders_expire_unpaid
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    offer = OfferFactory(stock=4)
    return order_place(
        cart_lines=[CartLine(offer, 3, offer.price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )


def test_every_status_is_in_the_table_and_final_states_have_no_moves():
    assert set(TRANSITIONS) == set(Status)
    for final in (Status.REFUNDED, Status.PAYMENT_FAILED, Status.EXPIRED, Status.CANCELLED):
        assert TRANSITIONS[final] == set()


@pytest.mark.parametrize("target", [Status.SHIPPED, Status.REFUNDED, Status.CANCELLED, Status.PARTIALLY_REFUNDED])
def test_illegal_moves_are_refused_and_leave_no_trace(order, target):
    with pytest.raises(IllegalTransition):
        order_transition(order, target)
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT and order.history.count() == 1


def test_each_move_is_recorded_with_who_and_when(order, django_user_model):
    staff = django_user_model.objects.create_user(email="ops@arkiv.example", password="x" * 12, is_staff=True)
    order_transition(order, Status.AUTHORISED, note="Card authorised")
    order_transition(order, Status.CANCELLED, by=staff, note="Customer asked")
    history = list(order.history.values_list("from_status", "to_status", "by__email", "note"))
    assert history == [
        ("", "pending_payment", None, ""),
        ("pending_payment", "authorised", None, "Card authorised"),
        ("authorised", "cancelled", "ops@arkiv.example", "Customer asked"),
    ]
    assert all(h.at for h in order.history.all())


@pytest.mark.parametrize("target", [Status.PAYMENT_FAILED, Status.EXPIRED])
def test_failure_and_expiry_return_the_stock(order, target):
    offer = order.lines.get().offer
    assert Offer.objects.get(pk=offer.pk).stock == 1
    order_transition(order, target)
    assert Offer.objects.get(pk=offer.pk).stock == 4


def test_cancellation_returns_the_stock_and_emails_after_commit(order, django_capture_on_commit_callbacks):
    offer = order.lines.get().offer
    order_transition(order, Status.AUTHORISED)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order, Status.CANCELLED)
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert Offer.objects.get(pk=offer.pk).stock == 4
    assert [m.subject for m in mail.outbox] == [f"Your Arkiv order {order.number} has been cancelled"]


def test_unpaid_orders_expire_after_their_time(order):
    assert orders_expire_unpaid() == 0
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert orders_expire_unpaid() == 1
    order.refresh_from_db()
    assert order.status == Status.EXPIRED
    assert Offer.objects.get(pk=order.lines.get().offer_id).stock == 4
