"""Requests at the same moment: an emailed link still works once, and two sign-ups with
one address make one account and the same answer (row locks and the unique constraint
decide, on PostgreSQL)."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from accounts.models import User
from orders.models import Order
from tests import threads
from tests.accounts.helpers import PASSWORD, guest_order, last_link_to, signed_in_user_id

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(count, request):
    """Run request(client) from `count` browsers at the same moment; (response or error, client) pairs."""
    clients = [Client() for _ in range(count)]
    return list(zip(threads.at_once(count, lambda i: request(clients[i])), clients, strict=True))


def test_a_link_pressed_twice_at_once_proves_the_address_once(postgres):
    browser = Client()
    browser.post("/account/sign-up/", {"email": "clara@example.com", "password1": PASSWORD, "password2": PASSWORD})
    link = last_link_to("clara@example.com")

    def press(client):
        # Two tabs of the browser that signed up (only there does the link sign in).
        client.cookies[settings.SESSION_COOKIE_NAME] = browser.cookies[settings.SESSION_COOKIE_NAME].value
        return client.post(link)

    results = at_once(2, press)
    statuses = sorted(response.status_code for response, _ in results)
    assert statuses == [302, 400], results
    assert sum(1 for _, client in results if signed_in_user_id(client)) == 1
    assert User.objects.get().email_is_proven


def test_two_sign_ups_with_one_address_at_once_make_one_account_and_the_same_answer(postgres):
    data = {"email": "clara@example.com", "password1": PASSWORD, "password2": PASSWORD}
    results = at_once(4, lambda client: client.post("/account/sign-up/", data))
    answers = {(getattr(r, "status_code", r), getattr(r, "headers", {}).get("Location")) for r, _ in results}
    assert answers == {(302, "/account/sign-up/sent/")}
    assert User.objects.filter(email="clara@example.com").count() == 1
    assert all(m.to == ["clara@example.com"] for m in mail.outbox)


def test_guest_orders_attached_twice_at_once_are_attached_once(postgres):
    order = guest_order("clara@example.com")
    Client().post("/account/sign-up/", {"email": "clara@example.com", "password1": PASSWORD, "password2": PASSWORD})
    Client().post(last_link_to("clara@example.com"))
    user = User.objects.get()

    def attach(client):
        client.force_login(user)
        return client.post("/account/orders/guest-orders/", {"order": [order.number]}, follow=True)

    results = at_once(2, attach)
    pages = sorted("1 order added" in r.content.decode() for r, _ in results)
    assert pages == [False, True], [r if isinstance(r, str) else r.status_code for r, _ in results]
    assert any("No orders were added" in r.content.decode() for r, _ in results)
    assert Order.objects.get(pk=order.pk).customer == user
