"""Every kind of page meets WCAG 2.2 AA as far as axe-core can tell in a real browser,
and the things axe cannot judge (distinct labels, announced errors, a skip link,
visible focus, narrow screens and zoom) are checked by hand here."""

import uuid
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe

from catalog.models import Role
from orders.cart import CartLine
from orders.models import Status
from orders.services import order_place, order_transition
from privacy.services import preferences_token
from tests.factories import (
    ArtistFactory,
    ComposerFactory,
    CreditFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    TrackFactory,
    WorkFactory,
    checkout_details,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


class Shop:
    """One of everything a shopper can open, and a customer with orders in each state."""

    def __init__(self, user_model):
        self.composer = ComposerFactory(name="Brahms", full_name="Johannes Brahms")
        self.work = WorkFactory(composer=self.composer, title="Clarinet Quintet in B minor")
        self.artist = ArtistFactory(name="Sabine Meyer")
        self.release = ReleaseFactory(title="Brahms: Clarinet Quintet")
        recording = RecordingFactory(work=self.work, release=self.release)
        CreditFactory(recording=recording, artist=self.artist, role=Role.SOLOIST)
        TrackFactory(recording=recording, number=1, title="Allegro")
        self.offer = OfferFactory(release=self.release, stock=5)
        self.made_to_order = OfferFactory(release=self.release, stock=0, made_to_order=True, lead_time_days=10)
        OfferFactory(release=ReleaseFactory(label=self.release.label), stock=3)
        self.customer = user_model.objects.create_user(email="clara@example.com", password=PASSWORD)
        self.paid = self._order()
        order_transition(self.paid, Status.AUTHORISED, note="Card authorised")
        self.pending = self._order()
        self.abandoned = self._order()

    def _order(self):
        return order_place(
            cart_lines=[CartLine(self.offer, 1, self.offer.price)],
            customer=self.customer,
            checkout=checkout_details(),
            checkout_token=uuid.uuid4(),
        )


@pytest.fixture
def shop(django_user_model):
    return Shop(django_user_model)


def sign_in(page, shop):
    page.goto("/account/sign-in/")
    page.fill("input[name=username]", shop.customer.email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")


def add_to_cart(page, shop, offer=None):
    page.goto(shop.release.get_absolute_url())
    qty = page.locator(f"#qty-{(offer or shop.offer).pk}")
    page.locator("form.add-to-cart", has=qty).get_by_role("button").click()
    page.wait_for_selector(".alert-success")


def fill_cart(page, shop):
    """Both editions of the release: two lines whose controls must not share names."""
    add_to_cart(page, shop)
    add_to_cart(page, shop, shop.made_to_order)
    page.goto("/cart/")
    assert page.locator("tr.cart-line").count() == 2


def submit_empty_checkout(page, shop):
    add_to_cart(page, shop)
    page.goto("/checkout/")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_selector("#error-summary")


def submit_wrong_password(page, shop):
    page.goto("/account/sign-in/")
    page.fill("input[name=username]", shop.customer.email)
    page.fill("input[name=password]", "not-the-passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#error-summary")


def fill_wish_list(page, shop):
    page.goto(shop.release.get_absolute_url())
    page.locator("form.save-for-later").first.get_by_role("button").click()
    page.wait_for_selector(".alert-success")
    page.goto("/wishlist/")


def open_as_customer(path):
    def opener(page, shop):
        sign_in(page, shop)
        page.goto(path(shop))

    return opener


def submit_unknown_gift_card(page, shop):
    page.goto("/gift-cards/balance/")
    page.get_by_label("Gift card code").fill("2222-2222-2222-2222")
    page.get_by_role("button", name="Check the balance").click()
    page.wait_for_selector(".invalid-feedback, .errorlist, #error-summary")


PAGES = {
    "home": lambda page, shop: page.goto("/"),
    "composer": lambda page, shop: page.goto(shop.composer.get_absolute_url()),
    "work": lambda page, shop: page.goto(shop.work.get_absolute_url()),
    "release": lambda page, shop: page.goto(shop.release.get_absolute_url()),
    "artist": lambda page, shop: page.goto(shop.artist.get_absolute_url()),
    "label": lambda page, shop: page.goto(shop.release.label.get_absolute_url()),
    "search with results": lambda page, shop: page.goto("/search/?q=clarinet+quintet"),
    "search without results": lambda page, shop: page.goto("/search/?q=zzzzqqq"),
    "cart empty": lambda page, shop: page.goto("/cart/"),
    "cart full": fill_cart,
    "wish list": fill_wish_list,
    "gift cards": lambda page, shop: page.goto("/gift-cards/"),
    "gift card balance with an error": submit_unknown_gift_card,
    "checkout with errors": submit_empty_checkout,
    "payment return, paid": open_as_customer(lambda shop: f"/orders/{shop.paid.number}/paid/"),
    "payment return, pending": open_as_customer(lambda shop: f"/orders/{shop.pending.number}/paid/"),
    "payment return, cancelled": open_as_customer(lambda shop: f"/orders/{shop.abandoned.number}/payment-cancelled/"),
    "sign in": lambda page, shop: page.goto("/account/sign-in/"),
    "sign in with errors": submit_wrong_password,
    "sign up": lambda page, shop: page.goto("/account/sign-up/"),
    "account": open_as_customer(lambda shop: "/account/"),
    "orders": open_as_customer(lambda shop: "/account/orders/"),
    "privacy policy": lambda page, shop: page.goto("/privacy/"),
    "privacy preferences": lambda page, shop: page.goto(f"/offers/preferences/{preferences_token('b@example.com')}/"),
    "account privacy": open_as_customer(lambda shop: "/account/privacy/"),
    "not found": lambda page, shop: page.goto("/no-such-page/"),
}


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in violations
    )


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_wcag_aa_violations(page, shop, name):
    PAGES[name](page, shop)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    violations = results.response["violations"]
    assert violations == [], f"{name} ({page.url}):\n{describe(violations)}"


# Each form control's accessible name as a screen reader announces it: its own
# aria-label, else the elements aria-labelledby names, else its <label>s, else (buttons)
# its text. Hidden inputs are not controls.
CONTROL_NAMES = """() => Array.from(document.querySelectorAll("input, select, textarea, button"))
  .filter((el) => el.type !== "hidden")
  .map((el) => {
    const text = (node) => node.textContent.replace(/\\s+/g, " ").trim().replace(/\\*$/, "");
    let name = el.getAttribute("aria-label") || "";
    if (!name && el.getAttribute("aria-labelledby")) {
      name = el.getAttribute("aria-labelledby").split(" ")
        .map((id) => document.getElementById(id)).filter(Boolean).map(text).join(" ");
    }
    if (!name && el.labels && el.labels.length) name = Array.from(el.labels).map(text).join(" ");
    if (!name && (el.tagName === "BUTTON" || el.type === "submit")) name = text(el) || el.value;
    return {id: el.id || el.name, name: name.trim()};
  })"""


def test_every_checkout_control_has_its_own_name(page, shop):
    add_to_cart(page, shop)
    page.goto("/checkout/")
    page.get_by_label("Ship to my billing address").uncheck()  # the delivery fields too
    controls = page.evaluate(CONTROL_NAMES)
    assert len(controls) > 20
    assert [c["id"] for c in controls if not c["name"]] == []
    names = [c["name"] for c in controls]
    assert sorted({n for n in names if names.count(n) > 1}) == []
    assert "Billing postcode" in names and "Delivery postcode" in names


FORM_PAGES = ["release", "cart full", "sign in", "sign up", "account", "account privacy", "privacy preferences"]


@pytest.mark.parametrize("name", FORM_PAGES)
def test_every_control_on_a_form_page_has_its_own_name(page, shop, name):
    PAGES[name](page, shop)
    controls = page.evaluate(CONTROL_NAMES)
    assert [c["id"] for c in controls if not c["name"]] == []
    names = [c["name"] for c in controls]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_refused_checkout_takes_focus_to_a_summary_that_links_to_each_field(page, shop):
    submit_empty_checkout(page, shop)
    summary = page.locator("#error-summary")
    page.wait_for_function("() => document.activeElement.id === 'error-summary'")  # the page moves focus
    assert summary.get_attribute("role") == "alert"
    link = summary.get_by_role("link", name="Your email address: This field is required.")
    link.click()
    email = page.locator("#id_email")
    assert page.evaluate("() => document.activeElement.id") == "id_email"  # the link lands in the field
    assert email.get_attribute("aria-invalid") == "true"
    described_by = email.get_attribute("aria-describedby").split()
    assert "This field is required." in " ".join(page.locator(f"#{i}").inner_text() for i in described_by)
    hrefs = summary.get_by_role("link").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert all(page.locator(href).count() == 1 for href in hrefs)  # every link has its field
    assert "#id_billing_postcode" in hrefs and "#id_age_0" in hrefs


def test_refused_sign_in_is_announced_and_takes_focus(page, shop):
    submit_wrong_password(page, shop)
    page.wait_for_function("() => document.activeElement.id === 'error-summary'")  # the page moves focus
    assert "Please enter a correct email address and password." in page.get_by_role("alert").first.inner_text()


def test_skip_link_comes_first_and_jumps_to_the_content(page, shop):
    page.goto(shop.work.get_absolute_url())
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(), document.activeElement.hash]")
    assert focused == ["Skip to content", "#main"]
    assert page.locator(".skip-link").is_visible()  # shown while it has focus
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the next stop is inside the content, past the header
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")


def test_focused_links_and_buttons_show_an_outline(page, shop):
    page.goto(shop.release.get_absolute_url())
    for _ in range(3):  # skip link, brand, first menu item
        page.keyboard.press("Tab")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] != "none" and style[1] != "0px"
    page.locator("button:has-text('Add to cart')").first.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus by keyboard, so :focus-visible applies
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


NARROW_PAGES = list(PAGES)


@pytest.mark.parametrize("name", NARROW_PAGES)
def test_page_fits_a_320_pixel_screen(page, shop, name):
    page.set_viewport_size({"width": 320, "height": 640})
    PAGES[name](page, shop)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 320, f"{name} scrolls sideways: {width} px wide"


def test_pages_at_200_percent_zoom_do_not_scroll_sideways(browser, live_server, shop):
    # 200% zoom on a 1280 px window lays the page out as 640 CSS pixels at scale 2.
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 640, "height": 450}, device_scale_factor=2
    )
    page = context.new_page()
    try:
        for name in ["home", "release", "cart full", "checkout with errors"]:
            PAGES[name](page, shop)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 640, name
            assert page.get_by_role("button", name="Menu").is_visible()  # the menu folds away and stays reachable
    finally:
        context.close()


def test_checkout_summary_follows_the_shipping_method_at_once(page, shop):
    add_to_cart(page, shop)
    page.goto("/checkout/")
    price = shop.offer.price
    assert page.locator("#summary-total").inner_text() == f"€{price + Decimal('4.95')}"
    page.get_by_label("Express (next working day)", exact=False).check()
    assert page.locator("#summary-shipping-label").inner_text() == "Express (next working day)"
    assert page.locator("#summary-shipping").inner_text() == "€12.95"
    assert page.locator("#summary-total").inner_text() == f"€{price + Decimal('12.95')}"
    page.get_by_label("Standard (3-5 working days)", exact=False).check()
    assert page.locator("#summary-total").inner_text() == f"€{price + Decimal('4.95')}"
