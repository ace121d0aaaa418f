"""Two checkouts spending one gift card's last euros at the same moment: the card's row
lock and the conditional debit let exactly one through; the other buyer is told."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Offer
from orders import giftcards
from orders.models import GiftCard, GiftCardEntry, Order
from tests.factories import OfferFactory
from tests.orders.helpers import place_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_checkouts_spending_the_last_euros_of_one_card_only_one_succeeds(postgres):
    code = giftcards.new_code()
    card = GiftCard.objects.create(
        code_hash=giftcards.code_hash(code),
        last4=giftcards.normalise_code(code)[-4:],
        initial_amount=Decimal("10.00"),
        balance=Decimal("10.00"),
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    # Each buyer takes a different record: no stock lock puts them in line, only the card's.
    offers = [OfferFactory(price=Decimal("15.00"), stock=10) for _ in range(2)]
    emails = [f"b{i}@example.com" for i in range(2)]
    outcomes = place_at_once(offers, emails=emails, refused=giftcards.GiftCardRefused, placed="ok", gift_card_code=code)
    assert sorted(outcomes) == ["This gift card has no balance left.", "ok"]
    card.refresh_from_db()
    assert card.balance == 0
    assert list(card.entries.values_list("kind", "amount")) == [(GiftCardEntry.Kind.REDEEM, Decimal("-10.00"))]
    order = Order.objects.get()
    assert order.gift_card_amount == Decimal("10.00") and order.amount_due == Decimal("9.95")
    # The refused checkout left nothing behind: no order, its copy back on the shelf.
    assert sorted(Offer.objects.filter(pk__in=[o.pk for o in offers]).values_list("stock", flat=True)) == [9, 10]
