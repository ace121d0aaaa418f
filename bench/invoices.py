"""Invoice figures, on a fresh SQLite database (or DATABASE_URL): the time to issue an
invoice (number, lines, VAT) for a captured order, to render it as printable HTML and as
a PDF (WeasyPrint), and to export a period's VAT report.

    python bench/invoices.py [--orders 300] [--pdfs 40] [--lines 3]"""

import argparse
import datetime
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.inprocess import prepare  # noqa: E402  (after ROOT is on the path)

# Static files as collected names, without a collectstatic run first.
WORK = prepare("invoices.sqlite3", STATIC_MANIFEST="0")


def figures(label, seconds):
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{label:<34} n={len(ms):<5} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--pdfs", type=int, default=40)
    parser.add_argument("--lines", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from orders import exports, invoices, vat
    from orders.models import Order, OrderLine, Status
    from tests.factories import OfferFactory

    offers = [OfferFactory(price=Decimal("15.99") + i) for i in range(args.lines)]
    countries = ["DE", "FR", "GB", "IT", "US", "AT"]
    orders = []
    for i in range(args.orders):
        country = countries[i % len(countries)]
        rate = vat.vat_rate_for(country)
        subtotal = sum((o.price * 2 for o in offers), Decimal("0.00"))
        address = {
            f"{kind}_{field}": value
            for kind in ("billing", "shipping")
            for field, value in {
                "name": "Clara Schumann",
                "line1": "1 Wieck Street",
                "city": "Leipzig",
                "postcode": "04109",
                "country": country,
            }.items()
        }
        order = Order.objects.create(
            email=f"buyer{i}@example.com",
            phone="+49 341 000000",
            shipping_method="standard",
            language="de" if i % 2 else "en",
            subtotal=subtotal,
            shipping_cost=Decimal("4.95"),
            total=subtotal + Decimal("4.95"),
            shipping_vat_rate=rate,
            shipping_vat=vat.vat_in(Decimal("4.95"), rate),
            expires_at=timezone.now(),
            status=Status.SHIPPED,
            amount_captured=subtotal + Decimal("4.95"),
            **address,
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                offer=o,
                sku=o.sku,
                title=o.release.title,
                format_label="CD",
                unit_price=o.price,
                quantity=2,
                vat_rate=rate,
                vat_amount=vat.vat_in(o.price * 2, rate),
            )
            for o in offers
        )
        orders.append(order)

    issue, html, pdf = [], [], []
    documents = []
    for order in orders:
        start = time.perf_counter()
        documents.append(invoices.invoice_issue(order))
        issue.append(time.perf_counter() - start)
    for document in documents[: max(args.pdfs, 1) * 2]:
        start = time.perf_counter()
        invoices.document_html(document)
        html.append(time.perf_counter() - start)
    invoices.document_pdf(documents[0])  # the first PDF loads fonts and Pango: not counted
    for document in documents[: args.pdfs]:
        start = time.perf_counter()
        size = len(invoices.document_pdf(document))
        pdf.append(time.perf_counter() - start)

    print(f"Invoices: {args.orders} orders of {args.lines} lines plus shipping, {connection_name()}")
    figures("issue (number, lines, VAT)", issue)
    figures("render printable HTML", html)
    figures(f"render PDF (last {size // 1024} KiB)", pdf)

    import io

    today = timezone.localdate()
    start = time.perf_counter()
    for report in exports.REPORTS:
        exports.write_csv(report, today - datetime.timedelta(days=1), today, io.StringIO())
    print(f"{'four exports of the period':<34} {(time.perf_counter() - start) * 1000:7.1f} ms in all")


def connection_name():
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    main()
