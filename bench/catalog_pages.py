"""Measure catalog pages: queries and render time in-process, then requests per second
through gunicorn against a hello-world view served by the same process, in one run.

    python bench/catalog_pages.py [--seconds 5] [--connections 8] [--workers 1]

Uses DATABASE_URL, or var/arkiv.sqlite3 (loaded by `make run`) when unset. Prints
figures; passes or fails nothing."""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

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


def pages():
    """The main pages, on rows that exist in the loaded catalog."""
    from catalog.models import Artist, Label, Recording, Work

    work = Work.objects.filter(recording_count__gt=0).select_related("composer").order_by("-recording_count").first()
    release = Recording.objects.filter(work=work).select_related("release").first().release
    artist = Artist.objects.filter(credits__role="conductor").first()
    return {
        "hello world": "/bench/hello/",
        "home": "/",
        "composers A-Z": "/composers/",
        "composer": work.composer.get_absolute_url(),
        "work (most recorded)": work.get_absolute_url(),
        "release": release.get_absolute_url(),
        "artist": artist.get_absolute_url(),
        "label": Label.objects.first().get_absolute_url(),
        "new releases": "/releases/",
        "genre": "/genres/orchestral/",
        "search 'beethoven 9'": "/search/?q=beethoven+9",
        "search 'tschaikowsky 6'": "/search/?q=tschaikowsky+6",
        "search 'bwv 1007'": "/search/?q=bwv+1007",
        "search 'bethoven' (typo)": "/search/?q=bethoven",
    }


def in_process(urls, repeat):
    """Queries and median render time of each page rendered afresh (cache emptied
    before each request), and the median time of a cached hit."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    rows = {}
    for name, url in urls.items():
        client.get(url)
        fresh, cached = [], []
        for _ in range(repeat):
            cache.clear()
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            fresh.append((time.perf_counter() - start) * 1000)
            # Read now: the next request's start empties the connection's query log.
            queries = len(ctx.captured_queries)
            assert response.status_code == 200, (url, response.status_code)
            start = time.perf_counter()
            client.get(url)
            cached.append((time.perf_counter() - start) * 1000)
        rows[name] = (queries, statistics.median(fresh), statistics.median(cached))
    return rows


def load(url, port, seconds, connections, headers=()):
    wrk = shutil.which("wrk")
    if wrk:
        extra = [arg for header in headers for arg in ("-H", header)]
        out = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", *extra, f"http://127.0.0.1:{port}{url}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return _python_load(url, port, seconds, connections, headers)


def _python_load(url, port, seconds, connections, headers=()):
    done, stop = [0] * connections, time.monotonic() + seconds

    def worker(i):
        conn = HTTPConnection("127.0.0.1", port)
        while time.monotonic() < stop:
            conn.request("GET", url, headers=dict(h.split(": ", 1) for h in headers))
            conn.getresponse().read()
            done[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from catalog.models import Release

    urls = pages()
    print(f"Database: {connection.vendor}, {Release.objects.count():,} releases")
    print(
        f"Load generator: {'wrk' if shutil.which('wrk') else 'python threads'}, "
        f"{args.connections} connections, {args.seconds} s per page; gunicorn workers: {args.workers}"
    )
    measured = in_process(urls, args.repeat)
    connection.close()

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/bench/hello/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        rates = {name: load(url, args.port, args.seconds, args.connections) for name, url in urls.items()}
        # A visitor with a session (a cart) gets the same shared page, their own parts filled in.
        session = ["Cookie: sessionid=benchmark-visitor"]
        fresh = {name: load(url, args.port, args.seconds, args.connections, session) for name, url in urls.items()}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)

    hello = rates["hello world"]
    print("\nreq/s: anonymous visitors (shared cache) and visitors with a session (shared page, own parts filled in);")
    print("render: in-process median of a fresh render and of a cache hit.")
    header = f"{'page':28} {'anon req/s':>10} {'vs hello':>9} {'session req/s':>14} {'vs hello':>9}"
    print(f"\n{header} {'queries':>8} {'render ms':>10} {'hit ms':>7}")
    for name in urls:
        queries, ms, hit = measured[name]
        print(
            f"{name:28} {rates[name]:10.0f} {rates[name] / hello:9.1%} {fresh[name]:14.0f} "
            f"{fresh[name] / fresh['hello world']:9.1%} {queries:8d} {ms:10.1f} {hit:7.1f}"
        )


if __name__ == "__main__":
    main()
