"""Business rules for orders: placing one, the one function that moves its status, and
payment (authorise at checkout, capture when shipped, void on cancel, refunds)."""

import datetime
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _

from arkiv.addresses import normalise_email
from catalog.models import Offer
from catalog.services import stock_moved
from privacy import services as privacy
from privacy import sessions

from . import addresses, emails, gateway, giftcards, invoices, vat, vouchers
from .models import (
    GiftCardLine,
    Order,
    OrderLine,
    OrderStatusChange,
    PaymentAction,
    PaymentEvent,
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    Status,
)

# Every legal move of an order's status. Nothing else assigns order.status.
TRANSITIONS = {
    Status.PENDING_PAYMENT: {Status.AUTHORISED, Status.PAYMENT_FAILED, Status.EXPIRED},
    Status.AUTHORISED: {Status.SHIPPED, Status.CANCELLED},
    Status.SHIPPED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
    Status.PARTIALLY_REFUNDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
    Status.REFUNDED: set(),
    Status.PAYMENT_FAILED: set(),
    Status.EXPIRED: set(),
    Status.CANCELLED: set(),
}
# Moves that put reserved stock back on the shelf.
RELEASES_STOCK = {Status.PAYMENT_FAILED, Status.EXPIRED, Status.CANCELLED}
# Moves the customer is emailed about (promise P5).
EMAIL_ON = {
    Status.AUTHORISED: "confirmation",
    Status.SHIPPED: "shipped",
    Status.CANCELLED: "cancelled",
    Status.PARTIALLY_REFUNDED: "refunded",
    Status.REFUNDED: "refunded",
}


class OrderError(Exception):
    """The order cannot be placed or changed as asked; the message is for people."""


class IllegalTransition(OrderError):
    pass


class PriceChanged(OrderError):
    """Prices moved since the buyer put items in the cart: show them before charging."""


class OutOfStock(OrderError):
    pass


class ShippingUnavailable(OrderError):
    """The shipping method is not offered to the delivery country."""


class VoucherRefused(OrderError):
    """The voucher in the cart can no longer be used (used up meanwhile, expired, ...):
    nothing is placed and the cart stays as it was."""


@dataclass
class CheckoutDetails:
    email: str
    phone: str
    billing: dict  # addresses.ADDRESS_FIELDS: name, line1, line2, city, postcode, region, country
    shipping: dict
    shipping_method: str
    language: str = ""  # the checkout page's; the shop's default when empty


# The zones and rates change only when staff edit them, yet the cart page and checkout
# read them on every view: each process keeps the rows it read, under the version the
# shared cache holds, and a change to a zone or a rate gives that version a new value, so
# that every process reads them afresh at its next request. Without a shared cache other
# than the database (sessions_cached() is false), reading the version would cost what
# reading the rows does: they are read every time. An order being placed reads them from
# the database (fresh=True). Kept rows are read again after SHIPPING_ROWS_KEPT_SECONDS
# whatever the version says: a change made while the shared cache was unreachable is
# then not missed for longer.
SHIPPING_ROWS_KEPT_SECONDS = 60
SHIPPING_VERSION_KEY = "orders:shipping-rates-version"
# The cart page loads the session first: its version comes in the same round trip.
sessions.read_with_sessions(SHIPPING_VERSION_KEY)
# (version, when read, rows), replaced whole so that a thread never sees a mix.
_shipping_kept = {"entry": (None, 0.0, None)}


def shipping_rates_changed(**kwargs):
    """A zone or rate was saved or deleted: every process reads them afresh, now and again
    once the change is committed (a request between the two may have read the old rows)."""
    from django.core.cache import caches

    shared = caches[settings.SESSION_CACHE_ALIAS]

    def bump():
        shared.set(SHIPPING_VERSION_KEY, uuid.uuid4().hex, None)

    _shipping_kept["entry"] = (None, 0.0, None)
    bump()
    transaction.on_commit(bump)


for _model in (ShippingZone, ShippingRate):
    post_save.connect(
        shipping_rates_changed, sender=_model, dispatch_uid=f"shipping-rates-changed-save-{_model.__name__}"
    )
    post_delete.connect(
        shipping_rates_changed, sender=_model, dispatch_uid=f"shipping-rates-changed-delete-{_model.__name__}"
    )


def _shipping_rows(*, fresh=False):
    """The rows of _shipping_rows_read, kept by this process while the shared cache's
    version of them stays the same (read from the database if fresh)."""
    from django.core.cache import caches

    if fresh or not sessions.sessions_cached():
        return _shipping_rows_read()
    shared = caches[settings.SESSION_CACHE_ALIAS]
    version = sessions.read_along(SHIPPING_VERSION_KEY)
    if version is sessions.NOT_READ:
        version = shared.get(SHIPPING_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not shared.add(SHIPPING_VERSION_KEY, version, None):
            version = shared.get(SHIPPING_VERSION_KEY)
    kept_version, read_at, kept_rows = _shipping_kept["entry"]
    now = time.monotonic()
    if version is not None and version == kept_version and now - read_at < SHIPPING_ROWS_KEPT_SECONDS:
        return kept_rows
    rows = _shipping_rows_read()
    if version is not None:
        _shipping_kept["entry"] = (version, now, rows)
    return rows


def _shipping_rows_read():
    """Each zone with each of its active rates: (zone id, countries, rest of world, rate
    id, method, price, free from), a zone without any in one row of NULL rate columns, in
    the zones' order. The query is written out: the ORM took several times longer to build
    it than the database to answer it. Amounts come as text and become Decimals here, the
    same on SQLite and PostgreSQL."""
    connection = connections[router.db_for_read(ShippingZone)]
    quote = connection.ops.quote_name
    zones, rates = quote(ShippingZone._meta.db_table), quote(ShippingRate._meta.db_table)
    sql = (
        f"SELECT z.{quote('id')}, z.{quote('countries')}, z.{quote('rest_of_world')}, r.{quote('id')}, "
        f"r.{quote('method')}, CAST(r.{quote('price')} AS TEXT), CAST(r.{quote('free_from')} AS TEXT) "
        f"FROM {zones} z LEFT OUTER JOIN {rates} r ON r.{quote('zone_id')} = z.{quote('id')} "
        f"AND r.{quote('active')} = %s ORDER BY z.{quote('position')}, z.{quote('name')}, z.{quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [True])
        return cursor.fetchall()


_CENT = Decimal("0.01")


def _amount(text):
    return None if text is None else Decimal(text).quantize(_CENT)


def shipping_rates_for(country, *, fresh=False):
    """The methods offered to a country, each with its active rate, in the methods' order:
    those of the zone listing the country, else of the rest of the world (none if staff
    set up neither). At most one query, none while this process's copy is current
    (_shipping_rows); fresh reads them from the database."""
    rows = _shipping_rows(fresh=fresh)
    if fresh:
        return _rates_from(rows, country)
    # While this process keeps the same rows, each country's rates are worked out once.
    made_from, by_country = _rates_made["entry"]
    if made_from is not rows:
        by_country = {}
        _rates_made["entry"] = (rows, by_country)
    made = by_country.get(country)
    if made is None:
        made = by_country[country] = _rates_from(rows, country)
    return dict(made)


# The rows that rates were last made from (compared by identity: the kept rows stay the
# same object until they are read again) with each country's rates made from them, as
# one entry, so that a thread never files rates under rows they were not made from.
_rates_made = {"entry": (None, {})}


def _rates_from(rows, country):
    zones = {}
    for zone_id, countries, rest_of_world, rate_id, method, price, free_from in rows:
        zone = zones.setdefault(
            zone_id,
            {"countries": set(filter(None, (countries or "").split(","))), "rest": bool(rest_of_world), "rates": {}},
        )
        if rate_id:
            zone["rates"][method] = (rate_id, zone_id, price, free_from)
    listed = next((zone for zone in zones.values() if country in zone["countries"]), None)
    zone = listed or next((zone for zone in zones.values() if zone["rest"]), None)
    rates = zone["rates"] if zone else {}
    # Rates become model instances only for the zone that serves the country.
    return {
        method: ShippingRate(pk=pk, zone_id=zone_id, method=method, price=_amount(price), free_from=_amount(free_from))
        for method in ShippingMethod.values
        if method in rates
        for pk, zone_id, price, free_from in [rates[method]]
    }


def shipping_cost(method, subtotal, country=None, *, fresh=False):
    """What shipping costs by this method to the country (the shop's own by default), at
    the rate of the country's zone; refuses a method the zone does not offer."""
    country = country or settings.ARKIV_SHOP_COUNTRY
    rate = shipping_rates_for(country, fresh=fresh).get(method)
    if rate is None:
        raise ShippingUnavailable(shipping_refusal(method, country))
    return rate.cost_for(subtotal)


def shipping_refusal(method, country):
    where = addresses.country_name(country)
    if not shipping_rates_for(country):
        return _("We do not ship to %(country)s yet. Please choose another delivery address.") % {"country": where}
    label = ShippingMethod(method).label if method in ShippingMethod.values else _("That shipping method")
    return _("%(method)s is not offered for delivery to %(country)s. Please choose another shipping method.") % {
        "method": label,
        "country": where,
    }


# -- the state machine ----------------------------------------------------------------


def order_transition(order, to, *, by=None, note="", email=True):
    """Move an order to a new status if the move is legal: write a history row, release
    stock where the move says so, and email the customer after commit (unless the
    caller sends its own, more specific email, as a refunded return does)."""
    if to not in TRANSITIONS[order.status]:
        raise IllegalTransition(
            f"Order {order.number} cannot go from {order.get_status_display()} to {Status(to).label}."
        )
    with transaction.atomic():
        previous = order.status
        order.status = to
        order.save(update_fields=["status"])
        OrderStatusChange.objects.create(order=order, from_status=previous, to_status=to, by=by, note=note[:300])
        if to in RELEASES_STOCK:
            _release_stock(order)
            vouchers.release(order)
            giftcards.gift_card_release(order)
        if to in EMAIL_ON and email:
            emails.queue(order, EMAIL_ON[to])
    return order


def _release_stock(order):
    lines = list(order.lines.filter(made_to_order=False).order_by("offer_id"))
    stock = dict(
        Offer.objects.select_for_update().filter(pk__in=[line.offer_id for line in lines]).values_list("pk", "stock")
    )
    for line in lines:
        Offer.objects.filter(pk=line.offer_id).update(stock=F("stock") + line.quantity)
    stock_moved(
        {
            line.offer_id: (stock[line.offer_id], stock[line.offer_id] + line.quantity)
            for line in lines
            if line.offer_id in stock
        }
    )


# -- placing an order -----------------------------------------------------------------


@transaction.atomic
def order_place(
    *, cart_lines, customer, checkout, checkout_token, statement=None, voucher_code="", gift_cards=(), gift_card_code=""
):
    """Place an order from the cart: re-read prices, lock stock rows in id order,
    refuse if anything sold out or changed price, reserve stock, and create the order
    as awaiting payment; record the buyer's age statement and offer choices with it.
    With a voucher code, the voucher is locked and checked again and its use recorded,
    or the order is refused (VoucherRefused). Gift cards bought (`gift_cards`, from the
    cart) become lines of their own; a gift card code pays what its balance covers
    (giftcards.GiftCardRefused if it cannot). The same checkout token always gives the
    same order."""
    existing = Order.objects.filter(checkout_token=checkout_token).first()
    if existing:
        return existing
    if not cart_lines and not gift_cards:
        raise OrderError(_("Your cart is empty."))
    wanted = {line.offer.pk: line for line in cart_lines}
    offers = list(Offer.objects.select_for_update().filter(pk__in=wanted).order_by("pk").select_related("release"))
    if len(offers) != len(wanted):
        raise OrderError(_("An item in your cart is no longer in the catalog."))
    for offer in offers:
        line = wanted[offer.pk]
        if not offer.is_active:
            raise OutOfStock(_("%(title)s is no longer available.") % {"title": offer.release.title})
        if offer.price != line.price_when_added:
            raise PriceChanged(
                _("The price of %(title)s changed to %(price)s.") % {"title": offer.release.title, "price": offer.price}
            )
        if not offer.made_to_order and offer.stock < line.quantity:
            raise OutOfStock(
                _("Sorry, only %(count)s of %(title)s left.") % {"count": offer.stock, "title": offer.release.title}
                if offer.stock
                else _("Sorry, %(title)s has just sold out.") % {"title": offer.release.title}
            )

    goods = sum((offer.price * wanted[offer.pk].quantity for offer in offers), Decimal("0.00"))
    # A voucher discounts goods only, never the gift cards bought with them.
    discount = _voucher_discount(voucher_code, offers=offers, wanted=wanted, email=checkout.email)
    line_discount = discount.lines if discount else {}
    discount_total = discount.total if discount else Decimal("0.00")
    # Free shipping thresholds look at what the goods cost after the discount. Gift cards
    # are emailed: an order of gift cards alone ships nothing and pays no shipping.
    shipping = (
        shipping_cost(checkout.shipping_method, goods - discount_total, checkout.shipping.get("country"), fresh=True)
        if offers
        else Decimal("0.00")
    )
    subtotal = goods + sum((Decimal(card.amount) for card in gift_cards), Decimal("0.00"))
    # Prices include VAT at the destination's rate on the day of the order (orders.vat).
    try:
        vat_rate = vat.vat_rate_for(checkout.shipping.get("country"), timezone.localdate())
    except vat.VatRateMissing:
        raise ShippingUnavailable(
            _("We cannot take orders for delivery to %(country)s at the moment. Please write to %(email)s.")
            % {
                "country": addresses.country_name(checkout.shipping.get("country")),
                "email": settings.ARKIV_SERVICE_EMAIL,
            }
        ) from None
    address = {f"billing_{k}": v for k, v in checkout.billing.items()} | {
        f"shipping_{k}": v for k, v in checkout.shipping.items()
    }
    try:
        with transaction.atomic():
            order = Order.objects.create(
                customer=customer if customer and customer.is_authenticated else None,
                email=normalise_email(checkout.email),
                phone=checkout.phone,
                shipping_method=checkout.shipping_method,
                language=_order_language(checkout.language),
                subtotal=subtotal,
                discount=discount_total,
                shipping_cost=shipping,
                total=subtotal - discount_total + shipping,
                shipping_vat_rate=vat_rate,
                shipping_vat=vat.vat_in(shipping, vat_rate),
                checkout_token=checkout_token,
                expires_at=timezone.now() + datetime.timedelta(minutes=settings.ORDER_PAYMENT_MINUTES),
                **address,
            )
    except IntegrityError:
        # The same checkout submitted twice at once: the other request made the order.
        existing = Order.objects.filter(checkout_token=checkout_token).first()
        if existing is None:
            raise
        return existing
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                offer=offer,
                sku=offer.sku,
                title=offer.release.title,
                format_label=_("Made to order") if offer.made_to_order else offer.release.get_format_display(),
                unit_price=offer.price,
                quantity=wanted[offer.pk].quantity,
                made_to_order=offer.made_to_order,
                lead_time_days=offer.lead_time_days,
                vat_rate=vat_rate,
                discount=line_discount.get(offer.pk, Decimal("0.00")),
                vat_amount=vat.vat_in(
                    offer.price * wanted[offer.pk].quantity - line_discount.get(offer.pk, Decimal("0.00")), vat_rate
                ),
            )
            for offer in offers
        ]
    )
    vouchers.redeem(discount, order=order)
    _gift_card_lines_add(order, gift_cards)
    for offer in offers:
        if not offer.made_to_order:
            Offer.objects.filter(pk=offer.pk).update(stock=F("stock") - wanted[offer.pk].quantity)
    OrderStatusChange.objects.create(order=order, from_status="", to_status=Status.PENDING_PAYMENT)
    if statement is not None:
        privacy.checkout_record(order_number=order.number, email=order.email, statement=statement, user=order.customer)
    stock_moved({o.pk: (o.stock, o.stock - wanted[o.pk].quantity) for o in offers if not o.made_to_order})
    if gift_card_code:
        _gift_card_pay(order, gift_card_code)
    return order


def _voucher_discount(code, *, offers, wanted, email):
    """The voucher's discount on the order, checked again under the voucher's row lock
    (taken after the stock locks), or None without a code."""
    if not code:
        return None
    try:
        return vouchers.for_checkout(
            code, offers=offers, quantities={pk: line.quantity for pk, line in wanted.items()}, email=email
        )
    except vouchers.VoucherRefused as exc:
        raise VoucherRefused(
            _("%(reason)s Nothing was ordered; remove the voucher from your cart or try another.") % {"reason": exc}
        ) from None


# -- gift cards: bought as lines, spent as a payment ---------------------------------------


def _gift_card_lines_add(order, gift_cards):
    GiftCardLine.objects.bulk_create(
        [
            GiftCardLine(
                order=order,
                amount=Decimal(card.amount),
                recipient_name=card.recipient_name,
                recipient_email=normalise_email(card.recipient_email),
                message=card.message,
            )
            for card in gift_cards
        ]
    )


def _gift_card_pay(order, code):
    """Let a gift card pay the order; if it pays all of it, nothing goes to the processor
    and the order is paid at once."""
    giftcards.gift_card_redeem(order=order, code=code)
    if order.amount_due == 0:
        order.authorised_at = timezone.now()
        order.save(update_fields=["authorised_at"])
        order_transition(order, Status.AUTHORISED, note="Paid in full by gift card")
        order_settle_gift_cards(order)


def order_settle_gift_cards(order):
    """An order of gift cards alone ships nothing: capture its payment as soon as it is
    paid, invoice it, and issue and email the cards. If the processor cannot be reached
    the order stays paid, for staff to ship (which captures and issues the same way)."""
    if order.status != Status.AUTHORISED or not giftcards.only_gift_cards(order):
        return order  # an order's lines never change: no lock needed to know
    token = uuid.uuid5(uuid.NAMESPACE_URL, f"arkiv-gift-cards-{order.number}")
    try:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status != Status.AUTHORISED:
                return _caller_sees(order, locked)
            _capture_and_ship(locked, token=token, by=None, carrier="", tracking_number="", email=False)
    except gateway.PaymentError:
        return order
    return _caller_sees(order, locked)


def _order_language(code):
    """One of the shop's languages: the one asked for, or its nearest ("de-at" -> "de"),
    else the default."""
    try:
        return get_supported_language_variant(code or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def order_start_payment(order, *, success_url, cancel_url):
    """Create (or find again) the processor's hosted payment page; returns its URL."""
    session_id, url = gateway.create_checkout_session(order, success_url=success_url, cancel_url=cancel_url)
    if order.payment_session_id != session_id:
        Order.objects.filter(pk=order.pk).update(payment_session_id=session_id)
        order.payment_session_id = session_id
    return url


# -- payment sync: the return page and the webhook both land here ------------------------


def payment_sync(order):
    """Bring an awaiting-payment order in line with the processor: authorised when the
    card was authorised for the full amount; otherwise unchanged. Safe to call any
    number of times, from the return page or a webhook, in any order."""
    if order.status == Status.AUTHORISED:
        # Paid, but a gift-card order not yet settled (the processor failed us the first time).
        return order_settle_gift_cards(order)
    if order.status != Status.PENDING_PAYMENT or not order.payment_session_id:
        return order
    intent_id = order.payment_intent_id or gateway.payment_intent_of_session(order.payment_session_id)
    if not intent_id:
        return order
    intent = gateway.retrieve_intent(intent_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Status.PENDING_PAYMENT:
            return order
        order.payment_intent_id = intent.id
        if intent.status == "requires_capture" and intent.amount_capturable >= order.amount_due:
            order.amount_authorised = intent.amount_capturable
            order.authorised_at = timezone.now()
            order.save(update_fields=["payment_intent_id", "amount_authorised", "authorised_at"])
            order_transition(order, Status.AUTHORISED, note="Card authorised")
        else:
            order.save(update_fields=["payment_intent_id"])
    if order.status == Status.AUTHORISED:
        order = order_settle_gift_cards(order)
    return order


def payment_abandon(order, *, reason):
    """The buyer left the payment page or the card was refused: close the page at the
    processor and release the stock. The cart stays as it was. If the buyer paid
    meanwhile, the order is authorised instead; if the processor cannot be asked,
    PaymentError and nothing changes (the page may still be payable)."""
    if order.status != Status.PENDING_PAYMENT:
        return order
    if order.payment_session_id and gateway.expire_checkout_session(order.payment_session_id) == "complete":
        return payment_sync(order)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == Status.PENDING_PAYMENT:
            order_transition(order, Status.PAYMENT_FAILED, note=reason)
    return order


def webhook_handle(event):
    """Act on a verified processor event, then record it as handled: an event is kept
    only once it was processed, so a failure (processor unreachable, database error)
    raises, the processor retries, and the retry does the work. Processing is
    idempotent, so a replay or two deliveries at once change nothing twice."""
    if PaymentEvent.objects.filter(event_id=event["id"]).exists():
        return "replayed"
    data = event["data"]["object"]
    number = (data.get("metadata") or {}).get("order") or data.get("client_reference_id")
    order = Order.objects.filter(number=number).first() if number else None
    outcome = "ignored"
    if order is not None and event["type"] in {
        "checkout.session.completed",
        "payment_intent.amount_capturable_updated",
    }:
        payment_sync(order)
        outcome = "synced"
    elif order is not None and event["type"] == "checkout.session.expired":
        if order.status == Status.PENDING_PAYMENT:
            payment_abandon(order, reason="Payment page expired")
        outcome = "expired"
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(event_id=event["id"], type=event["type"], order=order)
    except IntegrityError:
        return "replayed"
    return outcome


# -- fulfilment: money moves once ---------------------------------------------------------
#
# Each staff money action runs in one transaction that locks the order row, refuses a
# form whose action already happened, re-reads status and amounts under the lock, and
# only then calls the processor with a key naming that one action (kind, order, form
# token). A failed call rolls everything back; the same form sent again reuses the key,
# so the processor replays its first answer instead of moving money twice.


class AlreadyDone(OrderError):
    """The same form was sent again: its action happened once, nothing more is done."""


def _lock_for_action(order, *, token, kind):
    locked = Order.objects.select_for_update().get(pk=order.pk)
    done = PaymentAction.objects.filter(token=token).select_related("by").first()
    if done is not None:
        if done.order_id != locked.pk or done.kind != kind:
            raise OrderError("This form was already used for another action; open the order again.")
        who = f" by {done.by}" if done.by else ""
        raise AlreadyDone(
            f"Already done: {done.get_kind_display().lower()} of {done.amount} on {locked.number} "
            f"at {timezone.localtime(done.at):%H:%M:%S}{who}. Nothing was done twice."
        )
    return locked


def _refusal(order, rule, nothing):
    """Why an action no longer applies, saying who moved the order last."""
    last = order.history.select_related("by").last()
    since = f" since {timezone.localtime(last.at):%H:%M:%S}" if last else ""
    who = f" ({last.by})" if last and last.by else ""
    return IllegalTransition(f"{rule}; {order.number} is {order.get_status_display()}{since}{who}. {nothing}")


def _move_money(order, kind, amount, *, token, by, call, gift_card_amount=Decimal("0.00")):
    """Call the processor under the one key that names this action, and record it."""
    key = f"{kind}-{order.number}-{token}"
    call(key)
    PaymentAction.objects.create(
        order=order,
        token=token,
        kind=kind,
        amount=amount,
        gift_card_amount=gift_card_amount,
        idempotency_key=key,
        by=by,
    )


def _before_money_moves(work, nothing):
    try:
        return work()
    except vat.VatRateMissing as exc:
        raise OrderError(f"{exc} Add it in the VAT rates table. {nothing}") from None


def _caller_sees(original, locked):
    if original is not locked:
        original.refresh_from_db()
    return locked


def order_ship(order, *, carrier, tracking_number, by, token=None):
    """Ship an authorised order once: capture (settle) the payment under the form's
    one-time token, record the tracking number, email the customer after commit."""
    token = token or uuid.uuid4()
    with transaction.atomic():
        locked = _lock_for_action(order, token=token, kind=PaymentAction.Kind.CAPTURE)
        if locked.status != Status.AUTHORISED:
            raise _refusal(locked, "Only paid orders can be shipped", "Nothing was captured.")
        _capture_and_ship(locked, token=token, by=by, carrier=carrier, tracking_number=tracking_number)
    return _caller_sees(order, locked)


def _capture_and_ship(locked, *, token, by, carrier, tracking_number, email=True):
    """Capture what the card owes (the total less any gift card), mark the order shipped,
    invoice it, and issue the gift cards it bought; the caller holds the order's lock."""
    # What the invoice will say is settled before money moves: if it cannot be (no
    # VAT rate for an old order's day), nothing is captured.
    invoice = _before_money_moves(lambda: invoices.invoice_lines(locked), "Nothing was captured.")
    due = locked.amount_due
    _move_money(
        locked,
        PaymentAction.Kind.CAPTURE,
        due,
        token=token,
        by=by,
        # Paid in full by gift card: the processor holds nothing to capture.
        call=lambda key: gateway.capture(locked.payment_intent_id, due, key=key) if due else None,
    )
    locked.amount_captured = due
    locked.carrier, locked.tracking_number, locked.shipped_at = carrier, tracking_number, timezone.now()
    locked.save(update_fields=["amount_captured", "carrier", "tracking_number", "shipped_at"])
    note = f"{carrier} {tracking_number}" if carrier or tracking_number else "Gift cards issued by email"
    order_transition(locked, Status.SHIPPED, by=by, note=note, email=email)
    # Captured money is invoiced in the same transaction: no capture without its invoice.
    invoices.invoice_issue(locked, lines=invoice)
    giftcards.gift_cards_issue(locked)


def order_cancel(order, *, by, note="", token=None):
    """Cancel a paid, unshipped order once: void the authorisation under the form's
    one-time token, release stock, email after commit."""
    token = token or uuid.uuid4()
    with transaction.atomic():
        locked = _lock_for_action(order, token=token, kind=PaymentAction.Kind.VOID)
        if locked.status != Status.AUTHORISED:
            raise _refusal(locked, "Only paid, unshipped orders can be cancelled", "Nothing was voided.")
        _move_money(
            locked,
            PaymentAction.Kind.VOID,
            Decimal("0.00"),
            token=token,
            by=by,
            call=lambda key: gateway.void(locked.payment_intent_id, key=key) if locked.amount_due else None,
        )
        order_transition(locked, Status.CANCELLED, by=by, note=note or "Authorisation voided")
    return _caller_sees(order, locked)


def order_refund(order, *, amount, by, lines=None, note="", token=None, refunded_when_shown=None, email=True):
    """Refund some or all of what was captured, never more, once per form: under the
    lock, refuse if the form's token was used, or if money was refunded since the form
    was shown (`refunded_when_shown`), so two staff members never both refund."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    token = token or uuid.uuid4()
    if amount <= 0:
        raise OrderError("A refund must be more than zero.")
    with transaction.atomic():
        locked = _lock_for_action(order, token=token, kind=PaymentAction.Kind.REFUND)
        if locked.status not in (Status.SHIPPED, Status.PARTIALLY_REFUNDED):
            raise _refusal(locked, "Only shipped orders can be refunded", "Nothing was refunded.")
        # Refunded so far, to the card and onto a gift card alike.
        so_far, paid = (
            locked.amount_refunded + locked.gift_card_refunded,
            locked.amount_captured + locked.gift_card_amount,
        )
        if refunded_when_shown is not None and so_far != refunded_when_shown:
            raise OrderError(
                f"While this form was open, {so_far - refunded_when_shown} more was refunded on "
                f"{locked.number} (now {so_far} of {paid}). Nothing was refunded; "
                "check the order and refund again if still needed."
            )
        if amount > locked.refundable:
            raise OrderError(f"At most {locked.refundable} can be refunded on {locked.number}.")
        current = {line.pk: line for line in locked.lines.all()}
        for line, quantity in lines or []:
            fresh = current.get(line.pk)
            if fresh is None or fresh.quantity_refunded + quantity > fresh.quantity:
                raise OrderError(f"{line.title}: that many copies cannot be refunded any more.")
        credited = _before_money_moves(
            lambda: invoices.credit_note_lines(
                locked, amount=amount, lines=[(current[line.pk], quantity) for line, quantity in lines or []]
            ),
            "Nothing was refunded.",
        )
        if not locked.invoices.exists():
            # Shipped before invoices were issued at capture: invoiced now, before the refund.
            invoices.invoice_issue(locked)
        # Back to the card payment first, up to what the card was charged; the rest goes
        # back onto the gift card that paid for the order (see orders.giftcards).
        by_card = min(amount, locked.amount_captured - locked.amount_refunded)
        onto_gift_card = amount - by_card
        _move_money(
            locked,
            PaymentAction.Kind.REFUND,
            amount,
            token=token,
            by=by,
            call=lambda key: gateway.refund(locked.payment_intent_id, by_card, key=key) if by_card else None,
            gift_card_amount=onto_gift_card,
        )
        locked.amount_refunded += by_card
        locked.save(update_fields=["amount_refunded"])
        if onto_gift_card:
            giftcards.gift_card_refund(locked, onto_gift_card)
        for line, quantity in lines or []:
            OrderLine.objects.filter(pk=line.pk).update(quantity_refunded=F("quantity_refunded") + quantity)
        invoices.credit_note_issue(locked, refund=PaymentAction.objects.get(token=token), lines=credited)
        full = locked.refundable <= 0
        order_transition(
            locked,
            Status.REFUNDED if full else Status.PARTIALLY_REFUNDED,
            by=by,
            note=note or f"Refunded {amount}",
            email=email,
        )
    return _caller_sees(order, locked)


def orders_expire_unpaid(*, now=None):
    """Expire orders left unpaid past their time and release their stock."""
    now = now or timezone.now()
    expired = 0
    for order in Order.objects.filter(status=Status.PENDING_PAYMENT, expires_at__lt=now):
        # A buyer may have paid in the last second: ask the processor before expiring.
        # If it cannot be asked now, the order waits for the next run.
        try:
            if payment_sync(order).status != Status.PENDING_PAYMENT:
                continue
        except gateway.PaymentError:
            continue
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status == Status.PENDING_PAYMENT:
                order_transition(locked, Status.EXPIRED, note="Not paid in time")
                expired += 1
    return expired


@transaction.atomic
def orders_claim_for(*, user, numbers):
    """Attach the guest orders the customer chose (from the list they were shown), only
    while the account's current address is proven and is the one the orders were placed
    with. Returns how many were attached."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not (user.is_active and user.email_is_proven):
        return 0
    guest_orders = Order.objects.filter(customer__isnull=True, email__iexact=user.email, number__in=list(numbers))
    return guest_orders.update(customer=user)
