"""VAT on what the shop sells. Prices include VAT; the rate is the destination's:

- the shop's own country (ARKIV_SHOP_COUNTRY): its rate;
- an EU member state: that state's rate (the one-stop-shop rules for distance sales);
- anywhere else: none (0 %, an export).

Rates come from the staff-edited table (orders.VatRate), each valid from a date until
an optional end date; where two periods overlap, the later start wins. A country the
table has no row for at all falls back to the statutory standard rates below (as of
2026), which the first data migration also copies into the table: the shop never
charges a taxed destination 0 % by omission."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)

# Standard rates in per cent, by ISO 3166 code. Greece is "GR" here (ISO), "EL" in VIES.
STANDARD_RATES = {
    "GB": "20",
    "AT": "20",
    "BE": "21",
    "BG": "20",
    "CY": "19",
    "CZ": "21",
    "DE": "19",
    "DK": "25",
    "EE": "24",
    "ES": "21",
    "FI": "25.5",
    "FR": "20",
    "GR": "24",
    "HR": "25",
    "HU": "27",
    "IE": "23",
    "IT": "22",
    "LT": "21",
    "LU": "17",
    "LV": "21",
    "MT": "18",
    "NL": "21",
    "PL": "23",
    "PT": "23",
    "RO": "21",
    "SE": "25",
    "SI": "22",
    "SK": "23",
}


class VatRateMissing(Exception):
    """The destination is taxed here but neither the table nor the built-in list has a rate."""


def taxed_destination(country):
    """Whether VAT is due on a sale delivered to `country`."""
    country = (country or "").upper()
    return country == settings.ARKIV_SHOP_COUNTRY or country in EU_COUNTRIES


def vat_rate_for(country, on=None):
    """The VAT rate in per cent (a Decimal) for goods delivered to `country` on a date."""
    from .models import VatRate

    country = (country or "").upper()
    if not taxed_destination(country):
        return Decimal("0")
    on = on or datetime.date.today()
    rows = list(VatRate.objects.filter(country=country).values_list("rate", "valid_from", "valid_to"))
    if rows:
        # Where periods overlap, the one that started last applies: a temporary cut (say
        # 16 % for six months) is one row with an end date, and the old rate resumes after.
        for rate, valid_from, valid_to in sorted(rows, key=lambda row: row[1], reverse=True):
            if valid_from <= on and (valid_to is None or on <= valid_to):
                return rate
        raise VatRateMissing(f"No VAT rate for {country} is valid on {on.isoformat()}.")
    if country in STANDARD_RATES:
        return Decimal(STANDARD_RATES[country])
    raise VatRateMissing(f"No VAT rate for {country}.")


def vat_in(gross, rate):
    """The VAT contained in a VAT-inclusive amount: gross x rate / (100 + rate), rounded
    half-up to the cent. Applied once per invoice line (quantity x unit price) and once
    to shipping, never per unit, so a line's VAT is what its printed total contains."""
    gross, rate = Decimal(gross), Decimal(rate)
    if not rate:
        return Decimal("0.00")
    return (gross * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
