from django.core.management.base import BaseCommand

from orders.services import orders_expire_unpaid


class Command(BaseCommand):
    help = "Expire orders left unpaid past their time and put their stock back (run every few minutes)."

    def handle(self, *args, **options):
        self.stdout.write(f"Expired {orders_expire_unpaid()} unpaid order(s).")
