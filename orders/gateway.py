"""The payment gateway: the only code that imports `stripe`.

Checkout uses Stripe's hosted Checkout with manual capture: the card is authorised when
the buyer pays and settled when the order ships. Card data never reaches our servers or
our pages. Offline (demo, tests, CI) the same calls go to the payment sandbox; only
STRIPE_API_BASE and the keys differ.

Privacy promise P2: only what the processor needs to take the payment leaves the shop.
PROCESSOR_FIELDS below is that allow-list, and tests pin it."""

import json
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

# Everything we send with a checkout session. No addresses, phone or name: the hosted
# page asks the card holder for what the card network needs.
PROCESSOR_FIELDS = {
    "mode",
    "line_items",  # product name (release title), unit amount, quantity, currency
    "customer_email",  # for the processor's receipt and fraud checks
    "client_reference_id",  # our order number
    "metadata",  # {"order": number}
    "payment_intent_data",  # manual capture, {"order": number}
    "success_url",
    "cancel_url",
    "expires_at",
    "locale",  # the language the order was placed in, for the hosted page
}


class PaymentError(Exception):
    """The processor refused or could not be reached; the message is safe to show staff.
    `unreachable` when the outcome is unknown (no answer in time, connection refused,
    the processor's own failure): the same call with the same key may be tried again."""

    def __init__(self, message, *, unreachable=False):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass
class Intent:
    id: str
    status: str  # requires_payment_method, requires_capture, succeeded, canceled, ...
    amount_capturable: Decimal
    amount_received: Decimal


def to_cents(amount):
    return int((Decimal(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_cents(cents):
    return (Decimal(cents or 0) / 100).quantize(Decimal("0.01"))


def _stripe():
    """The stripe library, loaded on first use: a server process that only shows the
    catalog never holds it. On load stripe picks an async HTTP client among those
    installed and imports it; the shop makes only synchronous calls (RequestsClient),
    so it is loaded as if aiohttp were not installed (it is only where the test-only
    localstripe brought it in), and a worker does not carry aiohttp's 8 MB."""
    if "stripe" not in sys.modules and "aiohttp" not in sys.modules:
        sys.modules["aiohttp"] = None  # what Python sees as "not installed"
        try:
            import stripe
        finally:
            del sys.modules["aiohttp"]
    import stripe

    return stripe


def _client():
    """A client whose every call ends within the timeouts named in settings: a processor
    that accepts connections and never answers fails like one that refuses them."""
    stripe = _stripe()
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    http = stripe.RequestsClient(timeout=(settings.STRIPE_CONNECT_TIMEOUT_SECONDS, settings.STRIPE_TIMEOUT_SECONDS))
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,
        max_network_retries=settings.STRIPE_MAX_RETRIES,
        http_client=http,
    )


def _call(fn, *args, **kwargs):
    stripe = _stripe()
    try:
        return fn(*args, **kwargs)
    except stripe.APIConnectionError as exc:
        raise PaymentError(
            "The payment processor could not be reached or did not answer in time.", unreachable=True
        ) from exc
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc) or exc.__class__.__name__
        raise PaymentError(message, unreachable=(exc.http_status or 0) >= 500) from exc


def checkout_session_params(order, *, success_url, cancel_url):
    """What we send to create the hosted payment page for an order (see PROCESSOR_FIELDS),
    its words in the order's language."""
    with translation.override(order.language):
        return _checkout_session_params(order, success_url=success_url, cancel_url=cancel_url)


def _checkout_session_params(order, *, success_url, cancel_url):
    line_items = [_line_item(order, line) for line in order.lines.all()]
    if order.shipping_cost:
        line_items.append(
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency.lower(),
                    "unit_amount": to_cents(order.shipping_cost),
                    "product_data": {
                        "name": _("Shipping: %(method)s") % {"method": order.get_shipping_method_display()}
                    },
                },
            }
        )
    line_items += [
        {
            "quantity": 1,
            "price_data": {
                "currency": order.currency.lower(),
                "unit_amount": to_cents(gift.amount),
                # Not the recipient's name: that is nobody's business but ours (P2).
                "product_data": {"name": _("Arkiv gift card")},
            },
        }
        for gift in order.gift_card_lines.all()
    ]
    if order.gift_card_amount:
        # The processor is asked only for what the gift card leaves to pay, as one line.
        line_items = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency.lower(),
                    "unit_amount": to_cents(order.amount_due),
                    "product_data": {
                        "name": _("Order %(number)s, less %(amount)s paid by gift card")
                        % {"number": order.number, "amount": order.gift_card_amount}
                    },
                },
            }
        ]
    return {
        "mode": "payment",
        "line_items": line_items,
        "customer_email": order.email,
        "client_reference_id": order.number,
        "metadata": {"order": order.number},
        "payment_intent_data": {"capture_method": "manual", "metadata": {"order": order.number}},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(order.expires_at.timestamp()),
        "locale": processor_locale(order.language),
    }


def _line_item(order, line):
    """A line as the processor shows it: at its price, or, when a voucher took something
    off it, as one item of what was paid for all its copies (a discount need not divide
    evenly between them), so the page's total is the order's."""
    name = f"{line.title} ({line.format_label})"
    quantity, unit_amount = line.quantity, to_cents(line.unit_price)
    if line.discount:
        name = _("%(count)s × %(item)s, less %(discount)s voucher discount") % {
            "count": line.quantity,
            "item": name,
            "discount": f"{line.discount} {order.currency}",
        }
        quantity, unit_amount = 1, to_cents(line.paid_total)
    return {
        "quantity": quantity,
        "price_data": {"currency": order.currency.lower(), "unit_amount": unit_amount, "product_data": {"name": name}},
    }


def processor_locale(language):
    """Stripe's name for one of our languages: "en-gb" -> "en-GB", "de" -> "de"."""
    base, _, region = language.partition("-")
    return f"{base}-{region.upper()}" if region else base


def create_checkout_session(order, *, success_url, cancel_url):
    """Create the hosted payment page for an order; returns (session id, page URL).
    The idempotency key is the order number, so a retry never makes a second page."""
    params = checkout_session_params(order, success_url=success_url, cancel_url=cancel_url)
    session = _call(_client().v1.checkout.sessions.create, params, {"idempotency_key": f"checkout-{order.number}"})
    return session.id, session.url


def expire_checkout_session(session_id):
    """Close an unpaid payment page so it cannot be paid any more. Returns the page's
    status afterwards: "expired", or "complete" when the buyer paid first. PaymentError
    when the processor cannot say (then the page may still be payable)."""
    client = _client()
    session = _call(client.v1.checkout.sessions.retrieve, session_id)
    if session.status == "open":
        try:
            session = _call(client.v1.checkout.sessions.expire, session_id)
        except PaymentError:
            # Paid or expired in the meantime: the processor's word decides.
            session = _call(client.v1.checkout.sessions.retrieve, session_id)
            if session.status == "open":
                raise
    return session.status


def payment_intent_of_session(session_id):
    """The payment intent id behind a checkout session, once the buyer has paid."""
    session = _call(_client().v1.checkout.sessions.retrieve, session_id)
    return (
        session.payment_intent
        if isinstance(session.payment_intent, str)
        else getattr(session.payment_intent, "id", "") or ""
    )


def retrieve_intent(intent_id):
    intent = _call(_client().v1.payment_intents.retrieve, intent_id)
    # Stripe always sends both amounts; older API versions and some fakes only `amount`.
    amount = getattr(intent, "amount", 0) or 0
    capturable = getattr(intent, "amount_capturable", amount if intent.status == "requires_capture" else 0)
    received = getattr(intent, "amount_received", amount if intent.status == "succeeded" else 0)
    return Intent(
        id=intent.id,
        status=intent.status,
        amount_capturable=from_cents(capturable),
        amount_received=from_cents(received),
    )


def capture(intent_id, amount, *, key):
    """Settle an authorised payment (all or part of it)."""
    _call(
        _client().v1.payment_intents.capture,
        intent_id,
        {"amount_to_capture": to_cents(amount)},
        {"idempotency_key": key},
    )


def void(intent_id, *, key):
    """Cancel an authorisation that was never captured."""
    _call(_client().v1.payment_intents.cancel, intent_id, {}, {"idempotency_key": key})


def refund(intent_id, amount, *, key):
    """Refund part or all of a captured payment."""
    _call(
        _client().v1.refunds.create, {"payment_intent": intent_id, "amount": to_cents(amount)}, {"idempotency_key": key}
    )


class MalformedEvent(ValueError):
    """A correctly signed event that lacks what we act on, or has it in the wrong shape."""


def parse_webhook(payload, signature):
    """A verified webhook event as plain data, or ValueError when the signature does not
    check out (or is older than Stripe's five-minute tolerance); MalformedEvent when it
    is signed but not shaped like an event."""
    stripe = _stripe()
    try:
        # Only the signature: the library's own event parsing fails on signed payloads
        # that are not shaped like an event, which are ours to answer with a 400.
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
        )
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise ValueError("invalid webhook") from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise MalformedEvent("not JSON") from exc
    return _checked_event(event)


def _checked_event(event):
    """The event if it has the keys and types the shop reads, else MalformedEvent."""
    if not isinstance(event, dict):
        raise MalformedEvent("an event is an object")
    for key in ("id", "type"):
        if not isinstance(event.get(key), str) or not 0 < len(event[key]) <= 100:
            raise MalformedEvent(f"{key} must be a string of 1 to 100 characters")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("data.object must be an object")
    obj = data["object"]
    if not isinstance(obj.get("metadata") or {}, dict):
        raise MalformedEvent("metadata must be an object")
    number = (obj.get("metadata") or {}).get("order") or obj.get("client_reference_id")
    if number is not None and not isinstance(number, str):
        raise MalformedEvent("the order number must be a string")
    return event
