"""What orders tell the privacy app about the personal data they hold (registered in
OrdersConfig.ready)."""

import datetime

from django.conf import settings
from django.db.models.functions import Lower
from django.utils import timezone

from .models import Order, Status

# Orders that never got paid carry no tax record and are not posting addresses.
_PAID = [Status.AUTHORISED, Status.SHIPPED, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.CANCELLED]
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "country")


def postal_addresses():
    orders = Order.objects.filter(status__in=_PAID, erased_at__isnull=True).order_by("-created_at")
    fields = ["email", *(f"shipping_{f}" for f in ADDRESS_FIELDS)]
    for row in orders.values(*fields).iterator(chunk_size=2000):
        yield {"email": row["email"], **{f: row[f"shipping_{f}"] for f in ADDRESS_FIELDS}}


def known_emails(emails):
    """Addresses that placed an order, matched without regard to case (older rows kept
    the capitals the guest typed)."""
    wanted = {e.strip().lower() for e in emails}
    orders = Order.objects.annotate(address=Lower("email")).filter(address__in=wanted)
    return set(orders.values_list("address", flat=True).distinct())


def personal_data(email, user):
    orders = Order.objects.filter(email__iexact=email) | (
        Order.objects.filter(customer=user) if user else Order.objects.none()
    )
    return {
        "orders": [
            {
                "number": o.number,
                "placed": o.created_at.isoformat(),
                "status": o.get_status_display(),
                "email": o.email,
                "phone": o.phone,
                "billing_address": {f: getattr(o, f"billing_{f}") for f in ADDRESS_FIELDS},
                "shipping_address": {f: getattr(o, f"shipping_{f}") for f in ADDRESS_FIELDS},
                "total": str(o.total),
                "currency": o.currency,
                "lines": [
                    {"item": li.title, "quantity": li.quantity, "unit_price": str(li.unit_price)}
                    for li in o.lines.all()
                ],
            }
            for o in orders.distinct().prefetch_related("lines")
        ]
    }


def erase(email, user):
    """Keep what tax law needs (the invoice: billing name and address, lines, amounts,
    dates) until the retention date; remove the rest."""
    now = timezone.now()
    years = settings.ORDER_RETENTION_YEARS
    orders = Order.objects.filter(email__iexact=email) | (
        Order.objects.filter(customer=user) if user else Order.objects.none()
    )
    for order in orders.distinct():
        order.email = f"erased-{order.number.lower()}@invalid"
        order.phone = ""
        for field in ADDRESS_FIELDS:
            setattr(order, f"shipping_{field}", "")
        order.customer = None
        order.erased_at = now
        order.retain_until = order.created_at.date() + datetime.timedelta(days=365 * years + years // 4)
        order.save()


def purge(today):
    deleted, _ = Order.objects.filter(retain_until__lt=today).delete()
    return deleted
