import resource
import time

from django.core.management.base import BaseCommand

from catalog import demo, openopus
from catalog.services import catalog_names_changed, rebuild_search_terms


class Command(BaseCommand):
    help = (
        "Load the real composers and works (Open Opus, CC0) and generate demo releases, performers, "
        "labels, prices and stock around them. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument("--releases", type=int, default=2400, help="How many demo releases to have (default 2400).")
        parser.add_argument("--all-works", action="store_true", help="Load all ~25,000 works, not only notable ones.")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, releases, all_works, batch_size, **options):
        started = time.perf_counter()
        composers, works = openopus.load_composers_and_works(all_works=all_works)
        self.stdout.write(f"Composers: {composers}; new works: {works}")

        def progress(done):
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            elapsed = time.perf_counter() - started
            self.stdout.write(f"  releases: {done:,} ({elapsed:.1f} s, peak memory {peak:.0f} MB)")

        made = demo.generate_releases(target=releases, batch_size=batch_size, progress=progress)
        terms = rebuild_search_terms()
        catalog_names_changed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog ready: {made:,} new releases, {terms:,} search terms, "
                f"in {time.perf_counter() - started:.1f} s."
            )
        )
