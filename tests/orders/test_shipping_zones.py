"""Shipping costs depend on where the parcel goes: the delivery country's zone sets the
price and the free-from threshold, staff change them in the admin, and the buyer sees
them on the cart, at checkout and on the public shipping page before paying."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from orders.models import Order, ShippingRate, ShippingZone
from tests.orders.helpers import staff_client
from tests.orders.test_addresses import GERMANY, USA, post_checkout

pytestmark = pytest.mark.django_db

UK = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postcode": "SW1Y 4LB",
    "country": "GB",
}


def rate(zone, method="standard"):
    return ShippingRate.objects.get(zone__name=zone, method=method)


def cart_shipping(html):
    label = re.search(r'id="cart-shipping-label">([^<]*)<', html).group(1).strip()
    cost = re.search(r'id="cart-shipping">([^<]*)<', html).group(1)
    total = re.search(r'id="cart-total">([^<]*)<', html).group(1)
    return label, cost, total


def test_a_german_delivery_pays_the_eu_rate(client, payment_sandbox, offers):
    ShippingRate.objects.filter(zone__name="European Union", method="standard").update(price=Decimal("7.50"))
    response = post_checkout(client, offers, billing=UK, delivery=GERMANY)
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.shipping_cost, order.total) == (Decimal("7.50"), Decimal("22.50"))


def test_a_uk_delivery_pays_the_domestic_rate_the_shop_charged_before_zones(client, payment_sandbox, offers):
    response = post_checkout(client, offers, billing=GERMANY, delivery=UK)
    assert response.status_code == 302
    assert Order.objects.get().shipping_cost == Decimal("4.95")


def test_a_us_delivery_pays_the_rest_of_the_world_rate(client, payment_sandbox, offers):
    response = post_checkout(client, offers, billing=USA, shipping_method="express")
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.shipping_country, order.shipping_cost, order.total) == ("US", Decimal("29.95"), Decimal("44.95"))


def test_free_shipping_threshold_applies_per_zone(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 4})  # 60.00
    home = client.get("/cart/?country=GB").content.decode()
    assert cart_shipping(home) == ("Standard (3-5 working days) to United Kingdom", "free", "€60.00")
    abroad = client.get("/cart/?country=US").content.decode()
    assert cart_shipping(abroad) == ("Standard (3-5 working days) to United States of America", "€14.95", "€74.95")
    ShippingRate.objects.filter(zone__rest_of_world=True, method="standard").update(free_from=Decimal("50.00"))
    assert cart_shipping(client.get("/cart/?country=US").content.decode())[1:] == ("free", "€60.00")


def test_cart_prices_shipping_for_the_chosen_country_and_checkout_starts_there(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    html = client.get("/cart/").content.decode()
    assert cart_shipping(html) == (
        "Standard (3-5 working days) to United Kingdom (free from €60.00)",
        "€4.95",
        "€19.95",
    )
    assert (
        '<form method="get" action="/cart/"' in html
        and '<label class="form-label" for="id_delivery_country">Delivery to</label>' in html
    )
    assert '<option value="JP">Japan</option>' in html
    html = client.get("/cart/?country=jp").content.decode()
    assert cart_shipping(html) == ("Standard (3-5 working days) to Japan", "€14.95", "€29.95")
    assert '<option value="JP" selected>Japan</option>' in html
    checkout = client.get("/checkout/").content.decode()
    assert 'id="summary-country">Japan<' in checkout and 'id="summary-shipping">€14.95<' in checkout
    assert '<option value="JP" selected>Japan</option>' in checkout


def test_cart_refuses_an_unknown_country_with_a_message(client, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    response = client.get("/cart/?country=Narnia")
    assert response.status_code == 400
    assert "Choose a country from the list to see its shipping costs." in response.content.decode()
    assert cart_shipping(response.content.decode())[1] == "€4.95"  # still priced for the shop's country


def test_a_method_not_offered_to_the_destination_is_refused_and_nothing_is_lost(client, payment_sandbox, offers):
    ShippingRate.objects.filter(zone__rest_of_world=True, method="express").update(active=False)
    response = post_checkout(client, offers, billing=USA, shipping_method="express")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Express (next working day) is not offered for delivery to United States of America." in html
    assert "Express (next working day) – not offered to United States of America" in html
    assert 'value="Leonard Bernstein"' in html and 'value="10128"' in html  # the form as sent
    assert not Order.objects.exists() and client.session["cart_count"] == 1
    again = post_checkout(client, offers, billing=USA, shipping_method="standard")
    assert again.status_code == 302 and Order.objects.get().shipping_cost == Decimal("14.95")


def test_a_country_no_zone_serves_is_told_so(client, payment_sandbox, offers):
    ShippingZone.objects.filter(rest_of_world=True).delete()
    response = post_checkout(client, offers, billing=USA)
    assert response.status_code == 400
    assert "We do not ship to United States of America yet." in response.content.decode()
    assert not Order.objects.exists()


def test_staff_change_a_rate_in_the_admin_and_the_cart_and_checkout_show_it(client, offers, django_user_model):
    user = django_user_model.objects.create_user(email="dispatch@arkiv.example", password="x-long-pass", is_staff=True)
    user.groups.add(Group.objects.get(name="Fulfilment"))
    staff = staff_client(user)
    zone = ShippingZone.objects.get(name="Domestic")
    standard, express = rate("Domestic"), rate("Domestic", "express")
    url = f"/admin/orders/shippingzone/{zone.pk}/change/"
    assert staff.get(url).status_code == 200
    response = staff.post(
        url,
        {
            "name": "Domestic",
            "countries": ["GB"],
            "position": "0",
            "rates-TOTAL_FORMS": "2",
            "rates-INITIAL_FORMS": "2",
            "rates-MIN_NUM_FORMS": "0",
            "rates-MAX_NUM_FORMS": "1000",
            "rates-0-id": standard.pk,
            "rates-0-zone": zone.pk,
            "rates-0-method": "standard",
            "rates-0-price": "3.50",
            "rates-0-free_from": "",
            "rates-0-active": "on",
            "rates-1-id": express.pk,
            "rates-1-zone": zone.pk,
            "rates-1-method": "express",
            "rates-1-price": "9.00",
            "rates-1-free_from": "",
            "rates-1-active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 4})  # 60.00: no longer free
    assert cart_shipping(client.get("/cart/?country=GB").content.decode()) == (
        "Standard (3-5 working days) to United Kingdom",
        "€3.50",
        "€63.50",
    )
    checkout = client.get("/checkout/").content.decode()
    assert 'id="summary-shipping">€3.50<' in checkout and "Express (next working day) – €9.00" in checkout


def test_admin_refuses_a_country_in_two_zones(offers, django_user_model):
    user = django_user_model.objects.create_user(email="dispatch@arkiv.example", password="x-long-pass", is_staff=True)
    user.groups.add(Group.objects.get(name="Fulfilment"))
    staff = staff_client(user)
    response = staff.post(
        "/admin/orders/shippingzone/add/",
        {
            "name": "Germany and Japan",
            "countries": ["DE", "JP"],
            "position": "5",
            "rates-TOTAL_FORMS": "0",
            "rates-INITIAL_FORMS": "0",
            "rates-MIN_NUM_FORMS": "0",
            "rates-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "Already in another zone: Germany (European Union)." in response.content.decode()
    assert not ShippingZone.objects.filter(name="Germany and Japan").exists()


def test_shipping_page_lists_every_zone_and_rate_and_the_footer_links_it(client):
    home = client.get("/").content.decode()
    assert '<a href="/shipping/">Shipping costs</a>' in home
    html = client.get("/shipping/").content.decode()
    domestic = re.search(r'<section[^>]*aria-labelledby="zone-\d+">\s*<h2[^>]*>Domestic</h2>.*?</section>', html, re.S)
    assert domestic and "United Kingdom" in domestic.group(0)
    assert "€4.95" in domestic.group(0) and "orders of €60.00 or more" in domestic.group(0)
    eu = re.search(r"<h2[^>]*>European Union</h2>.*?</section>", html, re.S).group(0)
    assert "Austria, Belgium, Bulgaria" in eu and "United Kingdom" not in eu
    world = re.search(r"<h2[^>]*>Rest of the world</h2>.*?</section>", html, re.S).group(0)
    assert "Every country not listed elsewhere" in world and "€14.95" in world and "€29.95" in world


def test_shipping_page_reads_zones_and_rates_in_two_queries_however_many_zones(client, django_assert_num_queries):
    # Guards the N+1 of one rates query per zone.
    for n in range(5):
        zone = ShippingZone.objects.create(name=f"Zone {n}", countries=[["NO", "CH", "IS", "LI", "SM"][n]], position=9)
        ShippingRate.objects.create(zone=zone, method="standard", price=Decimal("9.00"))
    with django_assert_num_queries(2):
        html = client.get("/shipping/").content.decode()
    assert html.count("<section") == 8 and "Liechtenstein" in html
