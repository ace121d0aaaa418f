"""Helpers that act as the buyer's browser on the payment sandbox and as the processor
delivering webhooks, for tests that use Django's test client."""

import http.client
import json
import threading
import uuid
from urllib.parse import urlencode, urlsplit

from orders.sandbox import sign

# A checkout form as a German adult buyer fills it in: billing address, shipped there.
CHECKOUT = {
    "email": "clara@example.com",
    "phone": "+49 341 000000",
    "billing_name": "Clara Schumann",
    "billing_line1": "1 Wieck Street",
    "billing_city": "Leipzig",
    "billing_postcode": "04109",
    "billing_country": "DE",
    "same_address": "on",
    "shipping_method": "standard",
    "age": "adult",
}


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


def place_at_once(offers, *, emails, refused, placed="placed", **order):
    """One buyer per offer places an order at the same moment, each in its own thread and
    database connection (order_place's other arguments in `order`). Returns each buyer's
    outcome: `placed`, or the message of a `refused` exception."""
    from django.db import connection

    from catalog.models import Offer
    from orders.cart import CartLine
    from orders.services import order_place
    from tests.factories import checkout_details

    barrier = threading.Barrier(len(offers))
    outcomes = []

    def buy(i):
        try:
            fresh = Offer.objects.select_related("release").get(pk=offers[i].pk)
            barrier.wait()
            order_place(
                cart_lines=[CartLine(fresh, 1, fresh.price)],
                customer=None,
                checkout=checkout_details(email=emails[i]),
                checkout_token=uuid.uuid4(),
                **order,
            )
            outcomes.append(placed)
        except refused as exc:
            outcomes.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - any other failure is the test's finding
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(len(offers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
