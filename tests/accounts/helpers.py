"""What the account tests share: signing up through the pages, reading emailed links,
placing guest orders."""

import re
import uuid

from django.core import mail

from orders.cart import CartLine
from orders.services import order_place
from tests.factories import OfferFactory, checkout_details

PASSWORD = "a-long-passphrase"


def link_in(message):
    """The path of the email-proof link in an email."""
    return re.search(r"https?://[^/\s]+(/account/verify/\S+)", message.body).group(1)


def last_link_to(email):
    return link_in([m for m in mail.outbox if m.to == [email]][-1])


def sign_up(client, capture, email="clara@example.com", **extra):
    with capture(execute=True):
        return client.post("/account/sign-up/", {"email": email, "password1": PASSWORD, "password2": PASSWORD, **extra})


def prove(client, capture, link):
    """Open an emailed link and press its button."""
    assert client.get(link).status_code == 200
    with capture(execute=True):
        return client.post(link, follow=True)


def guest_order(email="clara@example.com"):
    offer = OfferFactory()
    return order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=None,
        checkout=checkout_details(email=email),
        checkout_token=uuid.uuid4(),
    )


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def without_csrf(html):
    """A page with its per-response CSRF tokens blanked, to compare two answers."""
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+"', r'\1"', html)
