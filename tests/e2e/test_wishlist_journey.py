"""A visitor saves records for later in a real browser, from a release page and from the
cart, moves one back into the cart, and finds the list in their account after signing in."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from orders.models import WishlistItem
from tests.factories import OfferFactory, ReleaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"


def test_save_for_later_from_a_release_page_and_the_cart_then_move_to_cart_and_keep_the_list_at_sign_in(page):
    brahms = OfferFactory(release=ReleaseFactory(title="Brahms: Symphony no. 4"), price=Decimal("16.99"), stock=4)
    bach = OfferFactory(release=ReleaseFactory(title="Bach: Cello Suites"), price=Decimal("21.50"), stock=4)
    clara = User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())

    page.goto(brahms.release.get_absolute_url())
    page.get_by_role("button", name="Save for later: Brahms: Symphony no. 4").click()
    page.locator(".alert-success").get_by_text("Saved Brahms: Symphony no. 4 to your wish list.").wait_for()

    page.goto(bach.release.get_absolute_url())
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_selector(".alert-success")
    page.goto("/cart/")
    page.get_by_role("button", name="Save for later: Bach: Cello Suites").click()
    page.get_by_text("Moved Bach: Cello Suites to your wish list.").wait_for()
    assert page.locator("#cart-count-badge").inner_text() == "0"

    page.get_by_role("link", name="Wish list").click()
    page.get_by_role("heading", name="Your wish list").wait_for()
    items = page.locator("#wishlist-items")
    assert "Brahms: Symphony no. 4" in items.inner_text() and "Bach: Cello Suites" in items.inner_text()
    assert "€16.99" in items.inner_text() and "Only 4 left" in items.inner_text()

    page.get_by_role("button", name="Move to cart: Bach: Cello Suites").click()
    page.get_by_text("Moved Bach: Cello Suites to your cart.").wait_for()
    assert page.locator("#cart-count-badge").inner_text() == "1"
    assert "Bach: Cello Suites" not in page.locator("#wishlist-items").inner_text()

    page.goto("/account/sign-in/")
    page.fill("#id_username", clara.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)
    page.goto("/wishlist/")
    assert "Brahms: Symphony no. 4" in page.locator("#wishlist-items").inner_text()
    assert list(WishlistItem.objects.filter(user=clara).values_list("offer_id", flat=True)) == [brahms.pk]
