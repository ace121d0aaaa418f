"""The parts of a shared page that belong to one visitor: the header's cart count and
sign-in link, flash messages, and the CSRF token of the page's forms.

A page rendered for the shared cache (request.shared_page) carries a placeholder for
each; fill_in() renders them for the visitor at hand on every request. Each part is a
template of its own in templates/includes/, rendered from what the visitor's session
holds (the cart count and signed-in name the header shows, and the flash messages): no
query, and none of the layout's context processors. A visitor whose session holds none
of these gets the parts every visitor without a session gets, rendered once."""

import re

from django.conf import settings
from django.contrib.messages import get_messages
from django.middleware.csrf import get_token
from django.template import Context
from django.template.loader import get_template
from django.urls import get_script_prefix

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


def _visitor_parts(request):
    """What this visitor's parts show, read from the session alone; None when it holds
    nothing of the visitor (no cart, no name, no message), so the parts are the same as
    for a visitor without a session. Reading the messages marks them shown, as rendering
    them would."""
    session = request.session
    values = {
        "cart_count": item_count(session),
        "account_name": session.get(ACCOUNT_NAME_KEY, ""),
        "messages": list(get_messages(request)),
    }
    return values if any(values.values()) else None


def _render_parts(markers, values):
    # The parts need no request: a plain Context, none of the context processors.
    context = Context(values)
    return {marker: get_template(PARTS[marker]).template.render(context).encode() for marker in markers}


# Parts of a visitor with nothing of their own, per set of markers and URL prefix: the
# same for every such visitor, rendered once per process.
_without_session = {}


def fill_in(request, content):
    """This visitor's page from the shared body."""
    markers = [marker for marker in PARTS if marker in content]
    if markers:
        values = _visitor_parts(request) if settings.SESSION_COOKIE_NAME in request.COOKIES else None
        if values is not None:
            parts = _render_parts(markers, values)
        else:
            key = (tuple(markers), get_script_prefix())
            if key not in _without_session:
                _without_session[key] = _render_parts(markers, {"cart_count": 0, "account_name": "", "messages": []})
            parts = _without_session[key]
        for marker, part in parts.items():
            content = content.replace(marker, part)
    if _CSRF_PLACEHOLDER in content:
        content = content.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
    return content
