"""Shared page cache for catalog pages, the same for every visitor.

A catalog page is rendered once for everyone: as an anonymous visitor would see it, with
a placeholder wherever the layout shows something of one visitor (catalog.personal).
Every visitor, with a session or without, is served that body with their own parts
filled in, so nothing personal is ever stored in a shared entry.

Each page belongs to one group named after its URL (page_tag: "release:<slug>",
"work:<composer>/<slug>", "home", ...) and is stored with the versions of the whole
catalog and of its group it was rendered under. A catalog write bumps the versions of
only the groups whose pages show what changed (catalog.services). A hit is one round
trip: one get_many fetches both versions and the page, and a page whose versions are
not the current ones is rendered afresh. Versions live in the cache every server
shares, so a change made on one server is seen by the next request on any other."""

import hashlib
from functools import wraps

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils.module_loading import import_string

from . import personal
from .services import (
    CATALOG_VERSION_KEY,
    catalog_changed,
    offer_changed,
    page_tag,
    release_changed,
    version_key,
    versions_for,
)

PAGE_TTL = 300


def _page_key(request):
    digest = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"catalog:page:{digest}"


def _tag(request):
    match = request.resolver_match
    return page_tag(match.url_name, *match.kwargs.values()) if match else page_tag(request.path)


def _render_shared(view, request, args, kwargs):
    """Render the page as a visitor without a session would see it: the view sees no
    user and an empty session, and the layout leaves placeholders for personal parts."""
    user, session = getattr(request, "user", None), getattr(request, "session", None)
    request.user = AnonymousUser()
    if session is not None:
        request.session = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    request.shared_page = True
    try:
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        touched = session is not None and request.session.modified
    finally:
        request.shared_page = False
        if user is not None:
            request.user = user
        if session is not None:
            request.session = session
    return response, touched


def cached_page(view):
    """Serve the view's page from the shared cache, with each visitor's own parts."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET":
            return view(request, *args, **kwargs)
        keys = [CATALOG_VERSION_KEY, version_key(_tag(request))]
        page_key = _page_key(request)
        found = cache.get_many([*keys, page_key])
        versions = tuple(found.get(key) for key in keys)
        entry = found.get(page_key)
        if entry is not None and None not in versions and entry[0] == versions:
            _, content, content_type = entry
            hit = HttpResponse(personal.fill_in(request, content), content_type=content_type)
            if getattr(settings, "PAGE_CACHE_STATUS_HEADER", False):
                hit["X-Page-Cache"] = "hit"
            return hit

        current = versions_for(keys)
        versions = tuple(current[key] for key in keys)
        response, touched = _render_shared(view, request, args, kwargs)
        if response.status_code != 200 or getattr(response, "streaming", False):
            return response
        shared = personal.placeholders(response.content)
        if not response.cookies and not touched:
            cache.set(page_key, (versions, shared, response["Content-Type"]), PAGE_TTL)
        filled = HttpResponse(personal.fill_in(request, shared), content_type=response["Content-Type"])
        for header, value in response.items():
            if header.lower() not in {"content-type", "content-length"}:
                filled[header] = value
        filled.cookies = response.cookies
        if getattr(settings, "PAGE_CACHE_STATUS_HEADER", False):
            filled["X-Page-Cache"] = "miss"
        return filled

    return wrapper


def _catalog_row_changed(sender, **kwargs):
    catalog_changed()


def _offer_row_changed(sender, instance, **kwargs):
    offer_changed(instance)


def _release_row_saved(sender, instance, created, **kwargs):
    if created:
        catalog_changed()
    else:
        release_changed(instance, credited=True)


def connect_invalidation(models):
    """A saved or deleted offer, or an edited release, makes stale the pages that show
    it; any other catalog change, every cached page."""
    for model in models:
        name = model.__name__
        on_save = {"Offer": _offer_row_changed, "Release": _release_row_saved}.get(name, _catalog_row_changed)
        on_delete = _offer_row_changed if name == "Offer" else _catalog_row_changed
        post_save.connect(on_save, sender=model, dispatch_uid=f"catalog-cache-{name}-save")
        post_delete.connect(on_delete, sender=model, dispatch_uid=f"catalog-cache-{name}-delete")


PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_page_cache(app_configs, **kwargs):
    """Every server must share one page cache: a per-process one would show each
    server's own stale pages after a catalog change made on another."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        return [
            checks.Error(
                f"The default cache is {backend.rsplit('.', 1)[-1]}, which every server process keeps for itself.",
                hint="Set REDIS_URL, or leave PAGE_CACHE unset so the database cache is used.",
                id="catalog.E001",
            )
        ]
    return []
