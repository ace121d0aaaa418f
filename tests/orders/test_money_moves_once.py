"""Every staff money action acts once per form: the same form sent again is answered
"already done", a form opened before someone else acted is refused with what changed,
and the processor hears each action once. (Concurrent versions of these run on
PostgreSQL in test_money_moves_once_postgres.py.)"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from orders import gateway
from orders.models import PaymentAction, Status
from orders.services import order_ship, payment_sync
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_payments import checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def fulfilment(django_user_model):
    def make(name):
        user = django_user_model.objects.create_user(email=f"{name}@arkiv.example", password="x" * 16, is_staff=True)
        user.groups.add(Group.objects.get(name="Fulfilment"))
        return user

    return make


@pytest.fixture
def shipped_order(client, offers, payment_sandbox, fulfilment):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    return order_ship(payment_sync(order), carrier="DHL", tracking_number="JD1", by=fulfilment("packer"))


def refunds(sandbox, order):
    return sorted(r["amount"] for r in sandbox.refunds.values() if r["payment_intent"] == order.payment_intent_id)


def test_the_same_refund_form_sent_twice_refunds_once_and_says_already_done(
    shipped_order, payment_sandbox, fulfilment, django_capture_on_commit_callbacks
):
    staff = staff_client(fulfilment("clara"))
    url = f"/admin/orders/order/{shipped_order.pk}/refund/"
    form = action_form(staff, url, amount="10.00")
    with django_capture_on_commit_callbacks(execute=True):
        first = staff.post(url, form, follow=True).content.decode()
        second = staff.post(url, form, follow=True).content.decode()
    assert f"Refunded 10.00 on {shipped_order.number}" in first
    assert "Already done: refund of 10.00" in second and "clara@arkiv.example" in second
    shipped_order.refresh_from_db()
    assert shipped_order.amount_refunded == Decimal("10.00")
    assert refunds(payment_sandbox, shipped_order) == [1000]
    assert shipped_order.history.filter(to_status=Status.PARTIALLY_REFUNDED).count() == 1
    assert sum(m.subject.startswith("A refund for") for m in mail.outbox) == 1


def test_the_same_refund_form_sent_again_with_another_amount_is_already_done(
    shipped_order, payment_sandbox, fulfilment
):
    staff = staff_client(fulfilment("clara"))
    url = f"/admin/orders/order/{shipped_order.pk}/refund/"
    form = action_form(staff, url, amount="10.00")
    staff.post(url, form)
    second = staff.post(url, {**form, "amount": "25.00"}, follow=True).content.decode()
    assert "Already done: refund of 10.00" in second
    shipped_order.refresh_from_db()
    assert shipped_order.amount_refunded == Decimal("10.00") and refunds(payment_sandbox, shipped_order) == [1000]


def test_a_refund_form_opened_before_another_refund_went_through_is_refused(shipped_order, payment_sandbox, fulfilment):
    clara, robert = staff_client(fulfilment("clara")), staff_client(fulfilment("robert"))
    url = f"/admin/orders/order/{shipped_order.pk}/refund/"
    claras, roberts = action_form(clara, url, amount="10.00"), action_form(robert, url, amount="20.00")
    clara.post(url, claras)
    page = robert.post(url, roberts, follow=True).content.decode()
    assert "Not refunded: While this form was open, 10.00 more was refunded" in page
    shipped_order.refresh_from_db()
    assert shipped_order.amount_refunded == Decimal("10.00") and refunds(payment_sandbox, shipped_order) == [1000]
    # Opened again, the form knows about the first refund and goes through.
    robert.post(url, action_form(robert, url, amount="20.00"))
    shipped_order.refresh_from_db()
    assert shipped_order.amount_refunded == Decimal("30.00") and refunds(payment_sandbox, shipped_order) == [1000, 2000]


def test_a_money_form_without_its_one_time_token_is_refused_as_out_of_date(client, offers, payment_sandbox, fulfilment):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    order = payment_sync(order)
    staff = staff_client(fulfilment("clara"))
    for token in ({}, {"token": "not-a-token"}):
        response = staff.post(
            f"/admin/orders/order/{order.pk}/ship/", {"carrier": "DHL", "tracking_number": "X", **token}
        )
        body = response.content.decode()
        assert response.status_code == 200 and "This form is out of date" in body and "Hidden field" not in body
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED and not PaymentAction.objects.exists()
    assert payment_sandbox.intents[order.payment_intent_id]["status"] == "requires_capture"


def test_a_form_token_used_for_one_action_does_nothing_for_another(shipped_order, payment_sandbox, fulfilment):
    staff = staff_client(fulfilment("clara"))
    url = f"/admin/orders/order/{shipped_order.pk}/refund/"
    used = PaymentAction.objects.get(order=shipped_order).token  # the capture's token
    page = staff.post(url, action_form(staff, url, amount="5.00", token=used), follow=True).content.decode()
    assert "already used for another action" in page
    assert refunds(payment_sandbox, shipped_order) == []


def test_a_capture_the_processor_refuses_is_reported_and_nothing_is_recorded(
    client, offers, payment_sandbox, fulfilment
):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    order = payment_sync(order)
    gateway.void(order.payment_intent_id, key="voided-in-the-processor-dashboard")
    staff = staff_client(fulfilment("clara"))
    url = f"/admin/orders/order/{order.pk}/ship/"
    page = staff.post(url, action_form(staff, url, tracking_number="JD9"), follow=True).content.decode()
    assert "Not shipped: the payment processor refused:" in page and "status of canceled" in page
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED and not order.payment_actions.exists()
