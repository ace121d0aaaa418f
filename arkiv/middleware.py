"""The shop's own middleware: requests refused before any view sees them, and pages no
cache may keep."""

from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, gettext_noop

NUL = "\x00"
BAD_BYTES_MESSAGE = gettext_noop(
    "The address or form you sent contains a null character (%00), which no page of the "
    "shop accepts. Please check what you typed or pasted and try again."
)


def _has_nul(querydict):
    return any(NUL in key or any(NUL in value for value in values) for key, values in querydict.lists())


class RejectNulBytesMiddleware:
    """A NUL byte in the path, the query, a cookie or a submitted form gets a 400 with a
    clear message. PostgreSQL text cannot hold NUL, so letting one through to a lookup
    would end in a 500; no legitimate visitor ever sends one.

    Runs before the session is loaded: a NUL in the session cookie must not reach the
    session table either."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._carries_nul(request):
            # Before LocaleMiddleware: the page is in the language its address names (/de/).
            language = translation.get_language_from_path(request.path_info.replace(NUL, ""))
            with translation.override(language or settings.LANGUAGE_CODE):
                return render(request, "400.html", {"message": gettext(BAD_BYTES_MESSAGE)}, status=400)
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request):
        # request.path ends with path_info, so one check covers both. Without a query
        # string there is no query to parse (most requests, every cached page's visitor).
        if NUL in request.path or (request.META.get("QUERY_STRING") and _has_nul(request.GET)):
            return True
        if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
            return True
        # Browsers send our forms urlencoded; Django reads such a body whole anyway.
        # Multipart bodies (uploads, inbound mail) are left to stream to their views,
        # whose form fields refuse NUL themselves (Django's CharField does).
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            return _has_nul(request.POST)
        return False


class PrivatePagesMiddleware:
    """A page built for one visitor (anything of a signed-in account, and every page read
    from a session that holds something: a cart, a placed order) is stored by no cache.
    Not by a proxy, and not by the browser, where the next person at a shared computer
    could page back to an order, an address or the data download after sign-out. Pages
    without a session (the shared catalog pages) are left as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        personal = session is not None and session.accessed and (session.session_key or request.user.is_authenticated)
        if personal and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
