from django.core.management.base import BaseCommand

from privacy.alerts import alerts_send


class Command(BaseCommand):
    help = (
        "Email collectors what their alerts found (new recordings, performers, back in stock): "
        "one email per person per day at most, never the same item twice (safe to run again)."
    )

    def handle(self, *args, **options):
        sent = alerts_send()
        self.stdout.write(f"Sent {sent} alert email(s).")
