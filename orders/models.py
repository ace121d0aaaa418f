"""Orders, their lines, every move of their status, and what the payment processor told us."""

import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

# Crockford's base32 without I, L, O, U: readable over the phone, no look-alikes.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_number():
    return "AK-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))


class Status(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    AUTHORISED = "authorised", _("Paid (authorised)")
    SHIPPED = "shipped", _("Shipped")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    EXPIRED = "expired", _("Expired unpaid")
    CANCELLED = "cancelled", _("Cancelled")


class ShippingMethod(models.TextChoices):
    STANDARD = "standard", _("Standard (3-5 working days)")
    EXPRESS = "express", _("Express (next working day)")


class ShippingZone(models.Model):
    """Where parcels go at one set of rates: listed countries, or every country no other
    zone lists (the one "rest of the world" zone)."""

    name = models.CharField(max_length=100, unique=True)
    name_de = models.CharField(
        "German name", max_length=100, blank=True, help_text="The name on German pages; blank shows the name above."
    )
    countries = CountryField(multiple=True, blank=True, help_text="Destinations in this zone.")
    rest_of_world = models.BooleanField(
        default=False, help_text="Every destination that no other zone lists. Only one zone may say so."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the shipping page.")

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["rest_of_world"], condition=Q(rest_of_world=True), name="orders_one_rest_of_world_zone"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def shown_name(self):
        """The zone's name in the current language."""
        return self.name_de if self.name_de and get_language() == "de" else self.name


class ShippingRate(models.Model):
    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="rates")
    method = models.CharField(max_length=20, choices=ShippingMethod.choices)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    free_from = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Orders whose subtotal reaches this ship free; empty for never.",
    )
    active = models.BooleanField(default=True, help_text="Offered at checkout. Untick to stop offering the method.")

    class Meta:
        ordering = ["zone", "method"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "method"], name="orders_shipping_rate_once_per_method"),
            models.CheckConstraint(condition=Q(price__gte=0), name="orders_shipping_rate_price_not_negative"),
            models.CheckConstraint(
                condition=Q(free_from__isnull=True) | Q(free_from__gte=0),
                name="orders_shipping_rate_free_from_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(method__in=ShippingMethod.values), name="orders_shipping_rate_method_known"
            ),
        ]

    def __str__(self):
        return f"{self.zone}: {self.get_method_display()}"

    def cost_for(self, subtotal):
        if self.free_from is not None and subtotal >= self.free_from:
            return Decimal("0.00")
        return self.price


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    # What an order needs (privacy promise P1), and nothing else. No card data, ever.
    email = models.EmailField()
    phone = models.CharField(max_length=30, help_text="Only for a parcel that cannot be delivered.")
    billing_name = models.CharField(max_length=150)
    billing_line1 = models.CharField(max_length=200)
    billing_line2 = models.CharField(max_length=200, blank=True)
    billing_city = models.CharField(max_length=100)
    billing_postcode = models.CharField(max_length=20)
    # State, province or prefecture, where the country's addresses name one (US, JP, ...).
    billing_region = models.CharField(max_length=100, blank=True, default="")
    billing_country = models.CharField(max_length=2)
    shipping_name = models.CharField(max_length=150)
    shipping_line1 = models.CharField(max_length=200)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100)
    shipping_postcode = models.CharField(max_length=20)
    shipping_region = models.CharField(max_length=100, blank=True, default="")
    shipping_country = models.CharField(max_length=2)
    shipping_method = models.CharField(max_length=20, choices=ShippingMethod.choices)
    # The language the order was placed in: every email about it is written in it, with
    # links to its pages in it, whatever language is active when the email goes out.
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # The age/guardian statement and marketing consents are recorded by the privacy app
    # against this order (see privacy/), not as free fields here.

    currency = models.CharField(max_length=3, default=settings.ARKIV_CURRENCY)
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    # Taken off the goods by a voucher (orders.vouchers), spread over the lines it applies to.
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"), editable=False)
    shipping_cost = models.DecimalField(max_digits=8, decimal_places=2)
    total = models.DecimalField(max_digits=10, decimal_places=2)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT, editable=False)
    checkout_token = models.UUIDField(
        unique=True,
        default=uuid.uuid4,
        editable=False,
        help_text="One per checkout form: a double submission finds the same order.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(help_text="Unpaid orders expire and release their stock.")

    payment_session_id = models.CharField(max_length=100, blank=True, editable=False)
    payment_intent_id = models.CharField(max_length=100, blank=True, db_index=True, editable=False)
    amount_authorised = models.DecimalField(max_digits=10, decimal_places=2, default=0, editable=False)
    amount_captured = models.DecimalField(max_digits=10, decimal_places=2, default=0, editable=False)
    amount_refunded = models.DecimalField(max_digits=10, decimal_places=2, default=0, editable=False)
    authorised_at = models.DateTimeField(null=True, blank=True, editable=False)

    erased_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Personal data removed at the customer's request."
    )
    retain_until = models.DateField(
        null=True, blank=True, editable=False, help_text="After erasure, what tax law needs is kept until this date."
    )

    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=60, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)

    # VAT contained in the shipping cost, at the destination's rate on the day the order
    # was placed (orders.vat). Empty on orders placed before VAT was recorded: their
    # invoice works it out at the rate in force on the order's date.
    shipping_vat_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, editable=False)
    shipping_vat = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, editable=False)

    # Gift cards are a means of payment: the card pays `gift_card_amount` of the total and
    # the processor is asked for the rest (amount_due). Refunds go back onto the card
    # only after the card payment is refunded in full (gift_card_refunded).
    gift_card = models.ForeignKey(
        "orders.GiftCard", null=True, blank=True, on_delete=models.PROTECT, related_name="orders", editable=False
    )
    gift_card_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0, editable=False)
    gift_card_refunded = models.DecimalField(max_digits=10, decimal_places=2, default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("ship_order", "Can ship orders (captures payment)"),
            ("cancel_order", "Can cancel orders (voids payment)"),
            ("refund_order", "Can refund orders"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="orders_order_status_valid"),
            # Within half a cent: SQLite does this sum in floating point.
            models.CheckConstraint(
                condition=Q(total__gte=F("subtotal") - F("discount") + F("shipping_cost") - Decimal("0.005"))
                & Q(total__lte=F("subtotal") - F("discount") + F("shipping_cost") + Decimal("0.005")),
                name="orders_order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0) & Q(discount__lte=F("subtotal")), name="orders_order_discount_in_range"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=F("amount_captured")), name="orders_order_refund_at_most_captured"
            ),
            models.CheckConstraint(
                condition=Q(gift_card_amount__gte=0) & Q(gift_card_amount__lte=F("total")),
                name="orders_order_gift_card_within_total",
            ),
            models.CheckConstraint(
                condition=Q(gift_card_refunded__gte=0) & Q(gift_card_refunded__lte=F("gift_card_amount")),
                name="orders_order_gift_card_refund_at_most_paid",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("orders:detail", kwargs={"number": self.number})

    @property
    def refundable(self):
        return self.amount_captured - self.amount_refunded + self.gift_card_amount - self.gift_card_refunded

    @property
    def amount_due(self):
        """What the processor is asked for: the total less what a gift card paid."""
        return self.total - self.gift_card_amount


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="order_lines")
    # Copied when the order is placed: later catalog edits never change a placed order.
    sku = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    format_label = models.CharField(max_length=40)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)
    quantity = models.PositiveIntegerField()
    made_to_order = models.BooleanField(default=False)
    lead_time_days = models.PositiveSmallIntegerField(default=0)
    quantity_refunded = models.PositiveIntegerField(default=0)
    # VAT in the line's total (unit price x quantity), at the rate of the order's
    # destination; empty on orders placed before VAT was recorded (see Order.shipping_vat).
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    vat_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # This line's share of the order's voucher discount; its VAT is on what is left.
    discount = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"), editable=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_line_quantity_positive"),
            models.CheckConstraint(condition=Q(quantity_refunded__lte=F("quantity")), name="orders_line_refund_le_qty"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="orders_line_discount_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.title}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity

    @property
    def paid_total(self):
        """What the buyer paid for the line: its total less its share of the discount."""
        return self.line_total - self.discount

    def paid_for(self, quantity, *, already=0):
        """What `quantity` more copies were paid, after `already` copies were accounted
        for: each copy's share of the paid total, rounded so that all copies together
        come to exactly the paid total (a refund gives back no part of the discount)."""
        cent = Decimal("0.01")

        def upto(n):
            return (self.paid_total * n / self.quantity).quantize(cent)

        return upto(already + quantity) - upto(already)


class OrderStatusChange(models.Model):
    """One move of an order's status: who, when, from what to what."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        # In words, as the order pages say it: "Awaiting payment → Paid (authorised)".
        moved_from = Status(self.from_status).label if self.from_status else "-"
        return f"{self.order}: {moved_from} → {self.to_label}"

    @property
    def to_label(self):
        return Status(self.to_status).label


class PaymentEvent(models.Model):
    """A webhook event from the payment processor, kept so a replay changes nothing."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="payment_events")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.type} {self.event_id}"


class OrderEmail(models.Model):
    """An order-status email: queued after commit, retried until it is sent."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Order confirmation"
        SHIPPED = "shipped", "Shipped"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        GIFT_CARD = "gift_card", "Gift card (to its recipient)"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    to = models.EmailField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    gift_card = models.OneToOneField(
        "orders.GiftCard", null=True, blank=True, on_delete=models.CASCADE, related_name="email"
    )

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.to}"


class PaymentAction(models.Model):
    """A staff action that moved money (capture, void, refund), kept under the one-time
    token of the form that asked for it: the same form submitted again finds this row and
    does nothing twice. The token also names the action at the processor."""

    class Kind(models.TextChoices):
        CAPTURE = "capture", "Capture"
        VOID = "void", "Void"
        REFUND = "refund", "Refund"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payment_actions")
    token = models.UUIDField(unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    gift_card_amount = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, help_text="Of a refund: the part given back onto the gift card."
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["capture", "void", "refund"]), name="orders_action_kind_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="orders_action_amount_not_negative"),
            # An authorisation is captured or voided once, whatever the form.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind__in=["capture", "void"]), name="orders_one_capture_or_void"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} on {self.order}"


# -- the wish list and returns ----------------------------------------------------------------


class WishlistItem(models.Model):
    """An offer a signed-in customer saved for later. A visitor's list lives in the
    session (orders.wishlist) and joins this one at sign-in."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist_items")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "offer"], name="orders_wishlist_offer_once")]

    def __str__(self):
        return f"{self.user}: {self.offer_id}"


def new_return_number():
    return "RT-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))


class ReturnReason(models.TextChoices):
    CHANGED_MIND = "changed_mind", _("I changed my mind")
    DAMAGED = "damaged", _("It arrived damaged")
    FAULTY = "faulty", _("It is faulty (skips, noise, will not play)")
    WRONG_ITEM = "wrong_item", _("It is not what I ordered")
    OTHER = "other", _("Another reason")


class ReturnRequest(models.Model):
    """Items of a shipped order the customer sends back: opened by the customer, marked
    received by staff, then refunded once through the order's refund path."""

    class State(models.TextChoices):
        OPENED = "opened", _("Opened (awaiting the parcel)")
        RECEIVED = "received", _("Received")
        REFUNDED = "refunded", _("Refunded")

    number = models.CharField(max_length=20, unique=True, default=new_return_number, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPENED, editable=False)
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    details = models.TextField(max_length=1000, blank=True)
    amount = models.DecimalField(
        max_digits=10, decimal_places=2, editable=False, help_text="The returned lines' value: what is refunded."
    )
    form_token = models.UUIDField(
        unique=True, editable=False, help_text="One per return form: a double submission finds the same return."
    )
    opened_at = models.DateTimeField(auto_now_add=True, db_index=True)
    received_at = models.DateTimeField(null=True, blank=True, editable=False)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    refunded_at = models.DateTimeField(null=True, blank=True, editable=False)
    refund = models.OneToOneField(
        PaymentAction, null=True, blank=True, on_delete=models.CASCADE, related_name="return_request", editable=False
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["opened", "received", "refunded"]), name="orders_return_state_valid"
            ),
            models.CheckConstraint(condition=Q(reason__in=ReturnReason.values), name="orders_return_reason_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="orders_return_amount_positive"),
            # Refunded means one refund recorded against it, and only then.
            models.CheckConstraint(
                condition=Q(state="refunded", refund__isnull=False) | (~Q(state="refunded") & Q(refund__isnull=True)),
                name="orders_return_refunded_has_refund",
            ),
        ]

    def __str__(self):
        return self.number


class ReturnLine(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    # Both go only with their order (purged after its retention date).
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="return_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_return_line_quantity_positive"),
            models.UniqueConstraint(fields=["return_request", "order_line"], name="orders_return_line_once"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line.title}"

    @property
    def value(self):
        return self.order_line.unit_price * self.quantity


# -- VAT, invoices and credit notes --------------------------------------------------------


class VatRate(models.Model):
    """A destination's VAT rate over a period (orders.vat says which destinations are taxed)."""

    country = CountryField()
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Per cent, e.g. 19.00.")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Last day the rate applies; empty while in force.")

    class Meta:
        ordering = ["country", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=100), name="orders_vat_rate_in_range"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="orders_vat_rate_period_forward",
            ),
            models.UniqueConstraint(fields=["country", "valid_from"], name="orders_vat_rate_once_per_start"),
        ]

    def __str__(self):
        return f"{self.country} {self.rate} % from {self.valid_from}"


class DocumentCounter(models.Model):
    """The last number given to an invoice or credit note in a year. Its row is locked
    while a document is issued, in the document's transaction: numbers run without gaps."""

    kind = models.CharField(max_length=12)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="orders_document_counter_once")]

    def __str__(self):
        return f"{self.kind} {self.year}: {self.last}"


class FinalDocumentError(Exception):
    """An issued invoice or credit note cannot be changed, nor removed before its time."""


class Invoice(models.Model):
    """An invoice for a captured order, or a credit note for a refund of one. Written once,
    with everything it says copied in (seller, buyer, lines, rates), never changed after,
    and kept until `retain_until` whatever happens to the order's personal data."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes", help_text="The invoice."
    )
    refund = models.OneToOneField(
        PaymentAction, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_note"
    )
    issued_at = models.DateTimeField()
    supplied_on = models.DateField(help_text="When the goods were supplied: the day the order shipped.")
    language = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    seller_name = models.CharField(max_length=200)
    seller_address = models.TextField()
    seller_vat_number = models.CharField(max_length=40, blank=True)
    buyer_name = models.CharField(max_length=150)
    buyer_address = models.TextField()
    buyer_country = models.CharField(max_length=2)
    destination_country = models.CharField(max_length=2, help_text="Where the goods went: decides the VAT.")
    total = models.DecimalField(max_digits=10, decimal_places=2, help_text="Including VAT (a credit note's too).")
    total_vat = models.DecimalField(max_digits=10, decimal_places=2)
    gift_card_paid = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, help_text="Paid (or, on a credit note, refunded) by gift card."
    )
    retain_until = models.DateField()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["invoice", "credit_note"]), name="orders_invoice_kind_valid"),
            models.CheckConstraint(condition=Q(total__gte=0) & Q(total_vat__gte=0), name="orders_invoice_amounts"),
            # A credit note corrects an invoice for one refund; an invoice corrects nothing.
            models.CheckConstraint(
                condition=Q(kind="invoice", corrects__isnull=True, refund__isnull=True)
                | Q(kind="credit_note", corrects__isnull=False, refund__isnull=False),
                name="orders_credit_note_refers_to_invoice",
            ),
            models.UniqueConstraint(fields=["order"], condition=Q(kind="invoice"), name="orders_one_invoice_per_order"),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise FinalDocumentError(f"{self.number} is issued and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise FinalDocumentError(f"{self.number} is kept until {self.retain_until}.")

    @property
    def total_net(self):
        return self.total - self.total_vat


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Including VAT.")
    total = models.DecimalField(max_digits=10, decimal_places=2, help_text="Including VAT.")
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(max_digits=10, decimal_places=2)
    # A voucher's discount on the line: total = quantity x unit price - discount.
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_invoice_line_quantity")]

    def __str__(self):
        return f"{self.quantity} × {self.description}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise FinalDocumentError("An issued document's lines cannot be changed.")
        super().save(*args, **kwargs)

    @property
    def net(self):
        return self.total - self.vat_amount


# -- discount vouchers (rules in orders.vouchers) ------------------------------------------


class Voucher(models.Model):
    """A discount code made by staff. Codes are kept in capitals, so they match however
    the buyer types them."""

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off"

    code = models.CharField(
        max_length=40,
        unique=True,
        help_text="What the buyer types; letters, digits and dashes; case does not matter. Empty: one is made up.",
    )
    description = models.CharField(max_length=200, blank=True, help_text="For staff: what the voucher is for.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERCENTAGE)
    value = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="Per cent (e.g. 10.00) or an amount in the shop's currency."
    )
    minimum_order = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0.00"), help_text="Goods subtotal the cart must reach."
    )
    valid_from = models.DateTimeField(null=True, blank=True, help_text="Empty: valid at once.")
    valid_until = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Orders in total; empty: no limit.")
    max_uses_per_customer = models.PositiveIntegerField(
        null=True, blank=True, default=1, help_text="Orders per email address; empty: no limit."
    )
    composers = models.ManyToManyField("catalog.Composer", blank=True, related_name="+")
    labels = models.ManyToManyField("catalog.Label", blank=True, related_name="+")
    genres = models.JSONField(default=list, blank=True, help_text="Genres of the works (catalog.Genre values).")
    formats = models.JSONField(default=list, blank=True, help_text="Release formats (catalog.Format values).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["percentage", "fixed"]), name="orders_voucher_kind_valid"),
            models.CheckConstraint(condition=Q(value__gt=0), name="orders_voucher_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100), name="orders_voucher_percentage_at_most_100"
            ),
            models.CheckConstraint(condition=Q(minimum_order__gte=0), name="orders_voucher_minimum_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="orders_voucher_window_ordered",
            ),
            models.UniqueConstraint(Upper("code"), name="orders_voucher_code_unique_any_case"),
        ]

    def __str__(self):
        return self.code


class VoucherRedemption(models.Model):
    """One order's use of a voucher: the usage record the limits count. Released when the
    order expires unpaid, fails or is cancelled, which gives the use back."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="voucher_redemption")
    email = models.EmailField(help_text="The buyer's normalised address: the customer the per-customer limit counts.")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True, help_text="Use given back: the order was not paid.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="orders_redemption_amount_positive")]
        indexes = [models.Index(fields=["voucher", "email"], name="orders_redemption_by_customer")]

    def __str__(self):
        return f"{self.voucher} on {self.order}"


# -- gift cards ---------------------------------------------------------------------------


class GiftCardLine(models.Model):
    """A gift card bought with an order: its amount and whom it goes to. The card itself
    (GiftCard) is issued when the order's payment is captured."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="gift_card_lines")
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    recipient_name = models.CharField(max_length=150)
    recipient_email = models.EmailField()
    message = models.TextField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="orders_gift_card_line_amount_positive")]

    def __str__(self):
        return f"Gift card {self.amount} for {self.recipient_name}"


class GiftCard(models.Model):
    """A multi-purpose voucher: spent on anything in the shop until it expires. Only a
    hash of its code is kept (and its last four characters, to tell cards apart); the
    code itself waits in `code_to_send` until its email is handed to the outbox."""

    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    last4 = models.CharField(max_length=4, db_index=True, editable=False)
    code_to_send = models.CharField(max_length=32, blank=True, editable=False)
    # The card outlives its order's retention: when the order is purged, the card stays.
    purchase = models.OneToOneField(
        GiftCardLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="gift_card", editable=False
    )
    currency = models.CharField(max_length=3, default=settings.ARKIV_CURRENCY, editable=False)
    initial_amount = models.DecimalField(max_digits=8, decimal_places=2, editable=False)
    balance = models.DecimalField(max_digits=8, decimal_places=2, editable=False)
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    disabled = models.BooleanField(default=False, help_text="A disabled card cannot be spent.")
    # A card issued with a new code because its recipient lost this one's (or it went to a
    # wrong address): the balance moved over, and the old code no longer works.
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replacement", editable=False
    )

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="orders_gift_card_balance_not_negative"),
            models.CheckConstraint(condition=Q(initial_amount__gt=0), name="orders_gift_card_amount_positive"),
        ]

    def __str__(self):
        return f"Gift card …{self.last4}"


class GiftCardEntry(models.Model):
    """One movement of a gift card's balance, with the order it belongs to."""

    class Kind(models.TextChoices):
        ISSUE = "issue", "Issued"
        REDEEM = "redeem", "Spent on an order"
        RELEASE = "release", "Given back (order not paid or cancelled)"
        REFUND = "refund", "Refunded onto the card"
        MOVED_OUT = "moved_out", "Moved to a replacement card"
        MOVED_IN = "moved_in", "Moved from the card it replaces"

    gift_card = models.ForeignKey(GiftCard, on_delete=models.PROTECT, related_name="entries")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="gift_card_entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(max_digits=8, decimal_places=2, help_text="Positive adds to the balance.")
    balance_after = models.DecimalField(max_digits=8, decimal_places=2)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "gift card entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["issue", "redeem", "release", "refund", "moved_out", "moved_in"]),
                name="orders_gift_card_entry_kind",
            ),
            # An order spends from a card once and gets it back at most once.
            models.UniqueConstraint(
                fields=["gift_card", "order"],
                condition=Q(kind="redeem"),
                name="orders_gift_card_redeemed_once_per_order",
            ),
            models.UniqueConstraint(
                fields=["gift_card", "order"], condition=Q(kind="release"), name="orders_gift_card_released_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} on {self.gift_card}"
