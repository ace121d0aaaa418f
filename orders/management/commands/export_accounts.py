"""The accountant's CSV exports for a period, to standard output or a file:

manage.py export_accounts vat --from 2026-01-01 --to 2026-03-31 --output q1-vat.csv
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from orders.exports import REPORTS, write_csv


def _day(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date; write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Export orders, invoices, credit notes or VAT per country and rate for a period, as CSV."

    def add_arguments(self, parser):
        parser.add_argument("report", choices=list(REPORTS))
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day (included), YYYY-MM-DD.")
        parser.add_argument("--output", help="A file to write; standard output when left out.")

    def handle(self, *args, report, start, end, output=None, **options):
        start, end = _day(start), _day(end)
        if end < start:
            raise CommandError("The period ends before it starts.")
        if output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                rows = write_csv(report, start, end, out)
            self.stderr.write(f"{rows} rows written to {output}.")
        else:
            write_csv(report, start, end, self.stdout)
