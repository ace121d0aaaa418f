"""Catalog feed throughput, on a fresh SQLite database (or DATABASE_URL): rows per second
and peak memory of import_catalog for a release feed of 100,000 rows (one row per track,
10 tracks a release), the same file applied again (nothing changes), a dry run, and a
price and stock feed naming every offer, a full price feed that leaves out a tenth of
the offers (deactivated), and the undo of that feed. Each import runs in its own
process, so its peak RSS is its own; a feed a fifth the size shows whether memory grows
with the file.

    python bench/import_rate.py [--rows 100000]"""

import argparse
import csv
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.inprocess import prepare  # noqa: E402  (after ROOT is on the path)

WORK = prepare("imports.sqlite3")
TRACKS = 10
HEADER = [
    "label",
    "catalog_number",
    "barcode",
    "release_title",
    "release_date",
    "format",
    "composer",
    "work",
    "recording_year",
    "performers",
    "track",
    "track_title",
    "duration",
    "sku",
    "price",
    "stock",
    "made_to_order",
    "lead_time_days",
]


def setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalog.models import Artist, Label
    from catalog.openopus import load_composers_and_works
    from catalog.services import rebuild_search_terms

    load_composers_and_works()
    rebuild_search_terms()
    Label.objects.get_or_create(name="Bench Records", slug="bench-records")
    Artist.objects.bulk_create(
        [
            Artist(name=f"Bench Conductor {n}", sort_name=f"Conductor {n}", slug=f"bench-conductor-{n}", kind="person")
            for n in range(50)
        ]
        + [
            Artist(
                name=f"Bench Orchestra {n}", sort_name=f"Bench Orchestra {n}", slug=f"bench-orchestra-{n}", kind="group"
            )
            for n in range(20)
        ],
        ignore_conflicts=True,
    )


def write_feeds(rows, prefix="BR"):
    """A release feed of `rows` rows and a price and stock feed of its offers."""
    from catalog.models import Work

    works = list(Work.objects.select_related("composer").prefetch_related("catalogue_numbers").order_by("pk"))
    releases = rows // TRACKS
    feed = WORK / f"releases-{prefix}-{rows}.csv"
    with feed.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(releases):
            work = works[n % len(works)]
            numbers = list(work.catalogue_numbers.all())
            # A third of the works are named by catalogue number, as labels often do.
            named = f"{numbers[0].system} {numbers[0].number}" if numbers and n % 3 == 0 else work.title
            performers = f"conductor: Bench Conductor {n % 50}; orchestra: Bench Orchestra {n % 20}"
            for track in range(1, TRACKS + 1):
                offer = [f"{prefix}{n:06d}-STK", f"{12 + n % 9}.99", str(n % 30), "no", ""] if track == 1 else [""] * 5
                writer.writerow(
                    [
                        "Bench Records",
                        f"{prefix}{n:06d}",
                        "",
                        f"{work.composer.name}: {work.title[:200]}",
                        f"20{n % 25:02d}-0{1 + n % 9}-1{n % 10}",
                        "CD",
                        work.composer.full_name,
                        named,
                        str(1990 + n % 30),
                        performers,
                        str(track),
                        f"{work.title[:250]}: part {track}",
                        f"{3 + track}:{n % 60:02d}",
                    ]
                    + offer
                )
    prices = WORK / f"prices-{prefix}-{rows}.csv"
    with prices.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "price", "stock"])
        for n in range(releases):
            writer.writerow([f"{prefix}{n:06d}-STK", f"{13 + n % 7}.49", str((n * 7) % 40)])
    return feed, prices


def child(path, dry_run, full=False):
    """Import one file in this process (or undo the last import, path "undo"); print
    rows/s and this process's peak RSS."""
    import django

    django.setup()
    from catalog.imports import catalog_import, import_undo, last_import

    started = time.perf_counter()
    if path == "undo":
        run = last_import()
        changes = run.changes.count()
        notes = import_undo(run=run)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{changes:,} changes undone in {elapsed:.1f} s, peak RSS {peak:.0f} MB ({len(notes)} kept)")
        return
    with open(path, "rb") as file:
        report = catalog_import(file=file, file_name=path, dry_run=dry_run, full_feed=full)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = ", ".join(f"{n:,} {action}" for action, n in sorted(report.counts.items()))
    print(
        f"{report.rows:,} rows in {elapsed:.1f} s = {report.rows / elapsed:,.0f} rows/s, "
        f"peak RSS {peak:.0f} MB ({counts})"
    )
    for note in report.notes:
        print(note)


def run_child(label, path, dry_run=False, full=False):
    print(f"{label:<44}", end=" ", flush=True)
    args = [sys.executable, __file__, "--child", str(path)] + (["--dry-run"] if dry_run else [])
    args += ["--full"] if full else []
    done = subprocess.run(args, capture_output=True, text=True, env=os.environ)
    print(done.stdout.strip() or done.stderr.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.dry_run, args.full)

    setup()
    small, small_prices = write_feeds(args.rows // 5, prefix="SM")
    feed, prices = write_feeds(args.rows)
    print(
        f"database: {os.environ.get('DATABASE_URL', 'SQLite').split('@')[-1]}; {args.rows:,}-row release feed, "
        f"{TRACKS} tracks a release"
    )
    run_child(f"dry run, {args.rows:,} rows", feed, dry_run=True)
    run_child(f"release feed, {args.rows // 5:,} rows (new releases)", small)
    run_child(f"release feed, {args.rows:,} rows (new releases)", feed)
    run_child(f"same file again, {args.rows:,} rows (no change)", feed)
    run_child(f"price and stock feed, {args.rows // TRACKS:,} offers", prices)
    run_child("same price feed again (no change)", prices)
    lines = prices.read_text().splitlines(keepends=True)
    full = WORK / f"prices-full-{args.rows}.csv"
    # The label's whole list: the small feed's offers too, and nine in ten of the others.
    listed = [line for n, line in enumerate(lines) if n == 0 or n % 10]
    full.write_text("".join(listed + small_prices.read_text().splitlines(keepends=True)[1:]))
    run_child("full price feed (a tenth of one feed left out)", full, full=True)
    run_child("undo of the full price feed", "undo")


if __name__ == "__main__":
    main()
