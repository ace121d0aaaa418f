"""Every kind of page works in a real browser under the shop's Content-Security-Policy:
nothing it needs is blocked (the autouse check in conftest fails on any violation), and
script injected into a page does not run."""

import re
import uuid

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from orders.cart import CartLine
from orders.services import order_place
from tests.accounts.test_staff_2fa import code_for
from tests.factories import ComposerFactory, OfferFactory, checkout_details

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"


@pytest.fixture
def shop(django_user_model):
    offer = OfferFactory(stock=5)
    customer = django_user_model.objects.create_user(email="clara@example.com", password=PASSWORD)
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=customer,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    ops = django_user_model.objects.create_superuser(email="ops@arkiv.example", password=PASSWORD)
    TOTPDevice.objects.create(user=ops, name="Authenticator app", confirmed=True)
    return offer, order


def sign_in(page, path, email):
    page.goto(path)
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")


def visit(page, path, status=200):
    response = page.goto(path)
    assert response.status == status, path
    assert "script-src 'self';" in response.headers["content-security-policy"] + ";", path


def test_shopper_pages_work_under_the_policy(page, shop):
    offer, order = shop
    composer = ComposerFactory()  # transactional tests start without the Open Opus rows
    for path in ["/", "/composers/", composer.get_absolute_url(), "/search/?q=bach", "/privacy/", "/contact/"]:
        visit(page, path)
    visit(page, offer.release.get_absolute_url())
    page.fill(f"#qty-{offer.pk}", "2")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_selector(".alert-success")
    visit(page, "/cart/")
    visit(page, "/checkout/")
    page.get_by_label("I am under 18").check()  # the checkout script shows the guardian's fields
    assert page.locator("#guardian-fields").is_visible()
    page.set_viewport_size({"width": 600, "height": 900})  # Bootstrap's menu toggle
    page.locator(".navbar-toggler").click()
    page.get_by_role("link", name="Composers", exact=True).first.wait_for(state="visible")
    visit(page, "/no-such-page/", status=404)
    visit(page, "/search/?q=%00", status=400)

    sign_in(page, "/account/sign-in/", "clara@example.com")
    for path in ["/account/", "/account/orders/", f"/orders/{order.number}/", "/account/privacy/"]:
        visit(page, path)


def test_staff_admin_works_under_the_policy(page, shop):
    _, order = shop
    visit(page, "/admin/login/")
    page.fill("input[name=username]", "ops@arkiv.example")
    page.fill("input[name=password]", PASSWORD)
    if not page.locator("input[name=otp_token]").count():  # the code is asked for after the password
        with page.expect_navigation():
            page.locator("input[name=password]").press("Enter")
        page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=otp_token]", code_for(TOTPDevice.objects.get()))
    with page.expect_navigation():
        page.locator("input[name=otp_token]").press("Enter")
    assert "Shop administration" in page.content()
    for path in [
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        f"/admin/orders/order/{order.pk}/packing-slip/",
        "/admin/catalog/release/",
    ]:
        visit(page, path)
    visit(page, f"/admin/catalog/release/{order.lines.first().offer.release_id}/change/")
    page.locator(".select2-selection").first.click()  # the label's autocomplete
    page.wait_for_selector(".select2-results__option")


def test_script_injected_into_a_page_does_not_run(page, shop, csp_violations):
    visit(page, "/")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.body.appendChild(script);
        }"""
    )
    page.wait_for_function("() => true")
    assert page.evaluate("() => window.injected === undefined")
    assert any(re.search("script-src", violation) for violation in csp_violations)
    csp_violations.clear()  # the one violation this test provoked on purpose


def test_structured_data_is_not_script_and_stays_readable(page, shop, csp_violations):
    # JSON-LD for search engines is a data block: the policy neither runs nor blocks it.
    visit(page, "/")
    found = page.evaluate(
        """() => {
          const data = document.createElement("script");
          data.type = "application/ld+json";
          data.textContent = '{"@type": "MusicAlbum", "name": "Cello Suites"}';
          document.head.appendChild(data);
          return JSON.parse(document.querySelector("script[type='application/ld+json']").textContent).name;
        }"""
    )
    assert found == "Cello Suites"
    assert csp_violations == []
