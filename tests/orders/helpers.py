"""Helpers that act as the buyer's browser on the payment sandbox and as the processor
delivering webhooks, for tests that use Django's test client."""

import http.client
import json
from urllib.parse import urlencode, urlsplit

from orders.sandbox import sign


def pay(url, card="4242 4242 4242 4242", timeout=10):
    """Submit the sandbox's hosted payment page; returns (status, Location, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    body = urlencode({"card": card, "exp": "12 / 34", "cvc": "123", "name": "Clara Schumann"})
    conn.request("POST", parts.path, body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    return response.status, response.getheader("Location"), response.read().decode()


def deliver(client, event, secret="whsec_test_secret", signature=None):
    """POST an event to the shop's webhook as the processor would."""
    payload = json.dumps(event)
    return client.post(
        "/orders/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature or sign(payload, secret),
    )


def staff_client(user):
    """A browser signed in to the admin as `user`, through its second factor."""
    from django.test import Client

    from tests.conftest import staff_login

    client = Client()
    staff_login(client, user)
    return client


def action_form(client, url, **changes):
    """What a staff action page's form sends when submitted as shown (with its one-time
    token), with some fields changed."""
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    return {**data, **changes}
