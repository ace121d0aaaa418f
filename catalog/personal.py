"""The parts of a shared page that belong to one visitor: the header's cart count and
sign-in link, flash messages, and the CSRF token of the page's forms.

A page rendered for the shared cache (request.shared_page) carries a placeholder for
each; fill_in() renders them for the visitor at hand on every request. Each part is a
template of its own in templates/includes/, rendered from what the visitor's session
holds (the cart count and signed-in name the header shows, and the flash messages): no
query, and none of the layout's context processors. A part that shows nothing of the
person (a cart count, "Sign in", no message) is rendered once per process and reused."""

import re

from django.conf import settings
from django.contrib.messages import get_messages
from django.middleware.csrf import get_token
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


def _part(marker, values):
    name = _SHOWS[marker]
    value = values[name]
    if value and name != "cart_count":
        return _render(marker, values)  # a name or a message: this visitor's own
    key = (marker, value or None, get_script_prefix(), get_language())
    part = _impersonal.get(key)
    if part is None:
        if len(_impersonal) >= 1000:
            _impersonal.clear()
        part = _impersonal[key] = _render(marker, {name: value})
    return part


def fill_in(request, content):
    """This visitor's page from the shared body."""
    markers = [marker for marker in PARTS if marker in content]
    if markers:
        values = _visitor_values(request) if settings.SESSION_COOKIE_NAME in request.COOKIES else _NOBODY
        for marker in markers:
            content = content.replace(marker, _part(marker, values))
    if _CSRF_PLACEHOLDER in content:
        content = content.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
    return content
