"""The session cart shared by catalog pages, the header and checkout.

Kept in the visitor's session as {offer_id: {"q": quantity, "p": "price when added"}},
plus the item count under its own key so the header reads one number and nothing else.
It lives as long as the session, signed in or not."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connections, router
from django.utils.translation import gettext as _

from catalog.models import Offer, Release

SESSION_KEY = "cart"
GIFT_CARDS_KEY = "cart_gift_cards"
MAX_GIFT_CARDS = 10
COUNT_KEY = "cart_count"
MAX_QUANTITY = 99
# PostgreSQL's codes for a statement name already prepared, and for one not prepared.
DUPLICATE_PREPARED_STATEMENT = "42P05"
UNKNOWN_PREPARED_STATEMENT = "26000"


class CartError(ValueError):
    """A cart change that cannot be made; the message is for the buyer."""


@dataclass
class CartLine:
    offer: Offer
    quantity: int
    price_when_added: Decimal

    @property
    def price(self):
        return self.offer.price

    @property
    def total(self):
        return self.offer.price * self.quantity

    @property
    def price_changed(self):
        return self.offer.price != self.price_when_added

    @property
    def available(self):
        return self.offer.is_active and (self.offer.made_to_order or self.offer.stock >= self.quantity)

    def shown(self):
        """What the cart page shows of this line follows from these plain values alone:
        the offer's fields as read, the part of its release shown, the quantity and the
        price when added."""
        offer, release = self.offer.__dict__, self.offer.release.__dict__
        return (
            tuple(offer.get(name) for name in _OFFER_ATTNAMES),
            tuple(release.get(name) for name in _RELEASE_ATTNAMES),
            self.quantity,
            self.price_when_added,
        )

    @property
    def problem(self):
        """What the buyer must know before paying, or ''."""
        if not self.offer.is_active:
            return _("No longer available.")
        if not self.offer.made_to_order and self.offer.stock < self.quantity:
            return _("Only %(count)s left.") % {"count": self.offer.stock} if self.offer.stock else _("Sold out.")
        return ""


@dataclass
class GiftCardItem:
    """A gift card in the cart: its amount and whom it goes to."""

    key: str
    amount: Decimal
    recipient_name: str
    recipient_email: str
    message: str

    @property
    def total(self):
        return self.amount


# What the cart page and "Add to cart" read of an offer and of its release; an offer's
# other fields, and the release's, are deferred.
OFFER_READ = ("id", "release_id", "sku", "price", "currency", "stock", "made_to_order", "lead_time_days", "is_active")
RELEASE_SHOWN = ("id", "title", "slug", "format")
_OFFER_ATTNAMES = tuple(Offer._meta.get_field(name).attname for name in OFFER_READ)
_RELEASE_ATTNAMES = tuple(Release._meta.get_field(name).attname for name in RELEASE_SHOWN)
_CENT = Decimal("0.01")


def _offer_values(row):
    pk, release_id, sku, price, currency, stock, made_to_order, lead_time_days, is_active = row
    price = Decimal(price).quantize(_CENT)
    return [pk, release_id, sku, price, currency, stock, bool(made_to_order), lead_time_days, bool(is_active)]


def offers_shown(offer_ids):
    """The offers with these ids (those that exist), by id, each with the part of its
    release a cart shows, read afresh in one query. The query is written out and its rows
    made into model instances here: through the ORM, building the query and converting
    its rows cost several times what the database took, on every view of the cart and
    every add. The price comes as text, the same on SQLite and PostgreSQL."""
    ids = sorted({int(pk) for pk in offer_ids})
    if not ids:
        return {}
    connection = connections[router.db_for_read(Offer)]
    with connection.cursor() as cursor:
        _read_offers(connection, cursor, ids)
        rows = cursor.fetchall()
    found = {}
    for row in rows:
        offer = Offer.from_db(connection.alias, OFFER_READ, _offer_values(row[: len(OFFER_READ)]))
        offer.release = Release.from_db(connection.alias, RELEASE_SHOWN, list(row[len(OFFER_READ) :]))
        found[offer.pk] = offer
    return found


# The query for a number of ids, by database and number (placeholders as "%s", or, for a
# statement PostgreSQL prepares, "$1", "$2", ...).
_queries = {}
# A cart of up to this many different offers is read by a statement prepared once per
# connection to PostgreSQL: planning the join cost the server more than running it.
PREPARED_UP_TO = 8


def _offers_query(connection, count, numbered=False):
    key = (connection.alias, connection.vendor, count, numbered)
    sql = _queries.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        offers, releases = quote(Offer._meta.db_table), quote(Release._meta.db_table)
        columns = [f"o.{quote(name)}" for name in OFFER_READ]
        columns[OFFER_READ.index("price")] = f"CAST(o.{quote('price')} AS TEXT)"
        columns += [f"r.{quote(name)}" for name in RELEASE_SHOWN]
        placeholders = [f"${n}" for n in range(1, count + 1)] if numbered else ["%s"] * count
        sql = _queries[key] = (
            f"SELECT {', '.join(columns)} FROM {offers} o "
            f"INNER JOIN {releases} r ON r.{quote('id')} = o.{quote('release_id')} "
            f"WHERE o.{quote('id')} IN ({', '.join(placeholders)})"
        )
    return sql


def _prepared_names(connection):
    """The statements prepared on this connection's current link to the server (a new
    link, after a reconnect, has none)."""
    raw = connection.connection
    kept = connection.__dict__.get("_cart_prepared")
    if kept is None or kept[0] is not raw:
        kept = connection.__dict__["_cart_prepared"] = (raw, set())
    return kept[1]


def _read_offers(connection, cursor, ids):
    if not (
        connection.vendor == "postgresql"
        and settings.DATABASE_PREPARED_STATEMENTS
        and len(ids) <= PREPARED_UP_TO
        # Outside a transaction only: a statement prepared in one that is rolled back is
        # gone, and a failed EXECUTE would break the transaction.
        and not connection.in_atomic_block
    ):
        cursor.execute(_offers_query(connection, len(ids)), ids)
        return
    name = f"arkiv_cart_offers_{len(ids)}"
    prepared = _prepared_names(connection)
    if name not in prepared:
        try:
            cursor.execute(f"PREPARE {name} AS {_offers_query(connection, len(ids), numbered=True)}")
        except DatabaseError as exc:
            if getattr(exc.__cause__, "pgcode", None) != DUPLICATE_PREPARED_STATEMENT:
                raise
        prepared.add(name)
    try:
        cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(ids))})", ids)
    except DatabaseError as exc:
        # Gone from the server's side of this link (a pooler handing it to another
        # session, a DISCARD ALL): prepared again next time, read plainly now.
        if getattr(exc.__cause__, "pgcode", None) != UNKNOWN_PREPARED_STATEMENT:
            raise
        prepared.discard(name)
        cursor.execute(_offers_query(connection, len(ids)), ids)


def item_count(session):
    """The header's cart count: one session read, no query."""
    return session.get(COUNT_KEY, 0)


class Cart:
    def __init__(self, session):
        self.session = session
        self.items = session.get(SESSION_KEY, {})

    def __len__(self):
        return sum(item["q"] for item in self.items.values()) + len(self.session.get(GIFT_CARDS_KEY, []))

    # -- gift cards: kept beside the offers, one entry per card ----------------------------

    def gift_cards(self):
        return [
            GiftCardItem(
                key=item["k"],
                amount=Decimal(item["a"]),
                recipient_name=item["n"],
                recipient_email=item["e"],
                message=item["m"],
            )
            for item in self.session.get(GIFT_CARDS_KEY, [])
        ]

    def gift_card_values(self):
        """The gift cards as kept in the session: everything the cart shows of them."""
        return tuple(tuple(sorted(item.items())) for item in self.session.get(GIFT_CARDS_KEY, []))

    def add_gift_card(self, *, amount, recipient_name, recipient_email, message=""):
        cards = self.session.get(GIFT_CARDS_KEY, [])
        if len(cards) >= MAX_GIFT_CARDS:
            raise CartError(_("At most %(count)s gift cards per order.") % {"count": MAX_GIFT_CARDS})
        item = {"k": uuid.uuid4().hex, "a": str(amount), "n": recipient_name, "e": recipient_email, "m": message}
        self.session[GIFT_CARDS_KEY] = [*cards, item]
        self._save()

    def remove_gift_card(self, key):
        """Take a gift card out of the cart; whether it was there."""
        cards = self.session.get(GIFT_CARDS_KEY, [])
        kept = [item for item in cards if item["k"] != key]
        self.session[GIFT_CARDS_KEY] = kept
        self._save()
        return len(kept) != len(cards)

    def quantity_of(self, offer_id):
        item = self.items.get(str(offer_id))
        return item["q"] if item else 0

    def add(self, offer, quantity):
        """Add copies of an offer, refusing more than can be sold."""
        self.set(offer, self.quantity_of(offer.pk) + quantity)

    def set(self, offer, quantity):
        """Set a line's quantity; zero removes it."""
        if quantity <= 0:
            return self.remove(offer.pk)
        if quantity > MAX_QUANTITY:
            raise CartError(_("At most %(count)s copies per item.") % {"count": MAX_QUANTITY})
        if not offer.is_active:
            raise CartError(_("This item is no longer available."))
        if not offer.made_to_order and quantity > offer.stock:
            raise CartError(
                _("Only %(count)s in stock.") % {"count": offer.stock}
                if offer.stock
                else _("Sorry, this item is sold out.")
            )
        key = str(offer.pk)
        price = self.items.get(key, {}).get("p", str(offer.price))
        self.items[key] = {"q": quantity, "p": price}
        self._save()

    def remove(self, offer_id):
        self.items.pop(str(offer_id), None)
        self._save()

    def clear(self):
        self.items = {}
        self.session[GIFT_CARDS_KEY] = []
        self._save()

    def accept_current_prices(self):
        """The buyer has seen the new prices: they are now the prices in the cart."""
        for line in self.lines():
            self.items[str(line.offer.pk)]["p"] = str(line.offer.price)
        self._save()

    def lines(self):
        """The cart's lines with their offers and what is shown of their releases, in
        one query (offers_shown). Offers that no longer exist drop out."""
        if not self.items:
            return []
        offers = offers_shown(k for k in self.items if k.isdigit())
        lines = [
            CartLine(offer=offers[int(key)], quantity=item["q"], price_when_added=Decimal(item["p"]))
            for key, item in self.items.items()
            if key.isdigit() and int(key) in offers
        ]
        if len(lines) != len(self.items):
            self.items = {str(line.offer.pk): self.items[str(line.offer.pk)] for line in lines}
            self._save()
        return sorted(lines, key=lambda line: line.offer.release.title)

    def _save(self):
        self.session[SESSION_KEY] = self.items
        self.session[COUNT_KEY] = len(self)
        self.session.modified = True


def subtotal(lines):
    return sum((line.total for line in lines), Decimal("0.00"))
