"""Where a shopper's request goes: requests per second through gunicorn and a cProfile of
the same request in-process, for

  - a catalog page served from the shared cache to an anonymous visitor,
  - the same page to a visitor with a real session holding a cart,
  - the cart page of that visitor,
  - adding to the cart (POST, with the visitor's CSRF token), measured with the page
    the browser is sent back to (the POST's own rate is derived from the two),

each as a ratio to a hello-world Django view measured in the same run.

    python bench/hit_profile.py [--seconds 5] [--connections 8] [--workers 1] [--runs 3]
                                [--profile] [--port 8791]

Uses DATABASE_URL, or var/arkiv.sqlite3 (`make run` loads it), and REDIS_URL when set.
Prints figures; passes or fails nothing. Needs wrk for the POST load."""

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_HTTPS": "0",
    "STATIC_MANIFEST": "0",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def targets():
    """A catalog page and offers that can take many copies, from the loaded catalog."""
    from catalog.models import Offer, Recording, Work

    work = Work.objects.filter(recording_count__gt=0).order_by("-recording_count").first()
    release = Recording.objects.filter(work=work).select_related("release").first().release
    offers = list(Offer.objects.filter(is_active=True, made_to_order=True).values_list("pk", flat=True)[:20])
    offers += list(Offer.objects.filter(is_active=True, stock__gte=99).values_list("pk", flat=True)[: 20 - len(offers)])
    return release.get_absolute_url(), offers


class Visitor:
    """A browser with its own cookies, speaking plain HTTP to the server."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, url, body=None):
        conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie_header()}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{url}"
        conn.request(method, url, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, text

    def cookie_header(self):
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


def cart_visitor(port, page, offers):
    """A visitor who put one copy of each of three offers in the cart."""
    visitor = Visitor(port)
    status, text = visitor.request("GET", page)
    token = CSRF_INPUT.search(text).group(1)
    for offer in offers[:3]:
        body = urlencode({"csrfmiddlewaretoken": token, "offer": offer, "quantity": 1, "next": page})
        status, _ = visitor.request("POST", "/cart/add/", body)
        assert status == 302, status
    visitor.request("GET", page)  # the message is shown once, as a browser would see it
    assert "sessionid" in visitor.cookies
    return visitor, token


def wrk(url, port, seconds, connections, cookie="", post=None):
    lines = [f'wrk.headers["Cookie"] = "{cookie}"'] if cookie else []
    if post:
        # A browser follows the redirect and reads the "added" message on the next page;
        # without that, messages would pile up in the session. Every other request is
        # that page (a cache hit), so the figure is for the pair.
        offers, token, page = post
        lines += [
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
            f'wrk.headers["Referer"] = "http://127.0.0.1:{port}{page}"',
            f"offers = {{{', '.join(str(o) for o in offers)}}}",
            "i = 0",
            "request = function()",
            "  i = i + 1",
            f'  if i % 2 == 0 then return wrk.format("GET", "{page}", nil, nil) end',
            f'  local body = "csrfmiddlewaretoken={token}&quantity=1&next={page}&offer=" .. offers[(i % #offers) + 1]',
            '  return wrk.format("POST", nil, nil, body)',
            "end",
        ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script.name, f"http://127.0.0.1:{port}{url}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"  ! {url}: {non2xx.group(1)} responses were errors")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def serve(port, workers):
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
        + ["--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/hello/", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def measure(args, page, offers):
    server = serve(args.port, args.workers)
    try:
        visitor, token = cart_visitor(args.port, page, offers)
        cookie = visitor.cookie_header()
        Visitor(args.port).request("GET", page)  # the page is now in the cache
        # Add-to-cart gets its own session, so the cart above keeps its three lines.
        adder, adder_token = cart_visitor(args.port, page, offers)
        rates = {
            "hello world": wrk("/bench/hello/", args.port, args.seconds, args.connections),
            "page, anonymous (hit)": wrk(page, args.port, args.seconds, args.connections),
            "page, cart session (hit)": wrk(page, args.port, args.seconds, args.connections, cookie),
            "cart page": wrk("/cart/", args.port, args.seconds, args.connections, cookie),
            "add to cart + page": wrk(
                "/cart/add/",
                args.port,
                args.seconds,
                args.connections,
                adder.cookie_header(),
                post=(offers, adder_token, page),
            ),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    return rates


def profile(page, offers, top):
    """cProfile of each request in-process, through Django's whole handler."""
    import django

    django.setup()
    from django.test import Client

    client = Client()
    text = client.get(page).content.decode()
    token = CSRF_INPUT.search(text).group(1)
    anonymous = Client()
    anonymous.get(page)
    for offer in offers[:3]:
        client.post("/cart/add/", {"csrfmiddlewaretoken": token, "offer": offer, "quantity": 1, "next": page})
    client.get(page)
    cases = {
        "page, anonymous (hit)": lambda: Client().get(page),
        "page, cart session (hit)": lambda: client.get(page),
        "cart page": lambda: client.get("/cart/"),
        "add to cart (POST)": lambda: (
            client.post("/cart/add/", {"csrfmiddlewaretoken": token, "offer": offers[5], "quantity": 1, "next": page}),
            client.get(page),  # reads the message, as the browser does after the redirect
        ),
    }
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name, call in cases.items():
        call()
        with CaptureQueriesContext(connection) as ctx:
            call()
        queries = len(ctx.captured_queries)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            call()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        print(f"\n=== {name}: {queries} queries; 200 requests, cumulative time ===")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


def cpu_per_request(page, offers, repeat):
    """CPU time (ms) of this process per request through the WSGI application, cookies
    as a browser sends them: steadier than req/s on a busy machine, though it leaves out
    the time spent waiting for Redis or the database and their own CPU."""
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.test.client import FakePayload, RequestFactory

    app = get_wsgi_application()
    base = RequestFactory()._base_environ

    def call(method, path, cookie="", body=b""):
        environ = base(PATH_INFO=path, REQUEST_METHOD=method, HTTP_COOKIE=cookie, SERVER_NAME="127.0.0.1")
        if body:
            environ.update(
                CONTENT_TYPE="application/x-www-form-urlencoded",
                CONTENT_LENGTH=str(len(body)),
                HTTP_REFERER=f"http://127.0.0.1{page}",
            )
        environ["wsgi.input"] = FakePayload(body)
        headers = {}

        def start_response(status, response_headers):
            headers["status"], headers["list"] = status, response_headers

        response = app(environ, start_response)
        text = b"".join(response)
        response.close()
        return headers, text.decode()

    def cookies_from(headers, jar):
        for name, value in headers["list"]:
            if name.lower() == "set-cookie":
                jar.update({k: m.value for k, m in SimpleCookie(value).items()})
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    jar = {}
    headers, text = call("GET", page)
    cookie = cookies_from(headers, jar)
    token = CSRF_INPUT.search(text).group(1)
    for offer in offers[:3]:
        body = urlencode({"csrfmiddlewaretoken": token, "offer": offer, "quantity": 1, "next": page}).encode()
        headers, _ = call("POST", "/cart/add/", cookie, body)
        cookie = cookies_from(headers, jar)
    call("GET", page, cookie)
    add = urlencode({"csrfmiddlewaretoken": token, "offer": offers[5], "quantity": 1, "next": page}).encode()
    cases = {
        "hello world": lambda: call("GET", "/bench/hello/"),
        "page, anonymous (hit)": lambda: call("GET", page),
        "page, cart session (hit)": lambda: call("GET", page, cookie),
        "cart page": lambda: call("GET", "/cart/", cookie),
        "add to cart (POST)": lambda: (call("POST", "/cart/add/", cookie, add), call("GET", page, cookie)),
    }
    figures = {}
    for name, case in cases.items():
        case()
        start = time.process_time()
        for _ in range(repeat):
            case()
        figures[name] = (time.process_time() - start) / repeat * 1000
    # The POST alone: less the page read after it.
    figures["add to cart (POST)"] -= figures["page, cart session (hit)"]
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of each request")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=500, help="requests per in-process CPU figure")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk (apt-get install wrk)")

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    page, offers = targets()
    connection.close()
    print(
        f"Database: {connection.vendor}; page cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}; "
        f"sessions: {settings.SESSION_ENGINE}; gunicorn workers: {args.workers}; wrk -c{args.connections} "
        f"-d{args.seconds}s; page {page}"
    )
    runs = [measure(args, page, offers) for _ in range(args.runs)] if args.runs else []
    for run in runs:
        # The POST alone: the pair's time less the page's (a hit for this visitor).
        pair, page_rate = run["add to cart + page"], run["page, cart session (hit)"]
        run["add to cart (POST), derived"] = 1 / max(2 / pair - 1 / page_rate, 1e-9)
    print(f"\n{'request':30} {'req/s (runs)':>30} {'vs hello world (range)':>24}")
    for name in runs[0] if runs else []:
        rates = [run[name] for run in runs]
        ratios = [run[name] / run["hello world"] for run in runs]
        shown = ", ".join(f"{r:.0f}" for r in rates)
        print(f"{name:30} {shown:>30} {min(ratios):>11.2f} - {max(ratios):.2f}")
    cpu = cpu_per_request(page, offers, args.repeat)
    print(f"\nIn-process CPU per request ({args.repeat} requests each):")
    for name, ms in cpu.items():
        print(f"{name:30} {ms:8.2f} ms   hello world / this: {cpu['hello world'] / ms:.2f}")
    if args.profile:
        profile(page, offers, args.top)


if __name__ == "__main__":
    main()
