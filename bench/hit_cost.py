"""What one cached catalog page costs in-process: microseconds per request through the
WSGI application for a hello-world view and for cache hits (anonymous with no cookie, as
wrk sends it; with the CSRF cookie a second page view sends; a German page; a browser
preferring German on an English page), with the per-process cache or, with --redis, the
shared Redis cache. --profile: a cProfile of the hit without cookies. --i18n: the hit
through handlers that differ only in the language middleware. --middleware: what each
middleware adds to hello world (the ones before the page cache add the same to a hit).

    python bench/hit_cost.py [--requests 20000] [--redis] [--profile] [--top 30]
                             [--sort cumulative] [--only "hello world;..."] [--i18n]
                             [--middleware]

Uses DATABASE_URL or var/bench-100k.sqlite3 (make bench loads it; --sqlite-path),
REDIS_URL or a redis-server of its own with --redis. CPU time of this process (the
least of 5 rounds), steadier than wall time on a busy machine; with Redis it includes
the kernel's share of each round trip but not Redis's own work. Compare figures of one
run. Prints figures; passes or fails nothing."""

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_pages import ENV, redis_server  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--redis", action="store_true", help="measure with the shared Redis cache too")
    parser.add_argument("--redis-port", type=int, default=6394)
    parser.add_argument("--sqlite-path", default=str(ROOT / "var" / "bench-100k.sqlite3"))
    parser.add_argument("--profile", action="store_true", help="cProfile of the anonymous hit")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime or cumulative")
    parser.add_argument("--only", default="", help="case names to measure, separated by ; (default all)")
    parser.add_argument(
        "--middleware", action="store_true", help="what each middleware adds to hello world (a request no cache serves)"
    )
    parser.add_argument(
        "--i18n",
        action="store_true",
        help="what the language middleware cost a hit (each variant a handler of its own)",
    )
    return parser.parse_args(argv)


def wsgi_caller(app):
    from django.test.client import FakePayload, RequestFactory

    base = RequestFactory()._base_environ

    def call(path, cookie="", **extra):
        environ = base(PATH_INFO=path, REQUEST_METHOD="GET", SERVER_NAME="127.0.0.1", **extra)
        if cookie:
            environ["HTTP_COOKIE"] = cookie
        environ["wsgi.input"] = FakePayload(b"")
        seen = {}

        def start_response(status, headers):
            seen["status"], seen["headers"] = status, headers

        response = app(environ, start_response)
        body = b"".join(response)
        response.close()
        return seen["status"], seen["headers"], body

    return call


def microseconds(call, requests, rounds=5):
    """CPU time of this process per request, the least of a few rounds: the machine's
    other work inflates some rounds, never deflates one."""
    call()
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(requests // rounds):
            call()
        best = min(best, (time.process_time() - start) / (requests // rounds))
    return best * 1e6


def cases(call, page):
    """The requests measured, each a function of no arguments."""
    status, headers, body = call(page)
    assert status.startswith("200"), status
    cookie = "; ".join(value.split(";")[0] for name, value in headers if name.lower() == "set-cookie")
    _, headers, _ = call(page, cookie)
    assert dict(headers).get("X-Page-Cache") == "hit", "the page is not served from the cache"
    german = "/de" + page
    call(german)
    return {
        "hello world": lambda: call("/bench/hello/"),
        "hit, anonymous, no cookie": lambda: call(page),
        "hit, anonymous, CSRF cookie": lambda: call(page, cookie),
        "hit, German page": lambda: call(german, cookie),
        "hit, Accept-Language: de": lambda: call(page, cookie, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"),
    }


def measure(label, page, args):
    from django.core.cache import caches
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    call = wsgi_caller(app)
    caches["default"].clear()
    measured = cases(call, page)
    only = {name.strip() for name in args.only.split(";") if name.strip()}
    figures = {name: microseconds(case, args.requests) for name, case in measured.items() if not only or name in only}
    hello = figures.get("hello world")
    print(f"\n{label}: microseconds per request, {args.requests:,} requests each")
    for name, us in figures.items():
        ratio = f"   hello world / this: {hello / us:.2f}" if hello else ""
        print(f"  {name:32} {us:8.1f} us{ratio}")
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        anonymous = measured["hit, anonymous, no cookie"]
        profiler.enable()
        for _ in range(args.requests):
            anonymous()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())


def i18n_costs(page, args):
    """An anonymous hit (CSRF cookie, Accept-Language: de) through handlers whose only
    difference is the language middleware: none, Django's LocaleMiddleware, the shop's
    (arkiv.i18n.LocaleMiddleware), and each with BrowserLanguageMiddleware."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    ours, django_s, browser = (
        "arkiv.i18n.LocaleMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "arkiv.i18n.BrowserLanguageMiddleware",
    )
    base = [name for name in settings.MIDDLEWARE if name not in {ours, django_s, browser}]
    session = base.index("django.contrib.sessions.middleware.SessionMiddleware")
    shared = base.index("catalog.caching.SharedPageMiddleware")

    def stack(locale, with_browser):
        names = list(base)
        if locale:
            names.insert(session + 1, locale)
        if with_browser:
            names.insert(shared, browser)
        return names

    variants = {
        "no language middleware": stack(None, False),
        "Django's LocaleMiddleware": stack(django_s, False),
        "arkiv.i18n.LocaleMiddleware": stack(ours, False),
        "Django's + BrowserLanguage": stack(django_s, True),
        "arkiv's + BrowserLanguage": stack(ours, True),
    }
    print(f"  the language middleware on a hit (Accept-Language: de), {args.requests:,} requests each:")
    figures = {}
    for name, middleware in variants.items():
        with override_settings(MIDDLEWARE=middleware):
            call = wsgi_caller(WSGIHandler())
            cookie = "; ".join(v.split(";")[0] for k, v in call(page)[1] if k.lower() == "set-cookie")
            _, headers, _ = call(page, cookie)
            assert dict(headers).get("X-Page-Cache") == "hit", name
            figures[name] = microseconds(
                lambda call=call, cookie=cookie: call(page, cookie, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"),
                args.requests,
            )
    for name, us in figures.items():
        print(f"    {name:32} {us:8.1f} us   {us - figures['no language middleware']:+6.1f} us")


def middleware_costs(args):
    """Hello world through the first N middleware, for each N: what each middleware adds
    to a request it passes on (the ones before the page cache do the same on a hit)."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    print(f"  each middleware on hello world (with those before it), {args.requests:,} requests each:")
    previous = None
    for count in range(len(settings.MIDDLEWARE) + 1):
        with override_settings(MIDDLEWARE=settings.MIDDLEWARE[:count]):
            call = wsgi_caller(WSGIHandler())
            us = microseconds(lambda call=call: call("/bench/hello/"), args.requests)
        name = settings.MIDDLEWARE[count - 1] if count else "(no middleware)"
        print(f"    {name:60} {us:8.1f} us" + (f"   {us - previous:+6.1f} us" if previous is not None else ""))
        previous = us


def main(argv=None):
    args = parse_args(argv)
    os.environ.update(ENV)
    os.environ.setdefault("PAGE_CACHE_STATUS_HEADER", "1")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = args.sqlite_path
    with contextlib.ExitStack() as stack:
        if args.redis:
            os.environ["PAGE_CACHE"] = "redis"
            os.environ["REDIS_URL"] = stack.enter_context(redis_server(argparse.Namespace(redis_port=args.redis_port)))
        else:
            os.environ["PAGE_CACHE"] = "locmem"
        import django

        django.setup()
        from django.conf import settings

        from bench.catalog_pages import pages

        page = pages()["release"]
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        measure(f"{backend} page cache, page {page}", page, args)
        if args.i18n:
            i18n_costs(page, args)
        if args.middleware:
            middleware_costs(args)


if __name__ == "__main__":
    main()
