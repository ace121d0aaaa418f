"""Addresses are checked, stored and printed the way the destination country writes them:
its required parts and postcode format at checkout, its line order and the country's
name on the order page, in the order emails and on the packing slip."""

import re

import pytest
from django.core import mail

from orders import addresses
from orders.models import Order
from orders.services import payment_sync
from tests.orders.helpers import pay, staff_client
from tests.orders.test_payments import CHECKOUT

pytestmark = pytest.mark.django_db

JAPAN = {
    "name": "Yamada Taro",
    "line1": "1-2-3 Jingumae",
    "city": "Shibuya-ku",
    "region": "Tokyo",
    "postcode": "150-0001",
    "country": "JP",
}
USA = {
    "name": "Leonard Bernstein",
    "line1": "1 Carnegie Hill",
    "city": "New York",
    "region": "NY",
    "postcode": "10128",
    "country": "US",
}
GERMANY = {
    "name": "Clara Schumann",
    "line1": "Wieckstraße 1",
    "city": "Leipzig",
    "postcode": "04109",
    "country": "DE",
}


def post_checkout(client, offers, *, billing, delivery=None, **extra):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    data = {k: v for k, v in CHECKOUT.items() if not k.startswith("billing_")}
    data |= {f"billing_{k}": v for k, v in billing.items()}
    if delivery:
        data["same_address"] = ""
        data |= {f"shipping_{k}": v for k, v in delivery.items()}
    return client.post("/checkout/", {**data, "checkout_token": token, **extra})


def field_errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def test_uk_postcode_is_stored_as_the_uk_writes_it(client, payment_sandbox, offers):
    uk = {
        "name": "Ada Lovelace",
        "line1": "10 Downing Street",
        "city": "London",
        "postcode": "sw1a1aa",
        "country": "GB",
    }
    response = post_checkout(client, offers, billing=uk)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.billing_postcode == "SW1A 1AA" and order.shipping_postcode == "SW1A 1AA"


def test_a_malformed_us_zip_code_is_refused_on_the_postcode_field(client, payment_sandbox, offers):
    response = post_checkout(client, offers, billing=USA | {"postcode": "1234"})
    assert response.status_code == 200
    assert field_errors(response, "billing_postcode") == [
        "Enter a ZIP code as written in United States of America (for example 95014, 22162-1010)."
    ]
    html = response.content.decode()
    summary = re.search(r'<div[^>]*id="error-summary".*?</div>', html, re.S).group(0)
    assert 'href="#id_billing_postcode"' in summary and "Enter a ZIP code" in summary
    assert not Order.objects.exists()


def test_a_us_delivery_address_needs_its_state(client, payment_sandbox, offers):
    response = post_checkout(client, offers, billing=GERMANY, delivery=USA | {"region": ""})
    assert response.status_code == 200
    assert field_errors(response, "shipping_region") == [
        "This field is required. An address in United States of America needs a state."
    ]
    assert not field_errors(response, "billing_region") and not Order.objects.exists()


def test_a_german_postcode_of_four_digits_is_refused(client, payment_sandbox, offers):
    response = post_checkout(client, offers, billing=GERMANY | {"postcode": "4109"})
    assert "as written in Germany" in field_errors(response, "billing_postcode")[0]
    assert not Order.objects.exists()


def test_country_select_shows_names_in_order_and_stores_the_code(client, payment_sandbox, offers):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    html = client.get("/checkout/").content.decode()
    select = re.search(r'<select name="billing_country".*?</select>', html, re.S).group(0)
    names = re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', select)
    assert len(names) > 200 and names == sorted(names, key=addresses.sort_key)
    assert names.index("Åland Islands") < names.index("Albania")
    assert '<option value="JP">Japan</option>' in select
    post_checkout(client, offers, billing=GERMANY, delivery=JAPAN)
    order = Order.objects.get()
    assert (order.billing_country, order.shipping_country) == ("DE", "JP")


def test_order_page_and_confirmation_email_print_each_address_in_its_country_order(
    client, payment_sandbox, offers, django_capture_on_commit_callbacks
):
    response = post_checkout(client, offers, billing=USA, delivery=JAPAN)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    pay(response["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        payment_sync(order)
    body = mail.outbox[-1].body
    # Japan: postcode first, then prefecture, town, street and the addressee last.
    assert "Delivery address:\n  〒150-0001\n  東京都\n  Shibuya-ku\n  1-2-3 Jingumae\n  Yamada Taro\n  Japan\n" in body
    # The United States: the state between the city and the ZIP code.
    assert (
        "Billing address:\n  Leonard Bernstein\n  1 Carnegie Hill\n  New York, NY 10128\n  United States of America\n"
        in body
    )
    html_part = mail.outbox[-1].alternatives[0][0]
    assert "〒150-0001<br>東京都<br>Shibuya-ku<br>1-2-3 Jingumae<br>Yamada Taro<br>Japan" in html_part
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert "<address>〒150-0001<br>東京都<br>Shibuya-ku<br>1-2-3 Jingumae<br>Yamada Taro<br>Japan</address>" in page
    assert (
        "<address>Leonard Bernstein<br>1 Carnegie Hill<br>New York, NY 10128<br>United States of America</address>"
        in page
    )


def test_order_page_and_packing_slip_print_a_german_address_postcode_before_town(
    client, payment_sandbox, offers, django_user_model
):
    from django.contrib.auth.models import Group

    response = post_checkout(client, offers, billing=GERMANY)
    order = Order.objects.get()
    assert response.status_code == 302
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert "<address>Clara Schumann<br>Wieckstraße 1<br>04109 Leipzig<br>Germany</address>" in page
    user = django_user_model.objects.create_user(email="packer@arkiv.example", password="x-long-pass", is_staff=True)
    user.groups.add(Group.objects.get(name="Fulfilment"))
    slip = staff_client(user).get(f"/admin/orders/order/{order.pk}/packing-slip/").content.decode()
    assert "<address>Clara Schumann<br>Wieckstraße 1<br>04109 Leipzig<br>Germany</address>" in slip
