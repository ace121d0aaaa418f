import functools
import html
import json

from babel import Locale
from babel.numbers import format_currency
from django import template
from django.conf import settings
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, pgettext_lazy, to_locale

from catalog.cards import catalog_path
from catalog.text import german_key_name

register = template.Library()

_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


@register.filter
def jsonld(data):
    """A schema.org JSON-LD block that cannot break out of its script element."""
    payload = json.dumps(data, ensure_ascii=False, indent=None).translate(_JSON_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (None or '' removes one)."""
    query = context["request"].GET.copy() if "request" in context else QueryDict(mutable=True)
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    if "page" not in changes:
        query.pop("page", None)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


@functools.lru_cache(maxsize=8192)
def _localised_money(amount, currency, language):
    """A price as shops in that language write it, by CLDR's rules (babel): German
    "1.234,50 £". Prices repeat across a page and a catalog, so each is formatted once."""
    return format_currency(amount, currency, locale=Locale.parse(to_locale(language)))


@register.filter
def money(amount, currency=None):
    """A price in the page's language: "£1,234.50" in English, "1.234,50 £" in German."""
    if amount is None:
        return ""
    currency = currency or settings.ARKIV_CURRENCY
    language = get_language() or settings.LANGUAGE_CODE
    if not language.startswith("en"):
        return _localised_money(amount, currency, language)
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


# Instruments and voices as the catalog stores them (lower-case English) in the page's language.
INSTRUMENTS = {
    "piano": pgettext_lazy("instrument", "piano"),
    "violin": pgettext_lazy("instrument", "violin"),
    "viola": pgettext_lazy("instrument", "viola"),
    "cello": pgettext_lazy("instrument", "cello"),
    "double bass": pgettext_lazy("instrument", "double bass"),
    "flute": pgettext_lazy("instrument", "flute"),
    "oboe": pgettext_lazy("instrument", "oboe"),
    "clarinet": pgettext_lazy("instrument", "clarinet"),
    "bassoon": pgettext_lazy("instrument", "bassoon"),
    "horn": pgettext_lazy("instrument", "horn"),
    "trumpet": pgettext_lazy("instrument", "trumpet"),
    "harp": pgettext_lazy("instrument", "harp"),
    "guitar": pgettext_lazy("instrument", "guitar"),
    "organ": pgettext_lazy("instrument", "organ"),
    "harpsichord": pgettext_lazy("instrument", "harpsichord"),
    "fortepiano": pgettext_lazy("instrument", "fortepiano"),
    "soprano": pgettext_lazy("instrument", "soprano"),
    "mezzo-soprano": pgettext_lazy("instrument", "mezzo-soprano"),
    "contralto": pgettext_lazy("instrument", "contralto"),
    "countertenor": pgettext_lazy("instrument", "countertenor"),
    "tenor": pgettext_lazy("instrument", "tenor"),
    "baritone": pgettext_lazy("instrument", "baritone"),
    "bass": pgettext_lazy("instrument", "bass"),
}


@register.filter
def instrument(name):
    """An instrument or voice in the page's language; one the shop has no word for stays as stored."""
    return str(INSTRUMENTS.get(name, name))


@register.filter
def musical_key(key):
    """A work's key in the page's language: "E flat major", "Es-Dur"."""
    if (get_language() or "").startswith("de"):
        return german_key_name(key)
    return key


# "As conductor": the role buttons of a performer's page.
_AS_ROLE = {
    "conductor": pgettext_lazy("role filter", "As conductor"),
    "soloist": pgettext_lazy("role filter", "As soloist"),
    "orchestra": pgettext_lazy("role filter", "As orchestra"),
    "ensemble": pgettext_lazy("role filter", "As ensemble"),
    "choir": pgettext_lazy("role filter", "As choir"),
}


@register.simple_tag
def as_role(role):
    return str(_AS_ROLE[role.value]) if role.value in _AS_ROLE else role.label


@register.simple_tag
def credits(recording):
    """The performers of a recording, linked: "A (conductor), B (piano), C". A tag rather
    than an include, because it runs once per row of the work, artist and release pages."""
    return credit_list(recording.credits.all())


@register.simple_tag
def credit_list(credits):
    """The credits tag for credits already at hand (a work page's rows keep theirs as a list)."""
    parts = []
    conductor = None
    for credit in credits:
        artist = credit.artist
        if credit.instrument:
            suffix = f" ({instrument(credit.instrument)})"
        elif credit.role == "conductor":
            conductor = conductor or gettext("conductor")
            suffix = f" ({conductor})"
        else:
            suffix = ""
        url = catalog_path("catalog:artist", slug=artist.slug)
        parts.append(format_html('<a href="{}">{}</a>{}', url, artist.name, suffix))
    return mark_safe(", ".join(parts))


@register.simple_tag
def select_options(choices, selected):
    """<option>s for (value, label) pairs, the selected one marked: the work page's
    filters list up to a few hundred performers."""
    # html.escape is what django.utils.html.escape does, without its check for lazy
    # strings on each of a few hundred calls.
    selected = "" if selected is None else str(selected)
    options = []
    for value, label in choices:
        value = str(value)
        mark = " selected" if value == selected else ""
        options.append(f'<option value="{html.escape(value)}"{mark}>{html.escape(str(label))}</option>')
    return mark_safe("".join(options))
