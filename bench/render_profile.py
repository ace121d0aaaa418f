"""Measure what a cache miss costs on each catalog page: queries and median render time
in-process, on a large generated catalog.

    python bench/render_profile.py [--sqlite-path var/bench-100k.sqlite3] [--repeat 15] [--language de]
                                   [--only work,artist]

Uses DATABASE_URL when set, else the SQLite file at --sqlite-path (load it first with
`manage.py load_demo_catalog --all-works --releases N`); --language de measures the same
pages in German (/de/...: German work titles, genre names and prices). Three figures per page:

- miss: the page's cached copy expired by a catalog-wide change (catalog.services.
  catalog_changed(): the whole catalog's version bumped, as a composer, work or
  composer alias saved in the admin, or a new release, does), while the rest of the
  caches (release card and row fragments, per-process data) stay warm, and so does
  what a work's page keeps of its recordings (selectors.work_page_facts), which is
  keyed on the work's own version and the catalog's names version, not on the
  catalog's. Those two are bumped only by what changes them: a recording, credit,
  catalogue number or movement of the work saved or deleted, a release of it edited
  or deleted, a pick or award of one saved or deleted (the work's version); a label or
  performer saved, or a composer, work, label or performer deleted (the names
  version). A saved recording, credit, track, catalogue number or movement no longer
  bumps the catalog's version at all, only the pages that show it. This is what a
  running shop's cache miss is, and the figure issue 8's "fresh render (cache miss)"
  target is about;
- sale (work and release pages): the page expired because the stock or price of an
  offer it shows changed (catalog.services.offer_changed, as a staff edit or a sale
  that changes what the page says), the most common miss of a running shop's most
  visited pages. Only that page's own versions move: what is kept of the work's
  recordings (selectors.work_page_facts) stays, as for "miss". Nothing is written to
  the database;
- cold: the whole cache emptied before each request (page, versions and fragments), as
  only the first request after a deploy or a cache flush sees it.

The cache is the per-process one, so the figures are the render, not a cache server's
round trips. Each figure is a wall-clock median and the median CPU time of this process
(steadier on a busy machine; on PostgreSQL it leaves out the server's own work). Prints
figures; passes or fails nothing."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def offers_shown():
    """{page name: an offer that page shows}, for the pages a change of one offer expires."""
    from catalog.models import Offer

    urls = pages()
    release = urls.pop("_release")
    offer = Offer.objects.filter(release=release).first()
    return {"work (most recorded)": offer, "release": offer} if offer else {}


def pages():
    """The page types, on rows that exist in the loaded catalog (and, as "_release", the
    release whose page is measured)."""
    from catalog.models import Artist, Label, Recording, Work

    work = Work.objects.filter(recording_count__gt=0).select_related("composer").order_by("-recording_count").first()
    release = Recording.objects.filter(work=work).select_related("release").first().release
    artist = Artist.objects.filter(credits__role="conductor").first()
    return {
        "home": "/",
        "composers A-Z": "/composers/",
        "composer": work.composer.get_absolute_url(),
        "work (most recorded)": work.get_absolute_url(),
        "release": release.get_absolute_url(),
        "artist": artist.get_absolute_url(),
        "label": Label.objects.first().get_absolute_url(),
        "new releases": "/releases/",
        "new releases p. 50": "/releases/?page=50",
        "genre": "/genres/orchestral/",
        "search 'beethoven 9'": "/search/?q=beethoven+9",
        "search 'bwv 1007'": "/search/?q=bwv+1007",
        "search 'bethoven' (typo)": "/search/?q=bethoven",
        "_release": release,
    }


def measure(urls, repeat, offers):
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog.services import catalog_changed, offer_changed

    client = Client()
    rows = {}
    for name, url in urls.items():
        client.get(url)
        offer = offers.get(name)
        runs = {"miss": [], "sale": [], "cold": []}
        counts = {}
        for _ in range(repeat):
            for mode in runs:
                if mode == "cold":
                    cache.clear()
                elif mode == "sale":
                    if offer is None:
                        continue
                    offer_changed(offer)
                else:
                    catalog_changed()
                start, cpu = time.perf_counter(), time.process_time()
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(url)
                runs[mode].append(((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
                counts[mode] = len(ctx.captured_queries)
                assert response.status_code == 200, (url, response.status_code)
        rows[name] = {
            mode: (counts[mode], statistics.median(t for t, _ in times), statistics.median(c for _, c in times))
            for mode, times in runs.items()
            if times
        }
    return rows


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sqlite-path", default=str(ROOT / "var" / "bench-100k.sqlite3"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--language", default="", help="a language prefix such as de (default: English)")
    parser.add_argument(
        "--only", default="", help="comma-separated words of the page names to measure, e.g. work,artist (default: all)"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arkiv.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_HTTPS", "0")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["PAGE_CACHE"] = "locmem"
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = args.sqlite_path

    import django

    django.setup()
    from django.db import connection

    from catalog.models import Release

    urls = pages()
    urls.pop("_release")
    offers = offers_shown()
    if args.only:
        wanted = [word.strip() for word in args.only.split(",") if word.strip()]
        urls = {name: url for name, url in urls.items() if any(word in name for word in wanted)}
    if args.language:
        urls = {f"{name} ({args.language})": f"/{args.language}{url}" for name, url in urls.items()}
        offers = {f"{name} ({args.language})": offer for name, offer in offers.items()}
    print(f"{connection.vendor}, {Release.objects.count():,} releases, median of {args.repeat} renders")
    print(f"{'':28} {'miss (page expired)':>24} {'sale (an offer changed)':>24} {'cold (cache emptied)':>24}")
    print(f"{'page':28}" + f" {'queries':>8} {'ms':>7} {'cpu ms':>7}" * 3)
    for name, row in measure(urls, args.repeat, offers).items():
        figures = "".join(
            f" {row[mode][0]:>8} {row[mode][1]:>7.1f} {row[mode][2]:>7.1f}"
            if mode in row
            else f" {'-':>8} {'':>7} {'':>7}"
            for mode in ("miss", "sale", "cold")
        )
        print(f"{name:28}{figures}")


if __name__ == "__main__":
    main()
