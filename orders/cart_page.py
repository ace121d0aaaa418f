"""The cart page, rendered once for each distinct thing it shows.

Every view still reads the cart's offers and the shipping rates afresh (the page must
show today's price and stock); only the template work is reused. A rendered body is
kept under a digest of everything it was rendered from: the whole context (every
field of each offer, its release and label, each price and quantity, the shipping rate,
the country), the address and language of the page, and the signed-in account. A price
or stock change therefore makes a new key by itself; nothing needs invalidating, and
no staleness is possible. The body is rendered the way a shared catalog page is (the
header's cart count and sign-in, the messages and the forms' CSRF token left as
placeholders) and each visitor's own parts are filled in on every view by
catalog.personal, so two visitors with the same cart never see each other's parts.

A context value of a kind the digest does not know (anything but plain values, lists,
dicts, dataclasses and model instances) turns the reuse off for that view: the page is
then rendered as usual.

A view that knows what its page is made from may key on that instead (`made_from`: the
rows just read, the session's values, the shipping rates in force; plain values only),
and pass the context as a function, called only when the body is not kept: the plain
view of a cart then neither builds its summary nor walks it for the digest. Everything
the context is computed from must be in `made_from`, or in what the key holds anyway
(the address, language and account, and the settings, whose change forgets every body)."""

import dataclasses
import datetime
import hashlib
import threading
from collections import OrderedDict
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import SESSION_KEY as ACCOUNT_KEY
from django.core.signals import setting_changed
from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix
from django.utils.functional import Promise
from django.utils.translation import get_language

from catalog import personal

# Bodies kept per process (a body is never stale, so sharing them between servers would
# only add a round trip), the most recently used first to go last, within a number and a
# budget of bytes: every shopper's cart is a page of its own (about 18 KB with its
# country list), and a busy shop would otherwise fill the budget with carts seen once.
MAX_PAGES = 200
MAX_BYTES = 1024 * 1024
_pages = OrderedDict()
_held = {"bytes": 0}
_lock = threading.Lock()


def _keep(key, entry):
    with _lock:
        if key in _pages:
            return
        _pages[key] = entry
        _held["bytes"] += len(entry[0])
        while _pages and (len(_pages) > MAX_PAGES or _held["bytes"] > MAX_BYTES):
            _, dropped = _pages.popitem(last=False)
            _held["bytes"] -= len(dropped[0])


def held_bytes():
    """Bytes of page body this process keeps."""
    return _held["bytes"]


def forget_all():
    with _lock:
        _pages.clear()
        _held["bytes"] = 0


_PLAIN = (str, int, float, bool, Decimal, datetime.date, datetime.datetime, type(None))


class _Unknown(Exception):
    pass


def _fingerprint(value, depth=0):
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, Promise):
        return str(value)
    if depth > 6:
        raise _Unknown
    if isinstance(value, (list, tuple)):
        return tuple(_fingerprint(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return tuple((key, _fingerprint(item, depth + 1)) for key, item in value.items())
    if isinstance(value, Model):
        if getattr(value, "_prefetched_objects_cache", None):
            raise _Unknown
        # Read from the instance as loaded: a deferred field is not fetched.
        fields = tuple(value.__dict__.get(field.attname, "(deferred)") for field in value._meta.concrete_fields)
        related = tuple(
            (name, _fingerprint(item, depth + 1)) for name, item in sorted(value._state.fields_cache.items())
        )
        return (value._meta.label, fields, related)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__qualname__,
            tuple(_fingerprint(getattr(value, field.name), depth + 1) for field in dataclasses.fields(value)),
        )
    raise _Unknown


def _key(request, template_name, context, status, made_from=None):
    if made_from is not None:
        shown = ("made from", made_from)
    else:
        try:
            shown = _fingerprint(context)
        except _Unknown:
            return None
    where = (request.scheme, request.get_host(), get_script_prefix(), request.get_full_path(), get_language())
    account = request.session.get(ACCOUNT_KEY)
    return hashlib.blake2b(repr((template_name, status, where, account, shown)).encode(), digest_size=20).digest()


def _render_shared(request, template_name, context, status):
    request.shared_page = True
    try:
        response = render(request, template_name, context, status=status)
    finally:
        request.shared_page = False
    shared = personal.placeholders(response.content)
    return shared, personal.spots(shared), response["Content-Type"]


def render_cart(request, template_name, context, *, status=200, made_from=None):
    """The page for this visitor: its body reused when the same was rendered before.
    `context` is a dict, or, with `made_from`, a function that returns it."""
    if made_from is None and callable(context):
        context = context()
    key = None if settings.DEBUG else _key(request, template_name, context, status, made_from)
    entry = None if key is None else _pages.get(key)
    if entry is None and callable(context):
        context = context()
    if key is None:
        return render(request, template_name, context, status=status)
    if entry is None:
        entry = _render_shared(request, template_name, context, status)
        _keep(key, entry)
    else:
        with _lock:
            if key in _pages:
                _pages.move_to_end(key)
    content, spots, content_type = entry
    return HttpResponse(personal.fill_in(request, content, spots), content_type=content_type, status=status)


def _forget(**kwargs):
    # Settings shape the page (URLs, the shop's country, templates): forget what was rendered.
    forget_all()


setting_changed.connect(_forget, dispatch_uid="orders-cart-page-forget")
