"""The parts of a shared page that belong to one visitor: the header's cart count and
sign-in link, flash messages, and the CSRF token of the page's forms.

A page rendered for the shared cache (request.shared_page) carries a placeholder for
each; fill_in() renders them for the visitor at hand on every request. Each part is a
template of its own in templates/includes/, rendered with the visitor's request, so
this module knows nothing of carts or accounts."""

import re

from django.middleware.csrf import get_token
from django.template.loader import render_to_string

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


def fill_in(request, content):
    """This visitor's page from the shared body."""
    for marker, template in PARTS.items():
        if marker in content:
            content = content.replace(marker, render_to_string(template, request=request).encode())
    if _CSRF_PLACEHOLDER in content:
        content = content.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
    return content
