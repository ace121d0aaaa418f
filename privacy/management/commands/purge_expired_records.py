from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy import providers


class Command(BaseCommand):
    help = "Delete records kept only for the law (e.g. invoices of erased customers) once their retention date passed."

    def handle(self, *args, **options):
        self.stdout.write(f"Purged {providers.purge(timezone.localdate())} record(s).")
