"""Placing an order: prices re-read, stock locked and reserved, one order per checkout."""

import uuid
from decimal import Decimal

import pytest

from catalog.models import Offer
from orders.cart import CartLine
from orders.models import Order, OrderStatusChange, Status
from orders.services import OrderError, OutOfStock, PriceChanged, order_place
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db


def line(offer, quantity=1, price=None):
    return CartLine(offer=offer, quantity=quantity, price_when_added=price or offer.price)


def place(lines, token=None, **kwargs):
    return order_place(
        cart_lines=lines, customer=None, checkout=checkout_details(**kwargs), checkout_token=token or uuid.uuid4()
    )


def test_order_place_creates_pending_order_with_copied_lines_and_reserves_stock():
    cd = OfferFactory(price=Decimal("15.00"), stock=5)
    mto = OfferFactory(price=Decimal("9.50"), stock=0, made_to_order=True, lead_time_days=4)
    order = place([line(cd, 2), line(mto, 1)])
    assert order.status == Status.PENDING_PAYMENT
    assert order.number.startswith("AK-") and len(order.number) == 11
    assert (order.subtotal, order.shipping_cost, order.total) == (Decimal("39.50"), Decimal("4.95"), Decimal("44.45"))
    assert [(li.sku, li.unit_price, li.quantity, li.made_to_order) for li in order.lines.all()] == [
        (cd.sku, Decimal("15.00"), 2, False),
        (mto.sku, Decimal("9.50"), 1, True),
    ]
    assert Offer.objects.get(pk=cd.pk).stock == 3
    assert Offer.objects.get(pk=mto.pk).stock == 0
    assert list(OrderStatusChange.objects.filter(order=order).values_list("to_status", flat=True)) == [
        "pending_payment"
    ]


@pytest.mark.parametrize("price", ["19.99", "0.10", "7.77", "59.99"])
def test_totals_with_awkward_cents_are_stored_exactly(price):
    order = place([line(OfferFactory(price=Decimal(price)))])
    order.refresh_from_db()
    assert order.total == Decimal(price) + Decimal("4.95")


def test_standard_shipping_is_free_from_sixty():
    order = place([line(OfferFactory(price=Decimal("30.00")), 2)])
    assert order.shipping_cost == Decimal("0.00") and order.total == Decimal("60.00")
    express = place([line(OfferFactory(price=Decimal("30.00")), 2)], shipping_method="express")
    assert express.shipping_cost == Decimal("12.95")


def test_order_place_refuses_when_stock_ran_out():
    offer = OfferFactory(stock=1)
    with pytest.raises(OutOfStock, match="only 1"):
        place([line(offer, 2)])
    assert Offer.objects.get(pk=offer.pk).stock == 1
    assert not Order.objects.exists()


def test_order_place_refuses_a_price_changed_since_the_cart():
    offer = OfferFactory(price=Decimal("20.00"))
    with pytest.raises(PriceChanged, match="changed to 20.00"):
        place([line(offer, 1, price=Decimal("15.00"))])
    assert not Order.objects.exists()


def test_order_place_refuses_inactive_offers_and_empty_carts():
    with pytest.raises(OutOfStock):
        place([line(OfferFactory(is_active=False))])
    with pytest.raises(OrderError, match="empty"):
        place([])


def test_double_submission_creates_one_order_not_two():
    offer = OfferFactory(stock=5)
    token = uuid.uuid4()
    first = place([line(offer, 2)], token=token)
    second = place([line(offer, 2)], token=token)
    assert first.pk == second.pk
    assert Order.objects.count() == 1
    assert Offer.objects.get(pk=offer.pk).stock == 3


def test_order_total_constraint_holds_in_the_database():
    from django.db import IntegrityError

    order = place([line(OfferFactory())])
    with pytest.raises(IntegrityError):
        Order.objects.filter(pk=order.pk).update(total=Decimal("1.00"))
