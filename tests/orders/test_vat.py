"""VAT: prices include it, at the destination's rate (the shop's country, each EU member
under the one-stop-shop rules, none for exports), from a staff-edited table with
validity dates; orders keep the rate and the VAT of every line and of shipping."""

import datetime
import uuid
from decimal import Decimal

import pytest

from orders import vat
from orders.cart import CartLine
from orders.invoices import invoice_issue
from orders.models import OrderLine, VatRate
from orders.services import ShippingUnavailable, order_place
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db

EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
US = {"name": "Amy Beach", "line1": "1 Park Ave", "line2": "", "city": "New York", "postcode": "10001"}


def place(offers_and_quantities, **address):
    lines = [CartLine(offer=o, quantity=q, price_when_added=o.price) for o, q in offers_and_quantities]
    details = checkout_details()
    if address:
        details = checkout_details(billing={**details.billing, **address}, shipping={**details.shipping, **address})
    return order_place(cart_lines=lines, customer=None, checkout=details, checkout_token=uuid.uuid4())


def test_the_rate_table_starts_with_todays_standard_rates_for_the_shop_and_all_27_eu_members():
    rates = dict(VatRate.objects.values_list("country", "rate"))
    assert set(EU) <= set(rates) and len(EU) == 27
    assert {c: rates[c] for c in ["GB", "DE", "FR", "AT", "NL", "IT", "ES", "IE", "HU", "LU"]} == {
        "GB": Decimal("20.00"),
        "DE": Decimal("19.00"),
        "FR": Decimal("20.00"),
        "AT": Decimal("20.00"),
        "NL": Decimal("21.00"),
        "IT": Decimal("22.00"),
        "ES": Decimal("21.00"),
        "IE": Decimal("23.00"),
        "HU": Decimal("27.00"),
        "LU": Decimal("17.00"),
    }


def test_the_rate_is_the_destinations_domestic_eu_or_none_for_an_export(settings):
    settings.ARKIV_SHOP_COUNTRY = "GB"
    assert vat.vat_rate_for("GB") == Decimal("20")  # the shop's own country
    assert vat.vat_rate_for("DE") == Decimal("19")  # one-stop shop: Germany's rate
    assert vat.vat_rate_for("ie") == Decimal("23")
    assert vat.vat_rate_for("US") == 0 and vat.vat_rate_for("CH") == 0 and vat.vat_rate_for("JP") == 0


def test_a_staff_entered_temporary_rate_applies_within_its_dates_and_the_old_one_resumes_after():
    # Germany's 2020 cut: 16 % from 1 July to 31 December.
    VatRate.objects.create(
        country="DE", rate=Decimal("16"), valid_from=datetime.date(2020, 7, 1), valid_to=datetime.date(2020, 12, 31)
    )
    assert vat.vat_rate_for("DE", datetime.date(2020, 6, 30)) == Decimal("19")
    assert vat.vat_rate_for("DE", datetime.date(2020, 7, 1)) == Decimal("16")
    assert vat.vat_rate_for("DE", datetime.date(2020, 12, 31)) == Decimal("16")
    assert vat.vat_rate_for("DE", datetime.date(2021, 1, 1)) == Decimal("19")


def test_vat_is_taken_out_of_each_gross_line_total_and_rounded_half_up_to_the_cent():
    # Per line, not per unit: 3 x 15.99 at 19 % contains 7.66 (per unit it would be 3 x 2.55 = 7.65).
    assert vat.vat_in(Decimal("47.97"), Decimal("19")) == Decimal("7.66")
    assert vat.vat_in(Decimal("4.95"), Decimal("20")) == Decimal("0.83")
    assert vat.vat_in(Decimal("0.10"), Decimal("19")) == Decimal("0.02")
    # Exactly half a cent (0.12 x 60 / 160 = 0.045) goes up, not to the even cent.
    assert vat.vat_in(Decimal("0.12"), Decimal("60")) == Decimal("0.05")
    assert vat.vat_in(Decimal("30.00"), Decimal("0")) == Decimal("0.00")


def test_an_order_keeps_the_rate_and_vat_of_every_line_and_of_shipping():
    cello, piano = OfferFactory(price=Decimal("15.99")), OfferFactory(price=Decimal("22.00"))
    order = place([(cello, 2), (piano, 1)])  # to Leipzig
    lines = list(OrderLine.objects.filter(order=order).order_by("unit_price"))
    assert [(li.vat_rate, li.vat_amount) for li in lines] == [
        (Decimal("19.00"), Decimal("5.11")),  # 31.98 x 19 / 119; per unit it would be 2 x 2.55
        (Decimal("19.00"), Decimal("3.51")),
    ]
    order.refresh_from_db()
    assert (order.shipping_cost, order.shipping_vat_rate, order.shipping_vat) == (
        Decimal("4.95"),
        Decimal("19.00"),
        Decimal("0.79"),
    )


def test_a_delivery_outside_the_eu_carries_no_vat():
    order = place([(OfferFactory(price=Decimal("15.00")), 2)], country="US", region="NY", **US)
    order.refresh_from_db()
    assert order.shipping_vat_rate == 0 and order.shipping_vat == 0
    assert [(li.vat_rate, li.vat_amount) for li in order.lines.all()] == [(0, 0)]


def test_a_rate_change_applies_to_new_orders_and_never_to_placed_ones():
    offer = OfferFactory(price=Decimal("11.90"), stock=10)
    before = place([(offer, 1)])
    VatRate.objects.create(country="DE", rate=Decimal("21"), valid_from=datetime.date.today())
    after = place([(offer, 1)])
    assert before.lines.get().vat_amount == Decimal("1.90")
    assert after.lines.get().vat_amount == Decimal("2.07")
    assert invoice_issue(before).total_vat == Decimal("1.90") + before.shipping_vat


def test_a_taxed_destination_without_any_valid_rate_is_refused_with_a_clear_message():
    VatRate.objects.filter(country="DE").update(valid_from=datetime.date(2099, 1, 1))
    with pytest.raises(ShippingUnavailable, match="We cannot take orders for delivery to Germany"):
        place([(OfferFactory(price=Decimal("15.00")), 1)])


def test_an_order_placed_before_vat_was_recorded_is_invoiced_at_the_rate_of_its_day():
    order = place([(OfferFactory(price=Decimal("23.80")), 1)])
    OrderLine.objects.filter(order=order).update(vat_rate=None, vat_amount=None)
    type(order).objects.filter(pk=order.pk).update(shipping_vat_rate=None, shipping_vat=None)
    order.refresh_from_db()
    invoice = invoice_issue(order)
    assert [(line.vat_rate, line.vat_amount) for line in invoice.lines.all()] == [
        (Decimal("19.00"), Decimal("3.80")),
        (Decimal("19.00"), Decimal("0.79")),
    ]


def test_staff_add_a_rate_in_the_admin_and_a_backwards_period_is_refused_with_a_message(admin_client):
    url = "/admin/orders/vatrate/add/"
    response = admin_client.post(
        url, {"country": "FR", "rate": "5.5", "valid_from": "2027-01-01", "valid_to": "2026-12-31"}
    )
    assert response.status_code == 200 and "The last day comes before the first." in response.content.decode()
    response = admin_client.post(url, {"country": "FR", "rate": "21", "valid_from": "2027-01-01", "valid_to": ""})
    assert response.status_code == 302
    assert vat.vat_rate_for("FR", datetime.date(2027, 3, 1)) == Decimal("21")
    assert vat.vat_rate_for("FR", datetime.date(2026, 12, 31)) == Decimal("20")
    listing = admin_client.get("/admin/orders/vatrate/?country=FR").content.decode()
    assert "EU distance sales (one-stop shop)" in listing
