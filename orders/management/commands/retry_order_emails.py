from django.core.management.base import BaseCommand

from orders.emails import retry_unsent


class Command(BaseCommand):
    help = "Send again every order email that failed to send (run every few minutes)."

    def handle(self, *args, **options):
        self.stdout.write(f"Sent {retry_unsent()} order email(s).")
