"""Addresses printed as their country writes them, the same on the order page, in order
emails and on the packing slip (orders/addresses.py decides the lines)."""

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from orders.addresses import address_lines, country_name, order_address

register = template.Library()


@register.filter
def postal_lines(order, prefix):
    """The order's "billing" or "shipping" address as a list of lines."""
    return address_lines(order_address(order, prefix))


@register.filter
def postal_address(order, prefix):
    """The order's "billing" or "shipping" address as HTML lines (escaped, joined by <br>)."""
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in postal_lines(order, prefix)))


@register.filter
def country(code):
    """A country's name from its code."""
    return country_name(code)
