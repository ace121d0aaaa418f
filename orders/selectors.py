"""Reads of orders for their owners."""

from .models import Order


def orders_of(*, user):
    """A customer's orders, newest first."""
    return Order.objects.filter(customer=user).order_by("-created_at")
