"""Every page carries a Content-Security-Policy that allows only our own scripts, styles
and forms (no third party, no inline code: promise P2) and a Permissions-Policy that
turns off the browser's sensors and payment features; and every page is built so that it
works under that policy (no inline script, handler or style for the browser to block)."""

import uuid
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group

from orders.cart import CartLine
from orders.services import order_place
from tests.conftest import staff_login
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"

PUBLIC_PAGES = [
    "/",
    "/composers/",
    "/composers/beethoven/",
    "/composers/period/baroque/",
    "/genres/orchestral/",
    "/artists/",
    "/labels/",
    "/releases/",
    "/search/?q=bach",
    "/account/sign-in/",
    "/account/sign-up/",
    "/account/password-reset/",
]
PRIVACY_PAGES = ["/privacy/", "/terms/", "/policies/privacy/v1/", "/contact/", "/cookies/"]
ACCOUNT_PAGES = [
    "/account/",
    "/account/name/",
    "/account/email/",
    "/account/password/",
    "/account/addresses/new/",
    "/account/orders/",
    "/account/privacy/",
    "/account/privacy/delete/",
]
DISABLED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "display-capture", "serial", "hid"]


def csp_of(response):
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.status_code} without a Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


class InlineCode(HTMLParser):
    """Collects what a strict policy would block: inline scripts, on* handlers,
    javascript: links, <style> elements and style attributes."""

    DATA_SCRIPTS = {"application/json", "application/ld+json"}

    def __init__(self):
        super().__init__()
        self.found = []
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") not in self.DATA_SCRIPTS:
            self._inline_script = True
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_data(self, data):
        if self._inline_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False


def assert_strict(response, url, *, form_action=("'self'",)):
    csp = csp_of(response)
    assert csp["default-src"] == {"'self'"}, url
    assert csp["script-src"] == {"'self'"}, url
    assert csp["style-src"] == {"'self'"}, url
    assert csp["img-src"] == {"'self'", "data:"}, url
    assert csp["object-src"] == {"'none'"}, url
    assert csp["base-uri"] == {"'self'"}, url
    assert csp["frame-ancestors"] == {"'none'"}, url
    assert csp["form-action"] == set(form_action), url
    permissions = response.headers.get("Permissions-Policy", "")
    for feature in DISABLED_FEATURES:
        assert f"{feature}=()" in permissions, (url, feature)
    if "text/html" in response.headers.get("Content-Type", ""):
        parser = InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], (url, parser.found)


@pytest.fixture
def customer(django_user_model):
    user = django_user_model.objects.create_user(email="clara@example.com", password=PASSWORD, full_name="Clara")
    offer = OfferFactory(stock=5)
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=user,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    return user, order


def test_public_and_privacy_pages_allow_only_our_own_code_and_no_browser_features(client):
    offer = OfferFactory(stock=5)
    release = offer.release
    for url in [*PUBLIC_PAGES, *PRIVACY_PAGES, release.get_absolute_url(), f"/labels/{release.label.slug}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)


def test_cart_and_checkout_allow_only_the_payment_page_as_a_form_target(client, settings):
    settings.STRIPE_API_BASE = ""
    offer = OfferFactory(stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    assert_strict(client.get("/cart/"), "/cart/")
    checkout = client.get("/checkout/")
    assert checkout.status_code == 200
    # Checkout answers its form with a redirect to the processor's hosted page.
    assert_strict(checkout, "/checkout/", form_action=("'self'", "https://checkout.stripe.com"))


def test_checkout_names_the_payment_sandbox_when_the_shop_pays_there(client, payment_sandbox):
    offer = OfferFactory(stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    assert_strict(client.get("/checkout/"), "/checkout/", form_action=("'self'", payment_sandbox.public_url))


def test_account_and_order_pages_are_under_the_same_policy(client, customer):
    user, order = customer
    client.force_login(user)
    for url in [*ACCOUNT_PAGES, f"/orders/{order.number}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)


def test_error_pages_are_under_the_same_policy(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_strict(response, "404")
    response = client.get("/search/?q=%00")
    assert response.status_code == 400
    assert_strict(response, "400")


def test_the_admin_works_under_the_same_policy(client, django_user_model, customer):
    _, order = customer
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert_strict(response, "/admin/login/")
    staff = django_user_model.objects.create_user(email="ops@arkiv.example", password=PASSWORD, is_staff=True)
    staff.groups.add(Group.objects.get(name="Fulfilment"))
    staff_login(client, staff)
    for url in [
        "/admin/",
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        f"/admin/orders/order/{order.pk}/packing-slip/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)
