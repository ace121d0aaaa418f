"""The parts of a shared page that belong to one visitor: the header's cart count and
sign-in link, flash messages, and the CSRF token of the page's forms.

A page rendered for the shared cache (request.shared_page) carries a placeholder for
each; fill_in() renders them for the visitor at hand on every request. Each part is a
template of its own in templates/includes/, rendered from what the visitor's session
holds (the cart count and signed-in name the header shows, and the flash messages): no
query, and none of the layout's context processors. A part that shows nothing of the
person (a cart count, "Sign in", no message) is rendered once per process and reused.
Where each placeholder is in the body is found once, when the page is stored (spots)."""

import os
import re

from django.conf import settings
from django.contrib.messages import get_messages
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.template import Context
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.translation import get_language

from orders.cart import item_count

PARTS = {
    b"<!--personal:account-->": "includes/account_link.html",
    b"<!--personal:cart-->": "includes/cart_link.html",
    b"<!--personal:messages-->": "includes/messages.html",
}
_CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]+(")')
_CSRF_PLACEHOLDER = b"__csrf_token__"


def placeholders(content):
    """The shared body: the CSRF token of a shared render becomes a placeholder (the
    other parts already are)."""
    return _CSRF_VALUE.sub(rb"\1" + _CSRF_PLACEHOLDER + rb"\2", content)


_SPOT = re.compile(b"|".join(re.escape(marker) for marker in [*PARTS, _CSRF_PLACEHOLDER]))


def spots(shared):
    """Where each placeholder is in a shared body, stored with it: filling in a page then
    copies the body once, instead of searching it for each part."""
    return tuple((match.start(), match.end(), match.group()) for match in _SPOT.finditer(shared))


# The session key accounts.views keeps the signed-in name under (as the layout's
# context processor reads it).
ACCOUNT_NAME_KEY = "account_name"


def _visitor_values(request):
    """What this visitor's parts show, read from the session alone. Reading the messages
    marks them shown, as rendering them would."""
    session = request.session
    return {
        "cart_count": item_count(session),
        "account_name": session.get(ACCOUNT_NAME_KEY, ""),
        "messages": list(get_messages(request)),
    }


# What a visitor without a session sees.
_NOBODY = {"cart_count": 0, "account_name": "", "messages": []}
# The value each part shows.
_SHOWS = {
    b"<!--personal:account-->": "account_name",
    b"<!--personal:cart-->": "cart_count",
    b"<!--personal:messages-->": "messages",
}
# Parts that show nothing of the person - a cart count, "Sign in", no message - by marker,
# value, URL prefix and language: the same for everyone with that value, rendered once per
# process.
_impersonal = {}


def _render(marker, context):
    # The parts need no request: a plain Context, none of the layout's context processors.
    return get_template(PARTS[marker]).template.render(Context(context)).encode()


def _part(marker, values, locale):
    name = _SHOWS[marker]
    value = values[name]
    if value and name != "cart_count":
        return _render(marker, values)  # a name or a message: this visitor's own
    key = (marker, value or None, *locale)
    part = _impersonal.get(key)
    if part is None:
        if len(_impersonal) >= 1000:
            _impersonal.clear()
        part = _impersonal[key] = _render(marker, {name: value})
    return part


# The CSRF token of a page, as django.middleware.csrf.get_token makes it (a secret kept in
# the CSRF cookie, masked afresh for every page against BREACH), but with each random
# string drawn from one os.urandom() call: Django draws one per character through
# SystemRandom, 64 calls a page, which cost a cached page more than the rest of its parts.
# Bytes below 248 (4 x 62) map evenly onto the 62 letters and digits; the others are
# dropped, so every character stays uniformly random.
_ALPHABET = CSRF_ALLOWED_CHARS.encode()
_EVEN = 256 - 256 % len(_ALPHABET)
_TO_ALPHABET = bytes(_ALPHABET[byte % len(_ALPHABET)] if byte < _EVEN else 0 for byte in range(256))
_UNEVEN = bytes(range(_EVEN, 256))
_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
# Each pair of a secret's and a mask's characters and the cipher character Django's
# masking makes of them, looked up for the 32 pairs of a token instead of computed.
_CIPHER = {
    (s, m): CSRF_ALLOWED_CHARS[(i + j) % len(CSRF_ALLOWED_CHARS)] for s, i in _INDEX.items() for m, j in _INDEX.items()
}


def _random_string(length=CSRF_SECRET_LENGTH):
    chars = b""
    while len(chars) < length:
        chars += os.urandom(length + 8).translate(_TO_ALPHABET, _UNEVEN)
    return chars[:length].decode()


def csrf_token(request):
    """django.middleware.csrf.get_token, cheaper: the visitor's secret (a new one, and
    the CSRF cookie sent, when they have none), masked with a new random string."""
    meta = request.META
    secret = meta.get("CSRF_COOKIE")
    if secret is None:
        secret = meta["CSRF_COOKIE"] = _random_string()
    # Sent back on every page that uses it, renewing its expiry, as Django does.
    meta["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_string()
    return mask + "".join(map(_CIPHER.__getitem__, zip(secret, mask, strict=True)))


def fill_in(request, content, where):
    """This visitor's page from the shared body and where its placeholders are (spots)."""
    if not where:
        return content
    body = memoryview(content)
    pieces, done, shown = [], 0, {}
    values = locale = None
    for start, end, marker in where:
        part = shown.get(marker)
        if part is None:
            if marker == _CSRF_PLACEHOLDER:
                part = csrf_token(request).encode()
            else:
                if values is None:
                    values = _visitor_values(request) if settings.SESSION_COOKIE_NAME in request.COOKIES else _NOBODY
                    locale = (get_script_prefix(), get_language())
                part = _part(marker, values, locale)
            shown[marker] = part
        pieces += (body[done:start], part)
        done = end
    pieces.append(body[done:])
    return b"".join(pieces)
