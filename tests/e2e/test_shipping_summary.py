"""At checkout the summary follows the delivery country at once: the methods' prices in
their labels, the shipping line and the total change with the country chosen."""

from decimal import Decimal

import pytest

from tests.factories import OfferFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_checkout_summary_follows_the_delivery_country_at_once(page):
    offer = OfferFactory(price=Decimal("20.00"), stock=3)
    page.goto(offer.release.get_absolute_url())
    with page.expect_navigation():
        page.locator("form.add-to-cart button").click()
    page.goto("/checkout/")
    assert page.locator("#summary-country").inner_text() == "United Kingdom"
    assert page.locator("#summary-total").inner_text() == "€24.95"

    page.select_option("#id_billing_country", "US")
    assert page.locator("#summary-country").inner_text() == "United States of America"
    assert page.locator("#summary-shipping").inner_text() == "€14.95"
    assert page.locator("#summary-total").inner_text() == "€34.95"
    assert page.locator("label[for=id_shipping_method_1]").inner_text() == "Express (next working day) – €29.95"

    page.get_by_label("Express (next working day)", exact=False).check()
    assert page.locator("#summary-total").inner_text() == "€49.95"

    # Delivering elsewhere than the billing address: the delivery country decides.
    page.locator("#id_same_address").uncheck()
    page.select_option("#id_shipping_country", "DE")
    assert page.locator("#summary-country").inner_text() == "Germany"
    assert page.locator("#summary-total").inner_text() == "€32.95"
