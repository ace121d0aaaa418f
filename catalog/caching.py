"""Shared page cache for anonymous catalog visitors.

Catalog pages are the same for every visitor who has no session yet, so their HTML is
cached under the catalog's version: any catalog write bumps the version, and the next
request renders afresh. Visitors with a session (a cart, a sign-in, a message) always
get a fresh page, so nothing personal is ever shared. The one per-visitor value a
shared page holds, the CSRF token of its forms, is stored as a placeholder and filled
in for each visitor."""

import hashlib
import re
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token

from .services import catalog_changed, catalog_version

PAGE_TTL = 300
_CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]+(")')
_CSRF_PLACEHOLDER = b"__csrf_token__"


def _key(request, version):
    digest = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"catalog:page:{version}:{digest}"


def cached_page(view):
    """Serve the view's page from the shared cache for visitors without a session."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return view(request, *args, **kwargs)
        key = _key(request, catalog_version())
        hit = cache.get(key)
        if hit is not None:
            content, content_type = hit
            if _CSRF_PLACEHOLDER in content:
                content = content.replace(_CSRF_PLACEHOLDER, get_token(request).encode())
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            shared = _CSRF_VALUE.sub(rb"\1" + _CSRF_PLACEHOLDER + rb"\2", response.content)
            cache.set(key, (shared, response["Content-Type"]), PAGE_TTL)
        return response

    return wrapper


def _invalidate(sender, **kwargs):
    catalog_changed()


def connect_invalidation(models):
    """Any saved or deleted catalog row makes cached pages stale."""
    for model in models:
        post_save.connect(_invalidate, sender=model, dispatch_uid=f"catalog-cache-{model.__name__}-save")
        post_delete.connect(_invalidate, sender=model, dispatch_uid=f"catalog-cache-{model.__name__}-delete")
