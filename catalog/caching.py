"""Shared page cache for catalog pages, the same for every visitor.

A catalog page is rendered once for everyone: as an anonymous visitor would see it, with
a placeholder wherever the layout shows something of one visitor (catalog.personal).
Every visitor, with a session or without, is served that body with their own parts
filled in, so nothing personal is ever stored in a shared entry.

Each page belongs to one group named after its URL (page_tag: "release:<slug>",
"work:<composer>/<slug>", "home", ...), a page of a long list also to a group of that
one page (services.page_tags), and is stored with the versions of the whole catalog and
of its groups it was rendered under. A catalog write bumps the versions of
only the groups whose pages show what changed (catalog.services). A hit is one round
trip: one get_many fetches both versions and the page, and a page whose versions are
not the current ones is rendered afresh. Versions live in the cache every server
shares, so a change made on one server is seen by the next request on any other.

Each process also keeps a copy of the pages it served last (LocalPages, within
PAGE_CACHE_LOCAL_BYTES), used only when the versions just read from the shared cache are
the ones the copy was rendered under: the round trip then carries the versions alone,
not the page, and the copy is exactly as fresh as the shared entry would be.

A hit is served by SharedPageMiddleware, before URL resolution and the view, through
the middleware that shape a response; with sessions in the same Redis, the visitor's
session is read in the same round trip as the page."""

import hashlib
import importlib
import threading
import time
from collections import OrderedDict
from functools import wraps

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpResponse
from django.utils.module_loading import import_string

from arkiv.cache import PER_PROCESS_CACHES

from . import personal
from .services import (
    CATALOG_VERSION_KEY,
    catalog_changed,
    catalog_names_changed,
    catalog_row_deleted,
    credit_saved,
    editorial_changed,
    offer_changed,
    page_tag,
    page_tags,
    recording_saved,
    release_changed,
    track_saved,
    version_key,
    versions_for,
    work_part_changed,
)

PAGE_TTL = 300


def _page_key(request):
    digest = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    return f"catalog:page:v4:{digest}"


def _tags(request):
    match = request.resolver_match
    return page_tags(match.url_name, match.kwargs, request.GET) if match else [page_tag(request.path)]


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


# URLs (path and query, as the page key) of cached pages and the cache keys of their
# versions and page, learnt as each page is first served through its view, so that
# SharedPageMiddleware can find a page without resolving the URL or working out its keys.
# A URL's groups never change (a list page's groups depend on its ?format= and ?page=,
# hence the query); the table is only bounded.
_keys_by_url = {}
_MAX_KNOWN_URLS = 50_000


def _keys(request, tags):
    """The version keys of the page's groups and its page key."""
    return (CATALOG_VERSION_KEY, *(version_key(tag) for tag in tags)), _page_key(request)


def _learn(request, keys):
    """Remember a URL that has a cached page (only those: a URL that is not found
    teaches nothing)."""
    if len(_keys_by_url) >= _MAX_KNOWN_URLS:
        _keys_by_url.clear()
    _keys_by_url[request.get_full_path()] = keys


class LocalPages:
    """This process's copies of shared page entries, the most recently used ones within a
    budget of bytes of page body. A copy is served only under the versions it was
    rendered under, read from the shared cache in the same request, and never after the
    shared entry's own expiry: it can be no staler than the shared entry."""

    def __init__(self):
        self._entries = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @staticmethod
    def budget():
        """Bytes of page body kept, or 0 when the page cache is this process's own."""
        if settings.CACHES["default"]["BACKEND"] in PER_PROCESS_CACHES:
            return 0
        return settings.PAGE_CACHE_LOCAL_BYTES

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        budget = self.budget()
        if len(entry[1]) > budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._size += len(entry[1]) - (len(old[1]) if old is not None else 0)
            self._entries[key] = entry
            while self._size > budget:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped[1])

    def discard(self, key):
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[1])

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._size = 0


local_pages = LocalPages()


def _lookup(keys, *also):
    """The version keys, page key and what the cache holds of them (and of any other
    keys asked for), in one round trip. With a copy of the page in this process, the
    round trip reads the versions alone; a copy rendered under other versions is
    dropped and the shared entry read in a second one."""
    versions, page_key = keys
    copy = local_pages.get(page_key) if local_pages.budget() else None
    if copy is None:
        found = cache.get_many([*versions, page_key, *also])
        entry = _fresh_entry(versions, page_key, found)
        if entry is not None and local_pages.budget():
            local_pages.put(page_key, entry)
        return versions, page_key, found
    found = cache.get_many([*versions, *also])
    found[page_key] = copy
    if _fresh_entry(versions, page_key, found) is None:
        local_pages.discard(page_key)
        shared = cache.get(page_key)
        if shared is None:
            found.pop(page_key)
        else:
            found[page_key] = shared
            if _fresh_entry(versions, page_key, found) is not None:
                local_pages.put(page_key, shared)
    return versions, page_key, found


def _fresh_entry(keys, page_key, found):
    versions = tuple(found.get(key) for key in keys)
    entry = found.get(page_key)
    if entry is not None and None not in versions and entry[0] == versions and entry[5] > time.time():
        return entry
    return None


def _hit_response(request, entry, status="hit"):
    content, content_type, headers, spots = entry[1:5]
    response = HttpResponse(personal.fill_in(request, content, spots), content_type=content_type)
    for header, value in headers:
        response[header] = value
    if settings.PAGE_CACHE_STATUS_HEADER:  # the benchmark counts hits (bench/settings.py)
        response["X-Page-Cache"] = status
    return response


def cached_page(view):
    """Serve the view's page from the shared cache, with each visitor's own parts."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET":
            return view(request, *args, **kwargs)
        known = _keys(request, _tags(request))
        # SharedPageMiddleware already looked and found no fresh page: no second look.
        keys, page_key, found = getattr(request, "_shared_page_lookup", None) or _lookup(known)
        entry = _fresh_entry(keys, page_key, found)
        if entry is not None:
            _learn(request, known)
            return _hit_response(request, entry)

        current = versions_for(keys)
        versions = tuple(current[key] for key in keys)
        response, touched = _render_shared(view, request, args, kwargs)
        if response.status_code != 200 or getattr(response, "streaming", False):
            return response
        shared = personal.placeholders(response.content)
        # What the view itself set (anything the middleware adds is added to a hit too).
        headers = tuple((h, v) for h, v in response.items() if h.lower() not in {"content-type", "content-length"})
        # The expiry is in the entry too, so that no copy of it outlives the shared one.
        entry = (versions, shared, response["Content-Type"], headers, personal.spots(shared), time.time() + PAGE_TTL)
        if not response.cookies and not touched:
            cache.set(page_key, entry, PAGE_TTL)
            if local_pages.budget():
                local_pages.put(page_key, entry)
            _learn(request, known)
        filled = _hit_response(request, entry, status="miss")
        filled.cookies = response.cookies
        return filled

    return wrapper


def _sessions_read_with_pages():
    """The session engine's module when a visitor's session can be read in the same
    round trip as the page: the engine reads sessions from a cache (privacy.sessions)
    that is the page cache's very store (one Redis for both). Else None."""
    module = importlib.import_module(settings.SESSION_ENGINE)
    if not hasattr(module, "prefetched") or not module.sessions_cached():
        return None
    sessions_cache = settings.CACHES.get(settings.SESSION_CACHE_ALIAS, {})
    pages_cache = settings.CACHES["default"]
    same = ("BACKEND", "LOCATION", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")
    if any(sessions_cache.get(name) != pages_cache.get(name) for name in same):
        return None
    return module


# Middleware that only act on views (a second factor for the admin, rate limits and
# sign-in lockouts on the views that ask for them, the audit of staff changes in the
# admin) and never change a catalog page.
VIEW_ONLY_MIDDLEWARE = {
    "django_otp.middleware.OTPMiddleware",
    "arkiv.audit.StaffChangesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "axes.middleware.AxesMiddleware",
}
# Middleware whose work on a hit is nothing at all when the visitor sends no session
# cookie: the session middleware only loads a session, and saves or expires one, when
# something reads it, and nothing on the hit path does then (fill_in shows the parts of
# a visitor without a session; the CSRF secret is in its cookie, not the session); the
# user and the messages are read only from that session; a page is private only when
# the session was read. tests/catalog/test_cheap_cache_hit.py compares such a hit's
# headers and cookies with a fresh render's.
NO_SESSION_NOOP_MIDDLEWARE = {
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "arkiv.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
}


class SharedPageMiddleware:
    """A cached catalog page is served before URL resolution and the view: one cache
    round trip, then the visitor's own parts. The answer still passes through every
    middleware that shapes a response (the session and its cookie, CSRF and its cookie,
    the host check, no-store for personal pages, messages, X-Frame-Options, and, being
    outside this one, the security, CSP and Permissions-Policy headers), so a hit carries
    exactly the headers and cookies the full stack would give. A visitor without a
    session cookie (most of them, and every crawler) skips the middleware that would do
    nothing for them (NO_SESSION_NOOP_MIDDLEWARE). When sessions are read from the page
    cache's own store (one Redis), the visitor's session comes in the same round trip as
    the page. A miss, or a path not yet known as a cached page, goes on through the whole
    stack as before."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.sessions = _sessions_read_with_pages()
        path = f"{__name__}.{type(self).__name__}"
        below = settings.MIDDLEWARE[settings.MIDDLEWARE.index(path) + 1 :]
        self.serve_hit = self._chain([name for name in below if name not in VIEW_ONLY_MIDDLEWARE])
        # With the CSRF secret kept in the session, a visitor without one gets a session.
        skip = VIEW_ONLY_MIDDLEWARE | (set() if settings.CSRF_USE_SESSIONS else NO_SESSION_NOOP_MIDDLEWARE)
        self.serve_sessionless_hit = self._chain([name for name in below if name not in skip])

    def _chain(self, names):
        handler = convert_exception_to_response(self._serve)
        for name in reversed(names):
            try:
                handler = convert_exception_to_response(import_string(name)(handler))
            except MiddlewareNotUsed:
                continue
        return handler

    def __call__(self, request):
        known = _keys_by_url.get(request.get_full_path()) if request.method == "GET" else None
        if known is None:
            return self.get_response(request)
        cookies = request.COOKIES
        session_key = cookies.get(settings.SESSION_COOKIE_NAME) if self.sessions else None
        if session_key and not (session_key.isascii() and session_key.isalnum() and len(session_key) <= 64):
            session_key = None  # not a key the shop ever made: the session middleware sorts it out
        session_cache_key = self.sessions.KEY_PREFIX + session_key if session_key else None
        lookup = _lookup(known, *filter(None, [session_cache_key]))
        entry = _fresh_entry(*lookup)
        if entry is None:
            request._shared_page_lookup = lookup
            return self.get_response(request)
        request._shared_page_entry = entry
        if settings.SESSION_COOKIE_NAME not in cookies:
            return self.serve_sessionless_hit(request)
        if session_key is None:
            return self.serve_hit(request)
        with self.sessions.prefetched(session_key, lookup[2].get(session_cache_key)):
            return self.serve_hit(request)

    @staticmethod
    def _serve(request):
        return _hit_response(request, request._shared_page_entry)


def _catalog_row_changed(sender, **kwargs):
    catalog_changed()


def _named_row_changed(sender, **kwargs):
    catalog_names_changed()


# The fields whose old values say which other pages showed a row before it was saved:
# a recording moved to another work shows on that work's page no more.
_SAVED_FROM = {
    "Recording": ("work_id", "release_id"),
    "Credit": ("artist_id", "recording_id"),
    "Track": ("release_id",),
    "CatalogueNumber": ("work_id",),
    "Movement": ("work_id",),
}


def _remember_saved_from(sender, instance, raw=False, **kwargs):
    """Before a save, keep on the instance what its row held (None for a new row)."""
    fields = _SAVED_FROM[sender.__name__]
    before = None
    if instance.pk is not None and not raw:
        before = sender._base_manager.filter(pk=instance.pk).values(*fields).first()
    instance._catalog_saved_from = before


def _precise_row_saved(sender, instance, **kwargs):
    handler = {
        "Recording": recording_saved,
        "Credit": credit_saved,
        "Track": track_saved,
        "CatalogueNumber": work_part_changed,
        "Movement": work_part_changed,
    }[sender.__name__]
    handler(instance, before=instance.__dict__.pop("_catalog_saved_from", None))


def _catalog_row_deleted(sender, instance, origin=None, **kwargs):
    catalog_row_deleted(instance, origin=origin)


def _offer_row_changed(sender, instance, **kwargs):
    offer_changed(instance)


def _release_row_saved(sender, instance, created, **kwargs):
    if created:
        catalog_changed()
    else:
        release_changed(instance, credited=True)


def _editorial_row_changed(sender, instance, **kwargs):
    from .models import Release

    try:
        release = instance.release
    except Release.DoesNotExist:  # deleted along with its release
        return catalog_changed()
    editorial_changed(release=release)


def connect_invalidation(models):
    """A saved offer, an edited release, a saved recording, credit, track, catalogue
    number or movement, or a deleted one of them, makes stale the pages that show it
    (and, when it changes what a work's page keeps of its recordings, that work's kept
    facts: selectors.work_page_facts). A saved label or performer makes every page stale
    and every work's kept facts (their names show in the filters); a saved composer,
    work or alias, or a new release, every page but not the kept facts, which show
    nothing of them."""
    for model in models:
        name = model.__name__
        on_save = {
            "Offer": _offer_row_changed,
            "Release": _release_row_saved,
            "EditorialPick": _editorial_row_changed,
            "Award": _editorial_row_changed,
            "Recording": _precise_row_saved,
            "Credit": _precise_row_saved,
            "Track": _precise_row_saved,
            "CatalogueNumber": _precise_row_saved,
            "Movement": _precise_row_saved,
            "Label": _named_row_changed,
            "Artist": _named_row_changed,
        }.get(name, _catalog_row_changed)
        if name in _SAVED_FROM:
            pre_save.connect(_remember_saved_from, sender=model, dispatch_uid=f"catalog-cache-{name}-pre-save")
        on_delete = {
            "EditorialPick": _editorial_row_changed,
            "Award": _editorial_row_changed,
        }.get(name, _catalog_row_deleted)
        post_save.connect(on_save, sender=model, dispatch_uid=f"catalog-cache-{name}-save")
        post_delete.connect(on_delete, sender=model, dispatch_uid=f"catalog-cache-{name}-delete")


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
