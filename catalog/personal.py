"""The parts of a shared page that belong to one visitor: the header's cart count and
sign-in link, flash messages, and the CSRF token of the page's forms.

A page rendered for the shared cache (request.shared_page) carries a placeholder for
each; fill_in() renders them for the visitor at hand on every request. Each part is a
template of its own in templates/includes/, rendered with the visitor's request, so
this module knows nothing of carts or accounts."""

import re

from django.conf import settings
from django.middleware.csrf import get_token
from django.template import RequestContext
from django.template.loader import get_template

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


def _render_parts(request, markers):
    # One context for all parts: the context processors run once per request.
    templates = {marker: get_template(PARTS[marker]).template for marker in markers}
    context = RequestContext(request)
    with context.bind_template(templates[markers[0]]):
        return {marker: template.render(context).encode() for marker, template in templates.items()}


_without_session = {}


def fill_in(request, content):
    """This visitor's page from the shared body."""
    markers = [marker for marker in PARTS if marker in content]
    if markers:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            parts = _render_parts(request, markers)
        else:
            # Without a session there is no cart, name or message (messages are kept in
            # the session): these parts are the same for every such visitor.
            key = tuple(markers)
            if key not in _without_session:
                _without_session[key] = _render_parts(request, markers)
            parts = _without_session[key]
        for marker, part in parts.items():
            content = content.replace(marker, part)
    if _CSRF_PLACEHOLDER in content:
        content = content.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
    return content
