"""Invoices and credit notes: issued in the transaction that captures or refunds the
money, numbered without gaps per year, written once and kept for the retention period;
shown as printable HTML and as PDF in the order's language."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import addresses, vat
from .models import DocumentCounter, Invoice, InvoiceLine, ShippingMethod

PREFIX = {Invoice.Kind.INVOICE: "", Invoice.Kind.CREDIT_NOTE: "CN-"}


def _next_number(kind, year):
    """The next number of the year for this kind of document, taken under the counter
    row's lock: a concurrent issuer waits for this transaction, and a rollback takes the
    number back with everything else, so numbers are never skipped nor given twice."""
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(kind=kind, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{PREFIX[kind]}{year}-{counter.last:06d}"


def _retained_until(issued):
    years = settings.ORDER_RETENTION_YEARS
    return issued + datetime.timedelta(days=365 * years + years // 4)


def _destination_rate(order):
    """The order's VAT rate: as recorded at checkout, else (orders placed before VAT was
    recorded) the destination's rate on the day the order was placed."""
    if order.shipping_vat_rate is not None:
        return order.shipping_vat_rate
    return vat.vat_rate_for(order.shipping_country, timezone.localdate(order.created_at))


def _document(order, kind, lines, *, corrects=None, refund=None):
    now = timezone.now()
    with translation.override(order.language):
        buyer_address = "\n".join(addresses.address_lines(addresses.order_address(order, "billing"))[1:])
    document = Invoice.objects.create(
        kind=kind,
        number=_next_number(kind, timezone.localdate(now).year),
        order=order,
        corrects=corrects,
        refund=refund,
        issued_at=now,
        supplied_on=timezone.localdate(order.shipped_at or now),
        language=order.language,
        currency=order.currency,
        seller_name=settings.ARKIV_SELLER_NAME,
        seller_address=settings.ARKIV_SELLER_ADDRESS,
        seller_vat_number=settings.ARKIV_SELLER_VAT_NUMBER,
        buyer_name=order.billing_name,
        buyer_address=buyer_address,
        buyer_country=order.billing_country,
        destination_country=order.shipping_country,
        total=sum((line.total for line in lines), Decimal("0.00")),
        total_vat=sum((line.vat_amount for line in lines), Decimal("0.00")),
        # A gift card is a means of payment, not a discount: the total stays, and what the
        # card paid (or, on a credit note, what went back onto it) is shown as a payment.
        gift_card_paid=refund.gift_card_amount if refund is not None else order.gift_card_amount,
        retain_until=_retained_until(timezone.localdate(now)),
    )
    for line in lines:
        line.invoice = document
    InvoiceLine.objects.bulk_create(lines)
    return document


def invoice_lines(order):
    """What the order's invoice will say, line by line (not saved): its lines and shipping
    with the VAT recorded at checkout. Raises VatRateMissing if an order placed before VAT
    was recorded has no rate for its day: worked out before any money moves."""
    rate = _destination_rate(order)
    lines = []
    for line in order.lines.all():
        line_rate = line.vat_rate if line.vat_rate is not None else rate
        # A voucher's discount shows on the line it was taken off; VAT is on what was paid.
        total = line.paid_total
        lines.append(
            InvoiceLine(
                description=f"{line.title} ({line.format_label})",
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=total,
                vat_rate=line_rate,
                vat_amount=line.vat_amount if line.vat_amount is not None else vat.vat_in(total, line_rate),
            )
        )
    if order.shipping_cost:
        with translation.override(order.language):
            label = str(ShippingMethod(order.shipping_method).label)
        lines.append(
            InvoiceLine(
                description=label,
                quantity=1,
                unit_price=order.shipping_cost,
                total=order.shipping_cost,
                vat_rate=rate,
                vat_amount=order.shipping_vat
                if order.shipping_vat is not None
                else vat.vat_in(order.shipping_cost, rate),
            )
        )
    lines += gift_card_invoice_lines(order)
    return lines


def gift_card_invoice_lines(order):
    """Gift cards sold with the order, at 0 %: a multi-purpose voucher is not a supply
    when sold; the VAT is due on the goods it is later spent on."""
    with translation.override(order.language):
        label = _("Gift card (multi-purpose voucher, no VAT)")
    return [
        InvoiceLine(
            description=label,
            quantity=1,
            unit_price=gift.amount,
            total=gift.amount,
            vat_rate=Decimal("0.00"),
            vat_amount=Decimal("0.00"),
        )
        for gift in order.gift_card_lines.all()
    ]


@transaction.atomic
def invoice_issue(order, *, lines=None):
    """The order's invoice, issued now if it has none, with `lines` (from invoice_lines,
    worked out before the capture) or its lines as they are. Call in the transaction
    that captures the payment, after the capture: the year's counter stays locked only
    for the database work, never during a call to the processor."""
    existing = Invoice.objects.filter(order=order, kind=Invoice.Kind.INVOICE).first()
    if existing is not None:
        return existing
    return _document(order, Invoice.Kind.INVOICE, invoice_lines(order) if lines is None else lines)


def credit_note_lines(order, *, amount, lines=()):
    """What a credit note for a refund of `amount` will say (not saved): the refunded
    copies (`lines`: (order line, quantity) pairs) at what was paid for them (their price
    less their share of any voucher discount) and their rate, and
    whatever the refund gives beyond them (shipping, a goodwill amount) as one line at
    the order's rate. A refund worth less than the copies it names is credited as that
    one amount."""
    rate = _destination_rate(order)
    credited = []
    for line, quantity in lines:
        line_rate = line.vat_rate if line.vat_rate is not None else rate
        # What the copies were paid: their share of a voucher's discount is not credited.
        total = line.paid_for(quantity, already=line.quantity_refunded)
        credited.append(
            InvoiceLine(
                description=f"{line.title} ({line.format_label})",
                quantity=quantity,
                unit_price=line.unit_price,
                discount=line.unit_price * quantity - total,
                total=total,
                vat_rate=line_rate,
                vat_amount=vat.vat_in(total, line_rate),
            )
        )
    remainder = amount - sum((line.total for line in credited), Decimal("0.00"))
    if remainder < 0:
        credited, remainder = [], amount
    if remainder > 0:
        with translation.override(order.language):
            label = _("Refund on order %(number)s") % {"number": order.number}
        credited.append(
            InvoiceLine(
                description=label,
                quantity=1,
                unit_price=remainder,
                total=remainder,
                vat_rate=rate,
                vat_amount=vat.vat_in(remainder, rate),
            )
        )
    return credited


@transaction.atomic
def credit_note_issue(order, *, refund, lines):
    """A credit note for one refund (a PaymentAction) with `lines` (from
    credit_note_lines), referring to the order's invoice. Call in the transaction that
    records the refund."""
    invoice = invoice_issue(order)
    return _document(order, Invoice.Kind.CREDIT_NOTE, lines, corrects=invoice, refund=refund)


# -- showing a document -----------------------------------------------------------------


def vat_summary(lines):
    """[(rate, net, vat, gross)] per rate, lowest rate first."""
    totals = defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")])
    for line in lines:
        totals[line.vat_rate][0] += line.total
        totals[line.vat_rate][1] += line.vat_amount
    return [(rate, gross - tax, tax, gross) for rate, (gross, tax) in sorted(totals.items())]


def document_html(document, *, for_pdf=False):
    """The document as a page of its own, in the language of its order."""
    lines = list(document.lines.all())
    with translation.override(document.language):
        return render_to_string(
            "orders/invoice.html",
            {
                "document": document,
                "is_credit_note": document.kind == Invoice.Kind.CREDIT_NOTE,
                "corrects": document.corrects if document.corrects_id else None,
                "order_number": document.order.number,
                "lines": lines,
                "has_discount": any(line.discount for line in lines),
                "vat_rates": vat_summary(lines),
                "export": vat.taxed_destination(document.destination_country) is False,
                "card_paid": document.total - document.gift_card_paid,
                "for_pdf": for_pdf,
            },
        )


def document_pdf(document):
    """The document as a PDF (WeasyPrint), with the same page as the printable HTML."""
    import weasyprint  # loads Pango: only where a PDF is wanted

    stylesheet = weasyprint.CSS(filename=finders.find("css/invoice.css"))
    return weasyprint.HTML(string=document_html(document, for_pdf=True)).write_pdf(stylesheets=[stylesheet])


def document_filename(document, extension):
    with translation.override(document.language):
        title = _("Credit note") if document.kind == Invoice.Kind.CREDIT_NOTE else _("Invoice")
    return f"{title.replace(' ', '-')}-{document.number}.{extension}"
