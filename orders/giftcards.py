"""Gift cards: bought like a product, issued when the buying order's payment is captured,
spent at checkout as part or all of an order's payment.

A card usable for anything in the shop is a multi-purpose voucher: selling it is not a
supply, so its invoice line carries no VAT; the goods it pays for later carry their VAT
as usual. Every movement of a balance is a GiftCardEntry with its order; the balance
never goes below zero (a check constraint, and every debit is a conditional update under
the card's row lock).

Refunds of an order paid partly by gift card go back to the card payment first, up to
what the card was charged, and only then onto the gift card (orders.services.order_refund).

Only a SHA-256 hash of a code is stored (codes carry 80 random bits, so no slower hash is
needed to resist guessing), plus its last four characters to tell cards apart; the code
itself is kept only until the recipient's email has been handed to the outbox. A code
cannot be sent twice, so a recipient who lost it (or whose email went to a wrong address)
gets a replacement card: a new code carrying the old card's balance and expiry, while the
old code stops working."""

import datetime
import hashlib
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import GiftCard, GiftCardEntry, Order

# No 0/O, 1/I/L, U: nothing that reads as another character.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
ZERO = Decimal("0.00")


class GiftCardRefused(ValueError):
    """The code cannot pay for this order; the message is for the shopper."""


def new_code():
    """Sixteen characters in groups of four: "7KQM-2XHP-...."."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code):
    """The code as hashed: upper case, without the spaces or dashes a shopper types."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def code_hash(code):
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def find(code):
    """The card with this code, or None."""
    cleaned = normalise_code(code)
    if len(cleaned) != CODE_LENGTH:
        return None
    return GiftCard.objects.filter(code_hash=code_hash(cleaned)).first()


def refusal(card, *, now=None):
    """Why a card cannot be spent now, for the shopper, or ''."""
    now = now or timezone.now()
    if card is None:
        return _("We do not know that gift card code. Please check it and try again.")
    if card.disabled:
        return _("This gift card can no longer be used. Please write to us if you think this is wrong.")
    if card.expires_at <= now:
        return _("This gift card expired on %(date)s.") % {"date": timezone.localdate(card.expires_at).isoformat()}
    if card.balance <= 0:
        return _("This gift card has no balance left.")
    return ""


def check(code):
    """The card a shopper's code names, if it can be spent now; else GiftCardRefused."""
    card = find(code)
    problem = refusal(card)
    if problem:
        raise GiftCardRefused(problem)
    return card


def _entry(card, kind, amount, order=None):
    card.refresh_from_db(fields=["balance"])
    return GiftCardEntry.objects.create(
        gift_card=card, order=order, kind=kind, amount=amount, balance_after=card.balance
    )


@transaction.atomic
def gift_card_redeem(*, order, code):
    """Let the card pay as much of the order's total as its balance allows: lock the
    card, re-check it, take the amount off its balance only if it is still there, and
    record the payment on the order. GiftCardRefused if it cannot pay anything."""
    card = find(code)
    if card is not None:
        card = GiftCard.objects.select_for_update().get(pk=card.pk)
    problem = refusal(card)
    if problem:
        raise GiftCardRefused(problem)
    amount = min(card.balance, order.total)
    if amount <= 0:
        raise GiftCardRefused(_("This order has nothing left to pay."))
    # The row is locked, but the balance is taken only where it still covers the amount:
    # the constraint and this condition both say no card is spent twice.
    if not GiftCard.objects.filter(pk=card.pk, balance__gte=amount).update(balance=F("balance") - amount):
        raise GiftCardRefused(_("This gift card has no balance left."))
    _entry(card, GiftCardEntry.Kind.REDEEM, -amount, order)
    order.gift_card, order.gift_card_amount = card, amount
    order.save(update_fields=["gift_card", "gift_card_amount"])
    return card


@transaction.atomic
def gift_card_release(order):
    """Give back to the card what an order that was never paid for (or was cancelled)
    took from it; once."""
    if not order.gift_card_id or order.gift_card_amount <= 0:
        return None
    card = GiftCard.objects.select_for_update().get(pk=order.gift_card_id)
    if card.entries.filter(order=order, kind=GiftCardEntry.Kind.RELEASE).exists():
        return None
    GiftCard.objects.filter(pk=card.pk).update(balance=F("balance") + order.gift_card_amount)
    return _entry(card, GiftCardEntry.Kind.RELEASE, order.gift_card_amount, order)


@transaction.atomic
def gift_card_refund(order, amount):
    """Put part of a refund back onto the card that paid for the order (the caller holds
    the order's lock and has checked the amount)."""
    card = GiftCard.objects.select_for_update().get(pk=order.gift_card_id)
    GiftCard.objects.filter(pk=card.pk).update(balance=F("balance") + amount)
    Order.objects.filter(pk=order.pk).update(gift_card_refunded=F("gift_card_refunded") + amount)
    order.gift_card_refunded += amount
    return _entry(card, GiftCardEntry.Kind.REFUND, amount, order)


def _expiry(issued):
    years = settings.GIFT_CARD_VALID_YEARS
    return issued + datetime.timedelta(days=365 * years + years // 4)


def _card_with_new_code(**fields):
    """A new card with a fresh code, kept (until its email leaves) to be sent."""
    code = new_code()
    return GiftCard.objects.create(
        code_hash=code_hash(code), last4=normalise_code(code)[-4:], code_to_send=code, **fields
    )


@transaction.atomic
def gift_cards_issue(order):
    """Issue the cards an order bought, once its payment is captured, and email each
    code to its recipient after commit. A card already issued is not issued again."""
    from . import emails

    issued = []
    for line in order.gift_card_lines.filter(gift_card__isnull=True).select_for_update(of=("self",)):
        card = _card_with_new_code(
            purchase=line,
            currency=order.currency,
            initial_amount=line.amount,
            balance=line.amount,
            expires_at=_expiry(timezone.now()),
        )
        _entry(card, GiftCardEntry.Kind.ISSUE, line.amount, order)
        emails.queue_gift_card(order, card)
        issued.append(card)
    return issued


def only_gift_cards(order):
    """Whether nothing in the order ships: it bought gift cards and nothing else."""
    return not order.lines.exists() and order.gift_card_lines.exists()


def replace_refusal(card, *, now=None):
    """Why staff cannot replace this card's code, or ''."""
    now = now or timezone.now()
    if card.disabled:
        return "This card is disabled or was already replaced; nothing is left on it to move."
    if card.expires_at <= now:
        return "This card has expired; its balance cannot be moved to a new code."
    if card.balance <= 0:
        return "This card has no balance left to move."
    if card.purchase is None:
        return "This card was not bought through an order, so there is no recipient to send a new code to."
    return ""


@transaction.atomic
def gift_card_replace(card, *, send_to):
    """Issue a new code for a card whose code was lost, and email it to `send_to` (the
    recipient's address, corrected if it was wrong): the balance and expiry move to a new
    card and the old one is disabled, under the old card's row lock, so a checkout
    spending the old code at the same moment either finishes first (and less moves) or
    is refused. GiftCardRefused (for staff) if the card cannot be replaced."""
    from . import emails

    card = GiftCard.objects.select_for_update().get(pk=card.pk)
    problem = replace_refusal(card)
    if problem:
        raise GiftCardRefused(problem)
    amount, line = card.balance, card.purchase
    # Saved, not updated, so the audit trail records who disabled it.
    card.disabled, card.balance, card.purchase = True, ZERO, None
    card.save(update_fields=["disabled", "balance", "purchase"])
    _entry(card, GiftCardEntry.Kind.MOVED_OUT, -amount)
    if line.recipient_email != send_to:
        line.recipient_email = send_to
        line.save(update_fields=["recipient_email"])
    new = _card_with_new_code(
        purchase=line,
        currency=card.currency,
        initial_amount=amount,
        balance=amount,
        expires_at=card.expires_at,
        replaces=card,
    )
    _entry(new, GiftCardEntry.Kind.MOVED_IN, amount)
    emails.queue_gift_card(line.order, new)
    return new
