"""What orders tell the privacy app about the personal data they hold (registered in
OrdersConfig.ready). `email` is the account's proven address or None: an account that
has not proven its address reaches only the orders it placed while signed in."""

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arkiv.addresses import normalise_email

from . import emails
from .models import GiftCardLine, Invoice, Order, OrderEmail, ReturnRequest, Status, VoucherRedemption, WishlistItem

# Orders that never got paid carry no tax record and are not posting addresses.
_PAID = [Status.AUTHORISED, Status.SHIPPED, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.CANCELLED]
# Orders the shop still owes something on: erasing their details would lose the parcel or the payment.
_IN_PROGRESS = {
    Status.PENDING_PAYMENT: _("Order %(number)s is awaiting payment."),
    Status.AUTHORISED: _("Order %(number)s is paid and not yet shipped."),
}
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "region", "country")


def _orders_of(email, user):
    match = Q(pk__in=[])
    if user is not None and user.pk:
        match |= Q(customer=user)
    if email:
        # Only guest orders go by address: an order placed in another account belongs to
        # that account, whatever address its buyer typed (a typo, or someone else's).
        match |= Q(email__iexact=email, customer__isnull=True)
    return Order.objects.filter(match)


def postal_addresses():
    orders = Order.objects.filter(status__in=_PAID, erased_at__isnull=True).order_by("-created_at")
    fields = ["email", *(f"shipping_{f}" for f in ADDRESS_FIELDS)]
    for row in orders.values(*fields).iterator(chunk_size=2000):
        yield {"email": row["email"], **{f: row[f"shipping_{f}"] for f in ADDRESS_FIELDS}}


def known_emails(addresses):
    """Addresses that placed an order (order emails are stored normalised, older ones
    too since migration 0005)."""
    wanted = {normalise_email(e) for e in addresses}
    return set(Order.objects.filter(email__in=wanted).values_list("email", flat=True).distinct())


def _email_sent(message):
    subject, text, _ = emails.render(message)
    return {
        "kind": message.get_kind_display(),
        "to": message.to,
        "sent": message.sent_at.isoformat() if message.sent_at else None,
        "state": message.get_state_display(),
        "subject": subject,
        "text": text,
    }


def _wish_list(user):
    if user is None or not user.pk:
        return []
    items = WishlistItem.objects.filter(user=user).select_related("offer__release")
    return [
        {
            "saved": i.added_at.isoformat(),
            "item": i.offer.release.title,
            "sku": i.offer.sku,
            "edition": i.offer.kind_label,
        }
        for i in items
    ]


def _returns(order):
    return [
        {
            "number": r.number,
            "opened": r.opened_at.isoformat(),
            "state": r.get_state_display(),
            "reason": r.get_reason_display(),
            "details": r.details,
            "amount": str(r.amount),
            "lines": [{"item": li.order_line.title, "quantity": li.quantity} for li in r.lines.all()],
        }
        for r in order.returns.all()
    ]


def personal_data(email, user):
    orders = _orders_of(email, user).prefetch_related(
        "lines", "emails", "returns__lines__order_line", "invoices", "gift_card_lines"
    )
    return {
        "wish_list": _wish_list(user),
        "orders": [
            {
                "number": o.number,
                "placed": o.created_at.isoformat(),
                "status": o.get_status_display(),
                "email": o.email,
                "phone": o.phone,
                "billing_address": {f: getattr(o, f"billing_{f}") for f in ADDRESS_FIELDS},
                "shipping_address": {f: getattr(o, f"shipping_{f}") for f in ADDRESS_FIELDS},
                "discount": str(o.discount),
                "total": str(o.total),
                "currency": o.currency,
                "lines": [
                    {"item": li.title, "quantity": li.quantity, "unit_price": str(li.unit_price)}
                    for li in o.lines.all()
                ],
                "gift_cards_bought": [
                    {
                        "amount": str(g.amount),
                        "recipient_name": g.recipient_name,
                        "recipient_email": g.recipient_email,
                        "message": g.message,
                    }
                    for g in o.gift_card_lines.all()
                ],
                "gift_card_paid": str(o.gift_card_amount),
                "emails_sent": [_email_sent(m) for m in o.emails.all()],
                "returns": _returns(o),
                "invoices": [
                    {
                        "number": d.number,
                        "kind": d.get_kind_display(),
                        "issued": d.issued_at.isoformat(),
                        "total": str(d.total),
                    }
                    for d in o.invoices.all()
                ],
            }
            for o in orders
        ],
    }


def blocking_erasure(email, user):
    in_progress = _orders_of(email, user).filter(status__in=list(_IN_PROGRESS)).order_by("created_at")
    return [_IN_PROGRESS[o.status] % {"number": o.number} for o in in_progress]


def erase(email, user):
    """Keep what tax law needs (the invoice: billing name and address, lines, amounts,
    dates) until the retention date; remove the rest, including every order email's
    recipient (the customer's and a guardian's copy), what they wrote about returns, and
    their wish list."""
    now = timezone.now()
    years = settings.ORDER_RETENTION_YEARS
    for order in _orders_of(email, user):
        order.email = f"erased-{order.number.lower()}@invalid"
        order.phone = ""
        for field in ADDRESS_FIELDS:
            setattr(order, f"shipping_{field}", "")
        order.customer = None
        order.erased_at = now
        order.retain_until = order.created_at.date() + datetime.timedelta(days=365 * years + years // 4)
        order.save()
        OrderEmail.objects.filter(order=order).update(to=order.email)
        # The voucher's use stays counted against its total, no longer against the person.
        VoucherRedemption.objects.filter(order=order).update(email=order.email)
        # What the customer wrote about a return is theirs; the returned lines are invoice data.
        ReturnRequest.objects.filter(order=order).update(details="")
        # Whom the buyer sent gift cards to, and what they wrote; the amounts stay (invoiced).
        GiftCardLine.objects.filter(order=order).update(recipient_name="", recipient_email="erased@invalid", message="")
    if user is not None and user.pk:
        WishlistItem.objects.filter(user=user).delete()
    if email:
        OrderEmail.objects.filter(to__iexact=email).update(to="erased@invalid")
        # The recipient of someone else's gift card is known by name and address only there.
        GiftCardLine.objects.filter(recipient_email__iexact=email).update(
            recipient_name="", recipient_email="erased@invalid"
        )


def purge(today):
    """Delete what is past its retention date: invoices and credit notes first (each kept
    until its own date, counted from when it was issued), then erased orders that no
    longer have any."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The database's guard on documents judges by the day this purge is for.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('arkiv.today', %s, true)", [today.isoformat()])
        lapsed = Invoice.objects.filter(retain_until__lt=today)
        notes, _ = lapsed.filter(kind=Invoice.Kind.CREDIT_NOTE).delete()
        invoices, _ = lapsed.filter(kind=Invoice.Kind.INVOICE).exclude(credit_notes__isnull=False).delete()
        orders, _ = Order.objects.filter(retain_until__lt=today, invoices__isnull=True).delete()
    return notes + invoices + orders
