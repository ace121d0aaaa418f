"""Measure catalog search: p50/p95 of 200 distinct queries, each run once (nothing
cached), on a catalog of N demo releases.

    python bench/search.py [--releases 100000] [--sqlite-path var/bench-100k.sqlite3]

Runs on SQLite (the file at --sqlite-path, loaded with `manage.py load_demo_catalog
--all-works --releases N` when it holds fewer releases) and, when DATABASE_URL is set,
on that PostgreSQL database too (loaded the same way). Prints figures; passes or fails
nothing."""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def queries(count=200):
    """The search corpus, then variations of it and of the catalog's own names:
    composer + number, catalogue numbers, typos, words of titles, nonsense."""
    from catalog.models import Composer, Work
    from catalog.text import fold
    from tests.catalog.test_search import CORPUS

    rng = random.Random(8)
    out, seen = [], set()

    def add(query):
        key = fold(query)
        if key and key not in seen:
            seen.add(key)
            out.append(query)

    for query, _, _ in CORPUS:
        add(query)
    surnames = [
        fold(name).split()[-1] for name in Composer.objects.order_by("-popular", "name").values_list("name", flat=True)
    ]
    titles = list(Work.objects.filter(recording_count__gt=0).order_by("pk").values_list("title", flat=True)[:2000])
    generators = [
        lambda: f"{rng.choice(surnames[:40])} {rng.randint(1, 9)}",
        lambda: rng.choice(surnames),
        lambda: _typo(rng, rng.choice(surnames[:60])),
        lambda: " ".join(fold(rng.choice(titles)).split()[:2]),
        lambda: f"{rng.choice(surnames[:30])} {' '.join(fold(rng.choice(titles)).split()[:1])}",
        lambda: rng.choice(["BWV", "K.", "op.", "D", "RV", "Hob."]) + f" {rng.randint(1, 1000)}",
        lambda: _typo(rng, " ".join(fold(rng.choice(titles)).split()[:2])),
        lambda: "".join(rng.choice("qxzjvwk") for _ in range(rng.randint(6, 10))),
    ]
    while len(out) < count:
        add(rng.choice(generators)())
    return out[:count]


def _typo(rng, text):
    if len(text) < 5:
        return text + "e"
    i = rng.randrange(1, len(text) - 1)
    return rng.choice([text[:i] + text[i + 1 :], text[:i] + text[i + 1] + text[i] + text[i + 2 :]])


def measure(releases):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import Release
    from catalog.search import search_catalog

    call_command("migrate", verbosity=0)
    if Release.objects.count() < releases:
        call_command("load_demo_catalog", all_works=True, releases=releases)
    batch = queries()
    for query in ["warm up", "beethoven", "bwv 1"]:
        search_catalog(query)
    runs, empty, corrected, no_hit = [], 0, 0, []
    for query in batch:
        start = time.perf_counter()
        results = search_catalog(query)
        runs.append(((time.perf_counter() - start) * 1000, query))
        empty += results.empty
        corrected += results.corrected
        if results.empty:
            no_hit.append(runs[-1][0])
    runs.sort()
    timings = [t for t, _ in runs]
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{connection.vendor:10} {Release.objects.count():>9,} releases  {len(batch)} queries  "
        f"p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  max {timings[-1]:6.1f} ms  "
        f"({empty} found nothing, {corrected} corrected)"
    )
    if no_hit:
        print(f"  queries that found nothing (typo path included): p50 {statistics.median(no_hit):.1f} ms")
    print("  slowest: " + ", ".join(f"{q!r} {t:.0f} ms" for t, q in reversed(runs[-5:])))
    print(f"  over 100 ms: {sum(t > 100 for t in timings)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--sqlite-path", default=str(ROOT / "var" / "bench-100k.sqlite3"))
    parser.add_argument("--only", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkiv.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.only:
        if args.only == "sqlite":
            os.environ.pop("DATABASE_URL", None)
            os.environ["SQLITE_PATH"] = args.sqlite_path
        measure(args.releases)
        return
    runs = ["sqlite"] + (["postgres"] if os.environ.get("DATABASE_URL") else [])
    for run in runs:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--releases",
                str(args.releases),
                "--sqlite-path",
                args.sqlite_path,
                "--only",
                run,
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
