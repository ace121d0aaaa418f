"""Invoice numbers under concurrency, on PostgreSQL with real threads: captures at the
same moment get consecutive numbers, none skipped or given twice, and a transaction
that rolls back gives its number back. The database itself refuses to change or delete
an issued document."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orders.invoices import invoice_issue
from orders.models import Invoice, InvoiceLine
from orders.services import order_ship
from tests.orders.test_invoices import paid
from tests.threads import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
YEAR = timezone.localdate().year


@pytest.fixture
def packer(django_user_model, postgres):
    return django_user_model.objects.create_user(email="packer@arkiv.example", password="x" * 16, is_staff=True)


def test_concurrent_captures_get_exactly_the_numbers_one_to_n(payment_sandbox, packer):
    orders = [paid() for _ in range(8)]

    def ship(i):
        return order_ship(orders[i], carrier="DHL", tracking_number=f"JD{i}", by=packer).invoices.get().number

    numbers = at_once(len(orders), ship)
    assert sorted(numbers) == [f"{YEAR}-{n:06d}" for n in range(1, 9)]
    assert Invoice.objects.count() == 8 and all(o.invoices.count() == 1 for o in orders)


def test_a_rolled_back_invoice_leaves_no_gap_for_the_capture_waiting_behind_it(payment_sandbox, packer):
    first, second = paid(), paid()
    issued = threading.Event()
    seen = {}

    class Abandon(Exception):
        pass

    def abandoned():
        try:
            with transaction.atomic():
                seen["abandoned"] = invoice_issue(first).number
                issued.set()
                # Hold the counter's lock a moment so the other capture queues behind it.
                time.sleep(0.5)
                raise Abandon
        except Abandon:
            pass
        finally:
            connection.close()

    def waiting():
        issued.wait(timeout=30)
        try:
            seen["kept"] = order_ship(second, carrier="DHL", tracking_number="JD2", by=packer).invoices.get().number
        finally:
            connection.close()

    threads = [threading.Thread(target=abandoned), threading.Thread(target=waiting)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {"abandoned": f"{YEAR}-000001", "kept": f"{YEAR}-000001"}
    assert list(Invoice.objects.values_list("number", flat=True)) == [f"{YEAR}-000001"]
    assert not first.invoices.exists()


def test_postgresql_refuses_to_change_or_delete_an_issued_invoice(payment_sandbox, packer):
    invoice = order_ship(paid(), carrier="DHL", tracking_number="JD1", by=packer).invoices.get()
    for change in (
        lambda: Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("1.00")),
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(vat_amount=Decimal("0.00")),
        lambda: InvoiceLine.objects.filter(invoice=invoice).delete(),
        lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
    ):
        with pytest.raises(IntegrityError, match="never changes"), transaction.atomic():
            change()
    assert Invoice.objects.get().total == Decimal("56.95") and InvoiceLine.objects.count() == 3
