"""What the cart page and add to cart cost in-process: microseconds and queries per
request through the WSGI application, for a hello-world view, the cart page of a visitor
with one item, the add-to-cart POST the benchmark's row sends (the same offer again and
again, with the session and CSRF cookies and token a browser has: once the item's limit
is reached, every add is refused with the same message), and adds that are accepted
(another shopper's cart, emptied before it reaches the limit), with a per-process page cache
(sessions in the database) or, with --redis, the shared Redis cache (and sessions in it).

    python bench/cart_profile.py [--requests 5000] [--redis] [--profile "add, accepted"]
                                 [--top 30] [--sort tottime]
                                 [--wrk [--pairs 3] [--seconds 10] [--workers 2]]

Uses DATABASE_URL or var/bench-100k.sqlite3 (make bench loads it; --sqlite-path),
REDIS_URL or a redis-server of its own with --redis. With --wrk, the cart page and add
to cart rows of `make bench` are then measured over HTTP as it measures them (gunicorn,
wrk with the cookies of a visitor with one item), each alternated with hello world
--pairs times, and each pair's ratio printed: on a machine others are using, a ratio to
a hello world measured minutes apart says little. CPU time of this process (the least
of 5 rounds), steadier than wall time on a busy machine; with Redis or PostgreSQL it
includes the kernel's share of each round trip but not the server's own work. The
queries listed are every statement Django sends (BEGIN and COMMIT included); with
CONN_HEALTH_CHECKS=1 each request also sends a SELECT 1, not listed. With --redis the
session, and with it the shipping rates' version, is one round trip to Redis. Prints
figures; passes or fails nothing."""

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import re
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog_pages import ENV, redis_server  # noqa: E402
from bench.hit_cost import microseconds  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--redis", action="store_true", help="the shared Redis cache, sessions in it")
    parser.add_argument("--redis-port", type=int, default=6395)
    parser.add_argument("--sqlite-path", default=str(ROOT / "var" / "bench-100k.sqlite3"))
    parser.add_argument("--profile", default="", help="a case to profile with cProfile, e.g. 'add to cart'")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime or cumulative")
    parser.add_argument("--wrk", action="store_true", help="also the two rows over HTTP, paired with hello world")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8797)
    return parser.parse_args(argv)


class Visitor:
    """A browser in-process: the WSGI application called directly, cookies kept."""

    def __init__(self, app):
        from django.test.client import RequestFactory

        self.app = app
        self.base = RequestFactory()._base_environ
        self.cookies = {}

    def cookie_header(self):
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def call(self, method, path, body=b"", headers=None, keep=True):
        from django.test.client import FakePayload

        environ = self.base(PATH_INFO=path, REQUEST_METHOD=method, SERVER_NAME="127.0.0.1", **(headers or {}))
        if self.cookies:
            environ["HTTP_COOKIE"] = self.cookie_header()
        if body:
            environ.update(CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH=str(len(body)))
        environ["wsgi.input"] = FakePayload(body)
        seen = {}

        def start_response(status, response_headers):
            seen["status"], seen["headers"] = status, response_headers

        response = self.app(environ, start_response)
        content = b"".join(response)
        response.close()
        if keep:
            for name, value in seen["headers"]:
                if name.lower() == "set-cookie":
                    for morsel in SimpleCookie(value).values():
                        self.cookies[morsel.key] = morsel.value
        return seen["status"], seen["headers"], content


def measure(args):
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.catalog_pages import offer_on, pages

    release_path = pages()["release"]
    offer = offer_on(release_path)
    visitor = Visitor(get_wsgi_application())
    status, _, page = visitor.call("GET", release_path)
    assert status.startswith("200"), status
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    body = urlencode({"offer": offer.pk, "quantity": 1, "csrfmiddlewaretoken": token, "next": release_path}).encode()
    status, _, _ = visitor.call("POST", "/cart/add/", body)
    assert status.startswith("302"), status
    # The benchmark's wrk scripts send the cookies the browser had after that first add;
    # the answers' cookies are not kept (as wrk does not keep them).
    csrf = {"HTTP_X_CSRFTOKEN": token}
    # A second shopper whose adds are accepted: the cart is emptied before the quantity
    # reaches the limit or the stock (that update is one of the requests measured).
    period = 90 if offer.made_to_order else max(1, min(90, offer.stock - 1))
    shopper = Visitor(visitor.app)
    own = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', shopper.call("GET", release_path)[2]).group(1)
    own_body = urlencode({"offer": offer.pk, "quantity": 1, "csrfmiddlewaretoken": own.decode()}).encode()
    empty = urlencode({"offer": offer.pk, "quantity": 0, "csrfmiddlewaretoken": own.decode()}).encode()
    shopper.call("POST", "/cart/add/", own_body)
    adds = [0]

    def accepted_add():
        adds[0] += 1
        if adds[0] % period == 0:
            shopper.call("POST", "/cart/update/", empty, keep=False)
        return shopper.call("POST", "/cart/add/", own_body, keep=False)

    measured = {
        "hello world": lambda: visitor.call("GET", "/bench/hello/", keep=False),
        "cart page": lambda: visitor.call("GET", "/cart/", keep=False),
        "add to cart": lambda: visitor.call("POST", "/cart/add/", body, csrf, keep=False),
        "add, accepted": accepted_add,
    }
    for name, case in measured.items():
        status = case()[0]
        assert status[:3] in {"200", "302", "303"}, (name, status)
    queries = {}
    for name, case in measured.items():
        case()  # as in a run of the same request: the first may take a message the others do not
        with CaptureQueriesContext(connection) as captured:
            case()
        queries[name] = [q["sql"] for q in captured.captured_queries]
    figures = {name: microseconds(case, args.requests) for name, case in measured.items()}
    hello = figures["hello world"]
    print(f"\n{connection.vendor}, {os.environ['PAGE_CACHE']} cache, {args.requests:,} requests each")
    for name, us in figures.items():
        print(f"  {name:14} {us:8.1f} us   hello world / this: {hello / us:.2f}   {len(queries[name])} queries")
    for name, sqls in queries.items():
        for sql in sqls:
            print(f"    {name}: {sql[:150]}")
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        case = measured[args.profile]
        profiler.enable()
        for _ in range(args.requests):
            case()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())


def over_http(args):
    """The cart page and add to cart rows as `make bench` runs them, each paired with
    hello world --pairs times; prints every pair and the median ratio."""
    from bench import traffic
    from bench.catalog_pages import Browser, Server, free_port, offer_on, pages, paired

    release_path = pages()["release"]
    offer = offer_on(release_path)
    port = free_port(args.port)
    env = {**os.environ, "ARKIV_SITE_URL": f"http://127.0.0.1:{port}"}
    server = Server(args, env, port)
    try:
        browser = Browser(server.url)
        browser.add_to_cart(release_path, offer.pk)
        session = {"Cookie": browser.cookie_header()}
        csrf = browser.http.cookies.get("csrftoken")
        add = traffic.post_script(
            "/cart/add/",
            {"offer": offer.pk, "quantity": 1, "csrfmiddlewaretoken": csrf, "next": release_path},
            {**session, "X-CSRFToken": csrf},
        )
        rows = {"cart page": ("/cart/", traffic.get_script(session)), "add to cart": ("/cart/add/", add)}
        print(f"\nover HTTP: gunicorn {args.workers} sync workers, wrk -c{args.connections}, {args.seconds} s each")
        for name, (path, script) in rows.items():
            (result, hello), ratios = paired(args, server.url + path, server.url + "/bench/hello/", script)
            print(
                f"  {name:12} median pair: {result['rate']:.0f} req/s, hello world {hello:.0f} req/s, "
                f"ratio {result['rate'] / hello:.3f}; each pair: {', '.join(f'{r:.3f}' for r in ratios)}"
                f"; errors {result.get('errors', 0)}"
            )
    finally:
        server.stop()


def main(argv=None):
    args = parse_args(argv)
    os.environ.update(ENV)
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
        measure(args)
        if args.wrk:
            over_http(args)


if __name__ == "__main__":
    main()
