import json

from django import template
from django.conf import settings
from django.http import QueryDict
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

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


@register.filter
def money(amount, currency=None):
    if amount is None:
        return ""
    currency = currency or settings.ARKIV_CURRENCY
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


@register.simple_tag
def credits(recording):
    """The performers of a recording, linked: "A (conductor), B (piano), C". A tag rather
    than an include, because it runs once per row of the work, artist and release pages."""
    parts = []
    for credit in recording.credits.all():
        artist = credit.artist
        suffix = (
            f" ({credit.instrument})" if credit.instrument else (" (conductor)" if credit.role == "conductor" else "")
        )
        parts.append(format_html('<a href="{}">{}</a>{}', artist.get_absolute_url(), artist.name, suffix))
    return mark_safe(", ".join(parts))


@register.simple_tag
def select_options(choices, selected):
    """<option>s for (value, label) pairs, the selected one marked: the work page's
    filters list up to a few hundred performers."""
    selected = "" if selected is None else str(selected)
    options = []
    for value, label in choices:
        value = str(value)
        mark = " selected" if value == selected else ""
        options.append(f'<option value="{escape(value)}"{mark}>{escape(label)}</option>')
    return mark_safe("".join(options))
