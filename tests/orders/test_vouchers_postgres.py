"""Many buyers at once for a voucher's last use: the voucher's row lock decides."""

import uuid
from decimal import Decimal

import pytest

from catalog.models import Offer
from orders.cart import CartLine
from orders.models import Order, VoucherRedemption
from orders.services import VoucherRefused, order_place
from tests.factories import OfferFactory, VoucherFactory, checkout_details
from tests.orders.helpers import place_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(buyers, *, code, email_of):
    """Each buyer checks out a different record, so no stock lock puts them in a queue:
    only the voucher's own lock can."""
    offers = [OfferFactory(price=Decimal("20.00"), stock=5) for _ in range(buyers)]
    emails = [email_of(i) for i in range(buyers)]
    return place_at_once(offers, emails=emails, refused=VoucherRefused, voucher_code=code)


def test_of_many_checkouts_on_a_vouchers_last_use_exactly_one_gets_it(postgres):
    offer = OfferFactory(price=Decimal("20.00"), stock=100)
    voucher = VoucherFactory(code="LAST", max_uses=3)
    for n in range(2):
        order_place(
            cart_lines=[CartLine(offer, 1, offer.price)],
            customer=None,
            checkout=checkout_details(email=f"early{n}@example.com"),
            checkout_token=uuid.uuid4(),
            voucher_code="LAST",
        )

    outcomes = _race(8, code="LAST", email_of=lambda i: f"b{i}@example.com")

    refused = (
        "The voucher LAST has been used up. Nothing was ordered; remove the voucher from your cart or try another."
    )
    assert sorted(outcomes) == sorted(["placed"] + [refused] * 7)
    assert VoucherRedemption.objects.filter(voucher=voucher).count() == 3
    assert Order.objects.count() == 3  # the refused placed nothing
    assert Offer.objects.filter(stock=4).count() == 1  # only the one placed took a record


def test_one_customer_checking_out_twice_at_once_gets_the_discount_once(postgres):
    VoucherFactory(code="WELCOME", max_uses_per_customer=1)

    outcomes = _race(4, code="WELCOME", email_of=lambda i: "Clara@Example.com" if i % 2 else "clara@example.com")

    assert outcomes.count("placed") == 1
    assert VoucherRedemption.objects.filter(email="clara@example.com").count() == 1
