"""The accountant's exports: orders, invoices, credit notes, and VAT per destination
country and rate, for a period of days (both ends included, in the shop's time zone),
as CSV. Amounts are VAT-inclusive unless the column says net; credit notes are listed
with positive amounts and subtracted in the VAT report."""

import csv
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from .models import Invoice, InvoiceLine, Order

REPORTS = {
    "orders": "Orders placed",
    "invoices": "Invoices issued",
    "credit_notes": "Credit notes issued",
    "vat": "VAT per country and rate",
}
ZERO = Decimal("0.00")


def _cents(amount):
    # SQLite sums decimals in floating point: back to the cent they were stored with.
    return (amount or ZERO).quantize(Decimal("0.01"))


def _orders(start, end):
    yield [
        "order",
        "placed",
        "status",
        "currency",
        "billing_country",
        "destination_country",
        "subtotal",
        "discount",
        "shipping",
        "total",
        "vat",
        "paid_by_gift_card",
        "captured",
        "refunded",
        "refunded_onto_gift_card",
        "invoice",
    ]
    orders = (
        Order.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
        .annotate(lines_vat=Sum("lines__vat_amount"))
        .order_by("created_at", "pk")
    )
    invoice_of = dict(
        Invoice.objects.filter(kind=Invoice.Kind.INVOICE, order__in=orders).values_list("order_id", "number")
    )
    for order in orders.iterator(chunk_size=2000):
        vat = None if order.shipping_vat is None else _cents(order.lines_vat) + order.shipping_vat
        yield [
            order.number,
            order.created_at.date().isoformat(),
            order.status,
            order.currency,
            order.billing_country,
            order.shipping_country,
            order.subtotal,
            order.discount,
            order.shipping_cost,
            order.total,
            "" if vat is None else vat,
            order.gift_card_amount,
            order.amount_captured,
            order.amount_refunded,
            order.gift_card_refunded,
            invoice_of.get(order.pk, ""),
        ]


def _documents(kind, start, end):
    documents = (
        Invoice.objects.filter(kind=kind, issued_at__date__gte=start, issued_at__date__lte=end)
        .select_related("order", "corrects")
        .order_by("issued_at", "pk")
    )
    header = ["number", "issued", "order", "buyer", "buyer_country", "destination_country", "currency"]
    header += ["net", "vat", "total"]
    if kind == Invoice.Kind.CREDIT_NOTE:
        header.append("corrects_invoice")
    yield header
    for doc in documents.iterator(chunk_size=2000):
        row = [doc.number, doc.issued_at.date().isoformat(), doc.order.number, doc.buyer_name, doc.buyer_country]
        row += [doc.destination_country, doc.currency, doc.total_net, doc.total_vat, doc.total]
        if kind == Invoice.Kind.CREDIT_NOTE:
            row.append(doc.corrects.number)
        yield row


def _vat(start, end):
    yield [
        "country",
        "currency",
        "vat_rate",
        "invoiced_net",
        "invoiced_vat",
        "credited_net",
        "credited_vat",
        "net",
        "vat",
    ]
    sums = (
        InvoiceLine.objects.filter(invoice__issued_at__date__gte=start, invoice__issued_at__date__lte=end)
        .values("invoice__destination_country", "invoice__currency", "vat_rate", "invoice__kind")
        .annotate(gross=Sum("total"), vat=Sum("vat_amount"))
    )
    table = defaultdict(lambda: {"invoice": [ZERO, ZERO], "credit_note": [ZERO, ZERO]})
    for row in sums:
        key = (row["invoice__destination_country"], row["invoice__currency"], row["vat_rate"])
        table[key][row["invoice__kind"]] = [_cents(row["gross"]) - _cents(row["vat"]), _cents(row["vat"])]
    for (country, currency, rate), kinds in sorted(table.items()):
        (inet, ivat), (cnet, cvat) = kinds["invoice"], kinds["credit_note"]
        yield [country, currency, rate, inet, ivat, cnet, cvat, inet - cnet, ivat - cvat]


def report_rows(report, start, end):
    """The rows (header first) of one report for the days start..end."""
    if report == "orders":
        return _orders(start, end)
    if report == "invoices":
        return _documents(Invoice.Kind.INVOICE, start, end)
    if report == "credit_notes":
        return _documents(Invoice.Kind.CREDIT_NOTE, start, end)
    if report == "vat":
        return _vat(start, end)
    raise ValueError(f"Unknown report {report!r}; choose one of {', '.join(REPORTS)}.")


def _cell(value):
    # A name typed as "=cmd|..." must stay text when the file is opened in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(report, start, end, out):
    """Write one report as CSV to a text stream; returns the number of data rows."""
    writer = csv.writer(out)
    count = -1
    for row in report_rows(report, start, end):
        writer.writerow([_cell(value) for value in row])
        count += 1
    return count
