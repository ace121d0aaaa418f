"""Reads of orders for their owners."""

from django.db.models import Prefetch

from .models import Order, ShippingRate, ShippingZone, Status

# Checkouts whose payment never went through: attempts, not orders, so "Your orders"
# leaves them out (the data download still has them).
NEVER_PAID = {Status.PAYMENT_FAILED, Status.EXPIRED}


def orders_of(*, user):
    """A customer's orders, newest first: only those placed while signed in to this
    account or attached by its holder after proving the address, never any matched by
    email alone, and not payment attempts that failed or lapsed."""
    return Order.objects.filter(customer=user).exclude(status__in=NEVER_PAID).order_by("-created_at")


def guest_orders_for(*, user):
    """Orders placed without an account with the address this account has proven (none
    while it is unproven): what the customer may choose to attach."""
    if not user.email_is_proven:
        return Order.objects.none()
    return Order.objects.filter(customer__isnull=True, email__iexact=user.email).order_by("-created_at")


def shipping_zones_listed():
    """Every shipping zone with its active rates, in the staff's order, for the public
    shipping page (two queries however many zones)."""
    return list(
        ShippingZone.objects.prefetch_related(Prefetch("rates", queryset=ShippingRate.objects.filter(active=True)))
    )
