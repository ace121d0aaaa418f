"""The shop's languages: English at the site's root, German under /de/.

The language of a page is the one its address names, never a cookie (promise P7: the
shop sets the session and CSRF cookies only). A browser that prefers German and arrives
at the home page from elsewhere (typed, bookmarked, a search result) is sent to the
German home page; once on the site, the address alone decides, so choosing "English"
in the language switch sticks for as long as the visitor follows the shop's links."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.http import HttpResponseRedirect
from django.middleware import locale
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse, translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def browser_language(request):
    """The shop's language the browser prefers most (Accept-Language), or None when it
    names none of them."""
    for code, _quality in parse_accept_lang_header(request.headers.get("accept-language", "")):
        if code == "*":
            return None
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def _from_this_site(request):
    referer = request.headers.get("referer", "")
    try:
        return bool(referer) and urlsplit(referer).netloc == request.get_host()
    except Exception:  # an unknown host is the host check's business, later in the stack
        return False


class BrowserLanguageMiddleware:
    """Sends a visitor whose browser prefers another language than the default from the
    home page to the home page in that language, unless they came from one of the shop's
    own pages (the language switch). Runs before the page cache, whose entries are per
    address and so per language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != "/" or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        language = None if _from_this_site(request) else browser_language(request)
        if language and language != settings.LANGUAGE_CODE:
            response = HttpResponseRedirect(translate_url(request.get_full_path(), language))
        else:
            response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Referer"))
        return response


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's LocaleMiddleware, without the work whose answer the shop's URLs already
    give. With the default language unprefixed (prefix_default_language=False), Django
    takes the language from the path or else uses LANGUAGE_CODE, after also reading the
    language cookie and parsing Accept-Language only to set them aside; on a cached page
    that was a good part of the whole answer's cost. The language is taken from the path
    once, so the response is shaped as Django shapes it (Vary: Accept-Language on
    unprefixed pages, Content-Language) without a second look. Any other URLconf is left
    to Django."""

    def process_request(self, request):
        used, prefixed_default = is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))
        if not used or prefixed_default:
            return super().process_request(request)
        request._language_from_path = translation.get_language_from_path(request.path_info)
        translation.activate(request._language_from_path or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if not hasattr(request, "_language_from_path"):
            return super().process_response(request, response)
        # Django's redirect of a 404 to a prefixed URL is for prefixed default languages only.
        if request._language_from_path is None:
            patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


# The path of each URL name in each language (and script prefix and URLconf), with a
# mark where each argument goes.
_PATHS = {}
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _path_in(match, code):
    """The path the resolved URL has in that language, as translate_url would give it,
    from a path reversed once per URL name and language with the arguments filled in;
    None where that cannot be done the same way (positional or unusual arguments, a URL
    without a name), which translate_url then answers."""
    kwargs = {name: str(value) for name, value in match.kwargs.items()}
    if match.args or match.url_name is None or not all(_SLUG.fullmatch(value) for value in kwargs.values()):
        return None
    key = (match.view_name, code, get_script_prefix(), get_urlconf(), tuple(kwargs))
    if key not in _PATHS:
        marks = {name: f"0arg0{name}0" for name in kwargs}
        try:
            with translation.override(code):
                _PATHS[key] = (reverse(match.view_name, kwargs=marks), marks)
        except NoReverseMatch:
            _PATHS[key] = None
    if _PATHS[key] is None:
        return None
    path, marks = _PATHS[key]
    for name, value in kwargs.items():
        path = path.replace(marks[name], value)
    return path


def language_versions(request):
    """[(code, name in that language, URL of this page in it, the same absolute, is the
    current one)] for the language switch and the hreflang links; empty where the page
    has one language only (the admin, feeds). Absolute URLs come from ARKIV_SITE_URL,
    never from the request's Host header (which a 400 page for a bad host cannot read).
    The page's URL is resolved once, by the request itself, not again per language."""
    path = request.get_full_path()
    query = path.partition("?")[2]
    match = getattr(request, "resolver_match", None)
    current = get_language()
    site = settings.ARKIV_SITE_URL.rstrip("/")
    versions = []
    for code, _name in settings.LANGUAGES:
        url = _path_in(match, code) if match is not None else None
        if url is None:
            url = translate_url(path, code)
        elif query:
            url = f"{url}?{query}"
        versions.append((code, settings.LANGUAGE_AUTONYMS[code], url, site + url, code == current))
    if len({version[2] for version in versions}) < len(versions):
        return []
    return versions
