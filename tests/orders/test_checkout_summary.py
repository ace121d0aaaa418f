"""The buyer sees what they will pay: the cart shows the total with shipping, and the
checkout summary follows the shipping method they chose (here without JavaScript: the
page sent back after a submit is recomputed by the server)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def summary_of(html):
    """The checkout summary's shipping row and total, as the page shows them."""
    label = re.search(r'id="summary-shipping-label">([^<]*)<', html).group(1)
    shipping = re.search(r'id="summary-shipping">([^<]*)<', html).group(1)
    total = re.search(r'id="summary-total"[^>]*>([^<]*)<', html).group(1)
    return label, shipping, total


def test_cart_shows_the_total_with_standard_shipping(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 2})
    html = client.get("/cart/").content.decode()
    assert re.search(r'id="cart-total">€34\.95<', html)  # 2 × 15.00 + 4.95


def test_cart_total_has_free_shipping_from_the_threshold(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 4})
    html = client.get("/cart/").content.decode()
    assert re.search(r'id="cart-total">€60\.00<', html)


def test_checkout_summary_starts_with_standard_shipping(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    html = client.get("/checkout/").content.decode()
    assert summary_of(html) == ("Standard (3-5 working days)", "€4.95", "€19.95")


def test_checkout_summary_follows_the_method_sent_with_a_refused_form(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    response = client.post("/checkout/", {"checkout_token": token, "shipping_method": "express"})
    assert response.status_code == 200  # the form comes back with its errors
    assert summary_of(response.content.decode()) == ("Express (next working day)", "€12.95", "€27.95")


def test_checkout_summary_ignores_an_unknown_shipping_method(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    response = client.post("/checkout/", {"checkout_token": token, "shipping_method": "teleport"})
    assert response.status_code == 200
    assert summary_of(response.content.decode()) == ("Standard (3-5 working days)", "€4.95", "€19.95")


def test_refused_checkout_lists_each_problem_with_a_link_to_its_field(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    html = client.post("/checkout/", {"checkout_token": token, "same_address": "on"}).content.decode()
    summary = re.search(r'<div[^>]*id="error-summary".*?</div>', html, re.S).group(0)
    assert 'role="alert"' in summary
    assert '<a class="alert-link" href="#id_email">Your email address: This field is required.</a>' in summary
    assert 'href="#id_billing_postcode"' in summary and 'href="#id_age_0"' in summary
    assert 'aria-invalid="true" aria-describedby="id_email_helptext id_email_error" id="id_email"' in html
