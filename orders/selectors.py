"""Reads of orders for their owners."""

from .models import Order


def orders_of(*, user):
    """A customer's orders, newest first: only those placed while signed in to this
    account or attached by its holder after proving the address, never any matched by
    email alone."""
    return Order.objects.filter(customer=user).order_by("-created_at")


def guest_orders_for(*, user):
    """Orders placed without an account with the address this account has proven (none
    while it is unproven): what the customer may choose to attach."""
    if not user.email_is_proven:
        return Order.objects.none()
    return Order.objects.filter(customer__isnull=True, email__iexact=user.email).order_by("-created_at")
