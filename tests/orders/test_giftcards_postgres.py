"""Two checkouts spending one gift card's last euros at the same moment: the card's row
lock and the conditional debit let exactly one through; the other buyer is told."""

import datetime
import uuid
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


def test_two_staff_replacing_one_lost_code_at_once_issue_one_new_card_and_one_email(postgres, settings):
    from django.core import mail

    from orders.cart import GiftCardItem
    from orders.services import order_place
    from tests.factories import checkout_details
    from tests.threads import at_once

    order = order_place(
        cart_lines=[],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
        gift_cards=[
            GiftCardItem(
                key="k", amount=Decimal("30.00"), recipient_name="Robert", recipient_email="r@example.com", message=""
            )
        ],
    )
    (card,) = giftcards.gift_cards_issue(order)
    mail.outbox.clear()

    outcomes = at_once(2, lambda i: giftcards.gift_card_replace(card, send_to="robert@example.com").last4)

    refused = [o for o in outcomes if "already replaced" in o]
    assert len(refused) == 1, outcomes
    new = GiftCard.objects.get(replaces=card)
    assert new.balance == Decimal("30.00") and outcomes.count(new.last4) == 1
    card.refresh_from_db()
    assert card.disabled and card.balance == 0
    assert GiftCard.objects.count() == 2
    assert [m.to for m in mail.outbox] == [["robert@example.com"]]
