"""Invoice every captured order that has no invoice yet (orders shipped before invoices
were issued at capture). Each is numbered and dated today, in its own transaction under
the order's row lock; safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction

from orders.invoices import invoice_issue
from orders.models import Order


class Command(BaseCommand):
    help = "Issue an invoice for every captured order that has none."

    def handle(self, *args, **options):
        issued = 0
        missing = Order.objects.filter(amount_captured__gt=0, invoices__isnull=True).order_by("shipped_at", "pk")
        for pk in missing.values_list("pk", flat=True):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                if not order.invoices.exists():
                    invoice_issue(order)
                    issued += 1
        self.stdout.write(f"{issued} invoice(s) issued.")
