"""Import a supplier's catalog file (CSV or XLSX) as staff do in the admin: for
scheduled feeds such as a nightly price and stock file. Running the same file twice
changes nothing the second time."""

from django.core.management.base import BaseCommand, CommandError

from catalog import imports


class Command(BaseCommand):
    help = "Import releases, tracks, credits and offers, or prices and stock, from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="CSV or XLSX file (see catalog/import_examples/)")
        parser.add_argument("--dry-run", action="store_true", help="Say what would change; write nothing.")
        parser.add_argument(
            "--full",
            action="store_true",
            help="The file lists every offer of its labels: deactivate the offers of those labels it leaves out.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="With --full: deactivate even more than IMPORT_FULL_FEED_MAX_SHARE of the labels' offers.",
        )
        parser.add_argument("--undo-last", action="store_true", help="Undo the last import still applied.")
        parser.add_argument("--show", type=int, default=20, help="Rejected rows to print (default 20).")

    def handle(self, *args, file=None, dry_run=False, undo_last=False, show=20, full=False, force=False, **options):
        if undo_last:
            return self._undo()
        if not file:
            raise CommandError("Name the file to import (or use --undo-last).")
        try:
            with open(file, "rb") as binary:
                report = imports.catalog_import(
                    file=binary, file_name=file, dry_run=dry_run, full_feed=full, force=force
                )
        except OSError as error:
            raise CommandError(f"Cannot open {file}: {error.strerror}.") from None
        except imports.FileRejected as error:
            raise CommandError(f"{file}: {error}") from None
        counts = report.counts
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{report.rows} rows ({report.kind}): {counts['created']} {verb} created, {counts['changed']} {verb} "
            f"changed, {counts['unchanged']} unchanged, {counts['rejected']} rejected"
            + (f", {counts['deactivated']} {verb} deactivated (not in the full feed)." if full else ".")
        )
        for note in report.notes:
            self.stdout.write(note)
        for outcome in report.outcomes.get("rejected", [])[:show]:
            self.stdout.write(f"rejected {outcome.name}: " + "; ".join(outcome.reasons))
        for what, names in report.unmatched.items():
            self.stdout.write(f"not in the catalog ({what}): " + ", ".join(list(names)[:show]))
        if report.run:
            self.stdout.write(f"Import run {report.run.pk}; undo with --undo-last.")

    def _undo(self):
        run = imports.last_import()
        if run is None:
            raise CommandError("There is no import to undo.")
        try:
            notes = imports.import_undo(run=run)
        except imports.UndoRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Undone: import run {run.pk} ({run.file_name}).")
        for note in notes:
            self.stdout.write(note)
