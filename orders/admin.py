"""Staff's order screens: find an order, see everything about it, and move it on
(ship, cancel, refund, resend an email, print a packing slip)."""

import datetime
import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from arkiv.admin import SaveOnlyWhatCanChange
from catalog.models import Format, Genre

from . import addresses, emails, exports, gateway, giftcards, invoices, returns, services, vat, vouchers
from .models import (
    GiftCard,
    GiftCardEntry,
    GiftCardLine,
    Invoice,
    InvoiceLine,
    Order,
    OrderEmail,
    OrderLine,
    OrderStatusChange,
    PaymentAction,
    PaymentEvent,
    ReturnLine,
    ReturnRequest,
    ShippingRate,
    ShippingZone,
    Status,
    VatRate,
    Voucher,
    VoucherRedemption,
)

# Card authorisations lapse after about seven days; warn two days ahead.
AUTHORISATION_DAYS = 7
AUTHORISATION_WARNING_DAYS = 5


class AuthorisationExpiringFilter(admin.SimpleListFilter):
    title = "authorisation"
    parameter_name = "authorisation"

    def lookups(self, request, model_admin):
        return [("expiring", "Expiring within 2 days"), ("expired", "Older than 7 days")]

    def queryset(self, request, queryset):
        now = timezone.now()
        authorised = queryset.filter(status=Status.AUTHORISED)
        if self.value() == "expiring":
            return authorised.filter(
                authorised_at__lte=now - datetime.timedelta(days=AUTHORISATION_WARNING_DAYS),
                authorised_at__gt=now - datetime.timedelta(days=AUTHORISATION_DAYS),
            )
        if self.value() == "expired":
            return authorised.filter(authorised_at__lte=now - datetime.timedelta(days=AUTHORISATION_DAYS))
        return queryset


class MadeToOrderFilter(admin.SimpleListFilter):
    title = "made-to-order lines"
    parameter_name = "made_to_order"

    def lookups(self, request, model_admin):
        return [("yes", "Has made-to-order lines"), ("no", "Stock items only")]

    def queryset(self, request, queryset):
        has_mto = Exists(OrderLine.objects.filter(order=OuterRef("pk"), made_to_order=True))
        if self.value() == "yes":
            return queryset.filter(has_mto)
        if self.value() == "no":
            return queryset.exclude(has_mto)
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = [
        "sku",
        "title",
        "format_label",
        "unit_price",
        "quantity",
        "discount",
        "quantity_refunded",
        "made_to_order",
        "lead_time_days",
    ]


class PaymentActionInline(ReadOnlyInline):
    model = PaymentAction
    fields = readonly_fields = ["at", "kind", "amount", "by", "idempotency_key"]
    verbose_name_plural = "money moved by staff"


class StatusHistoryInline(ReadOnlyInline):
    model = OrderStatusChange
    fields = readonly_fields = ["at", "move", "by", "note"]
    verbose_name_plural = "status history"

    @admin.display(description="Status")
    def move(self, change):
        """The move in words, as staff and customers name the states ("Awaiting payment → Paid")."""
        if not change.from_status:
            return change.to_label
        return f"{Status(change.from_status).label} → {change.to_label}"


class OrderEmailInline(ReadOnlyInline):
    model = OrderEmail
    fields = readonly_fields = ["created_at", "kind", "to", "state", "attempts", "sent_at", "last_error", "resend"]

    @admin.display(description="")
    def resend(self, obj):
        url = reverse("admin:orders_order_resend", args=[obj.order_id, obj.pk])
        return format_html('<a class="button" href="{}">Send again</a>', url)


class OrderVoucherInline(ReadOnlyInline):
    model = VoucherRedemption
    fields = readonly_fields = ["voucher", "amount", "created_at", "released_at"]
    verbose_name_plural = "voucher"


class GiftCardLineInline(ReadOnlyInline):
    model = GiftCardLine
    fields = readonly_fields = ["amount", "recipient_name", "recipient_email", "message", "card"]
    verbose_name_plural = "gift cards bought"

    @admin.display(description="Card")
    def card(self, line):
        card = getattr(line, "gift_card", None)
        if card is None:
            return "issued when the payment is captured"
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_giftcard_change", args=[card.pk]), card)


def money_action(request, action, *, done, refused, retry, back):
    """Run a money action (ship, cancel, refund an order or a return) and say how it went;
    the processor's refusals are messages, never error pages. When the processor could not
    be reached, the same form (same token) comes back through `retry`, so sending it again
    cannot move money twice; otherwise `back` leads on."""
    try:
        action()
    except services.AlreadyDone as exc:
        messages.warning(request, str(exc))
    except services.OrderError as exc:
        messages.error(request, f"{refused}: {exc}")
    except gateway.PaymentError as exc:
        if not exc.unreachable:
            messages.error(request, f"{refused}: the payment processor refused: {exc}")
            return back()
        messages.error(
            request,
            f"{refused}: {exc} Nothing was recorded here. Sending this form again is safe: "
            "the payment processor never acts twice on it.",
        )
        return retry()
    else:
        messages.success(request, done)
    return back()


@admin.register(Order)
class OrderAdmin(SaveOnlyWhatCanChange, admin.ModelAdmin):
    list_display = ["number", "created_at", "email", "billing_name", "status", "total", "authorisation"]
    list_filter = ["status", MadeToOrderFilter, AuthorisationExpiringFilter, ("created_at", admin.DateFieldListFilter)]
    search_fields = ["number", "email", "billing_name", "shipping_name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "number",
        "status",
        "customer",
        "created_at",
        "expires_at",
        "email",
        "phone",
        "language",
        "billing_address",
        "shipping_address",
        "shipping_method",
        "subtotal",
        "discount",
        "shipping_cost",
        "total",
        "currency",
        "payment",
        "carrier",
        "tracking_number",
        "shipped_at",
    ]
    fieldsets = [
        (None, {"fields": ["number", "status", "customer", "created_at", "expires_at"]}),
        # The language the customer bought in: every email about the order is written in it.
        ("Contact", {"fields": ["email", "phone", "language"]}),
        ("Addresses", {"fields": ["billing_address", "shipping_address", "shipping_method"]}),
        ("Money", {"fields": ["subtotal", "discount", "shipping_cost", "total", "currency", "payment"]}),
        ("Shipping", {"fields": ["carrier", "tracking_number", "shipped_at"]}),
    ]
    inlines = [
        OrderLineInline,
        GiftCardLineInline,
        OrderVoucherInline,
        StatusHistoryInline,
        PaymentActionInline,
        OrderEmailInline,
    ]
    change_form_template = "admin/orders/order/change_form.html"

    class Media:
        # The authorisation warnings' colours (the Content-Security-Policy forbids inline style).
        css = {"all": ["css/admin_orders.css"]}

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fieldsets(self, request, obj=None):
        # Only an unpaid order expires: a paid one shows no expiry (nor its warning).
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.status == Status.PENDING_PAYMENT:
            return fieldsets
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "expires_at"]})
            for name, options in fieldsets
        ]

    @admin.display(description="Billing address")
    def billing_address(self, order):
        return _address(order, "billing")

    @admin.display(description="Shipping address")
    def shipping_address(self, order):
        return _address(order, "shipping")

    @admin.display(description="Payment")
    def payment(self, order):
        paid = (
            f"authorised {order.amount_authorised}, captured {order.amount_captured}, "
            f"refunded {order.amount_refunded} ({order.payment_intent_id or 'no payment yet'})"
        )
        if order.gift_card_amount:
            paid += (
                f"; gift card …{order.gift_card.last4} paid {order.gift_card_amount}, "
                f"{order.gift_card_refunded} refunded onto it"
            )
        return paid

    @admin.display(description="Authorisation")
    def authorisation(self, order):
        if order.status != Status.AUTHORISED or not order.authorised_at:
            return "—"
        age = (timezone.now() - order.authorised_at).days
        left = AUTHORISATION_DAYS - age
        if left <= 0:
            return format_html('<strong class="authorisation-expired">expired</strong>')
        if age >= AUTHORISATION_WARNING_DAYS:
            return format_html('<strong class="authorisation-expiring">expires in {} day(s)</strong>', left)
        return f"{left} days left"

    def get_urls(self):
        own = [
            path("<int:pk>/ship/", self.admin_site.admin_view(self.ship_view), name="orders_order_ship"),
            path("<int:pk>/cancel/", self.admin_site.admin_view(self.cancel_view), name="orders_order_cancel"),
            path("<int:pk>/refund/", self.admin_site.admin_view(self.refund_view), name="orders_order_refund"),
            path(
                "<int:pk>/resend/<int:email_id>/",
                self.admin_site.admin_view(self.resend_view),
                name="orders_order_resend",
            ),
            path(
                "<int:pk>/packing-slip/",
                self.admin_site.admin_view(self.packing_slip_view),
                name="orders_order_packing_slip",
            ),
        ]
        return own + super().get_urls()

    def _order(self, request, pk, permission):
        if not request.user.has_perm(f"orders.{permission}"):
            raise PermissionDenied
        return get_object_or_404(Order, pk=pk)

    def _back(self, order):
        return redirect("admin:orders_order_change", order.pk)

    def _form_page(self, request, order, form, title, button, lines=None):
        context = {
            **self.admin_site.each_context(request),
            "order": order,
            "form": form,
            "title": title,
            "button": button,
            "opts": self.model._meta,
            "lines": lines if lines is not None else list(order.lines.all()),
        }
        return render(request, "admin/orders/order/action.html", context)

    def _perform(self, request, order, action, *, done, refused, retry):
        return money_action(request, action, done=done, refused=refused, retry=retry, back=lambda: self._back(order))

    def ship_view(self, request, pk):
        order = self._order(request, pk, "ship_order")
        form = ShipForm(request.POST or None)

        def page():
            return self._form_page(request, order, form, f"Ship {order.number}", "Mark shipped and capture payment")

        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            return self._perform(
                request,
                order,
                lambda: services.order_ship(
                    order,
                    carrier=data["carrier"],
                    tracking_number=data["tracking_number"],
                    by=request.user,
                    token=data["token"],
                ),
                done=f"{order.number} shipped; payment captured and customer emailed.",
                refused="Not shipped",
                retry=page,
            )
        return page()

    def cancel_view(self, request, pk):
        order = self._order(request, pk, "cancel_order")
        form = CancelForm(request.POST or None)

        def page():
            return self._form_page(request, order, form, f"Cancel {order.number}", "Cancel order and void payment")

        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            return self._perform(
                request,
                order,
                lambda: services.order_cancel(order, by=request.user, note=data["note"], token=data["token"]),
                done=f"{order.number} cancelled; authorisation voided, customer emailed.",
                refused="Not cancelled",
                retry=page,
            )
        return page()

    def refund_view(self, request, pk):
        order = self._order(request, pk, "refund_order")
        lines = list(order.lines.all())
        form = RefundForm(
            request.POST or None,
            lines=lines,
            refundable=order.refundable,
            refunded=order.amount_refunded + order.gift_card_refunded,
        )

        def page():
            return self._form_page(request, order, form, f"Refund {order.number}", "Refund", lines=lines)

        if request.method == "POST" and form.is_valid():
            amount = form.refund_amount()
            data = form.cleaned_data
            return self._perform(
                request,
                order,
                lambda: services.order_refund(
                    order,
                    amount=amount,
                    lines=form.line_quantities(),
                    by=request.user,
                    note=data["note"],
                    token=data["token"],
                    refunded_when_shown=data["refunded_when_shown"],
                ),
                done=f"Refunded {amount} on {order.number}; customer emailed.",
                refused="Not refunded",
                retry=page,
            )
        return page()

    def resend_view(self, request, pk, email_id):
        order = self._order(request, pk, "change_order")
        original = get_object_or_404(OrderEmail, pk=email_id, order=order)
        if request.method == "POST":
            emails.queue(order, original.kind, to=original.to)
            messages.success(
                request, f"The {original.get_kind_display().lower()} email is on its way to {original.to}."
            )
            return self._back(order)
        return self._form_page(
            request,
            order,
            forms.Form(),
            f"Send the {original.get_kind_display().lower()} email again to {original.to}?",
            "Send again",
        )

    def packing_slip_view(self, request, pk):
        order = self._order(request, pk, "view_order")
        return render(
            request, "admin/orders/order/packing_slip.html", {"order": order, "lines": list(order.lines.all())}
        )


STALE_FORM = "This form is out of date; open it again from the order."


def _address(order, prefix):
    return ", ".join(addresses.address_lines(addresses.order_address(order, prefix)))


class MoneyActionForm(forms.Form):
    """A form that moves money. Its one-time token, made when the form is shown, names
    the one action it asks for: the same form sent twice acts once."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    # Hidden fields staff cannot fix: if they are missing or altered, the whole form is
    # out of date, said once at the top.
    stale_if_invalid = {"token"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = uuid.uuid4()

    def add_error(self, field, error):
        if field not in self.stale_if_invalid:
            return super().add_error(field, error)
        if STALE_FORM not in self.non_field_errors():
            super().add_error(None, STALE_FORM)


class ShipForm(MoneyActionForm):
    carrier = forms.CharField(max_length=60, initial="DHL")
    tracking_number = forms.CharField(max_length=60)


class CancelForm(MoneyActionForm):
    note = forms.CharField(max_length=300, required=False, help_text="Why (kept in the order's history).")


class RefundForm(MoneyActionForm):
    amount = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Leave empty to refund the lines chosen below.",
    )
    note = forms.CharField(max_length=300, required=False)
    # What had been refunded when the form was shown: if that changed meanwhile (another
    # refund went through), this one is refused rather than added on top.
    refunded_when_shown = forms.DecimalField(max_digits=10, decimal_places=2, widget=forms.HiddenInput)
    stale_if_invalid = {"token", "refunded_when_shown"}

    def __init__(self, *args, lines, refundable, refunded, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines, self.refundable = lines, refundable
        self.fields["refunded_when_shown"].initial = refunded
        for line in lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.title} ({line.unit_price} each)",
                min_value=0,
                max_value=line.quantity - line.quantity_refunded,
                initial=0,
                required=False,
            )

    def line_quantities(self):
        return [
            (line, self.cleaned_data.get(f"line_{line.pk}") or 0)
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        ]

    def refund_amount(self):
        if self.cleaned_data.get("amount"):
            return self.cleaned_data["amount"]
        # What the copies were paid, less their share of a voucher's discount.
        return sum(
            (line.paid_for(quantity, already=line.quantity_refunded) for line, quantity in self.line_quantities()),
            Decimal("0.00"),
        )

    def clean(self):
        data = super().clean()
        try:
            amount = self.refund_amount()
        except (InvalidOperation, TypeError):
            return data
        if amount <= 0:
            raise forms.ValidationError("Enter an amount or choose lines to refund.")
        if amount > self.refundable:
            raise forms.ValidationError(f"At most {self.refundable} can be refunded.")
        return data


@admin.register(PaymentEvent)
class PaymentEventAdmin(SaveOnlyWhatCanChange, admin.ModelAdmin):
    list_display = ["received_at", "type", "event_id", "order"]
    list_filter = ["type"]
    search_fields = ["event_id", "order__number"]
    readonly_fields = ["event_id", "type", "order", "received_at"]

    def has_add_permission(self, request):
        return False


# -- returns: received, then refunded once through the order's refund path ----------------


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = readonly_fields = ["order_line", "quantity", "value"]

    def has_view_permission(self, request, obj=None):
        # The lines are part of the return: whoever may see the return sees what is in it.
        return request.user.has_perm("orders.view_returnrequest") or request.user.has_perm(
            "orders.change_returnrequest"
        )


@admin.register(ReturnRequest)
class ReturnRequestAdmin(SaveOnlyWhatCanChange, admin.ModelAdmin):
    list_display = ["number", "opened_at", "order_link", "state", "reason", "amount", "next_step"]
    list_filter = ["state", "reason", ("opened_at", admin.DateFieldListFilter)]
    search_fields = ["number", "order__number", "order__email"]
    list_select_related = ["order"]
    readonly_fields = [
        "number",
        "order_link",
        "state",
        "reason",
        "details",
        "amount",
        "opened_at",
        "received_at",
        "received_by",
        "refunded_at",
        "refund",
        "next_step",
    ]
    fields = readonly_fields
    inlines = [ReturnLineInline]
    actions = ["mark_received"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, ret):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[ret.order_id]), ret.order)

    @admin.display(description="Next step")
    def next_step(self, ret):
        if ret.state == ReturnRequest.State.OPENED:
            url = reverse("admin:orders_returnrequest_receive", args=[ret.pk])
            return format_html('<a class="button" href="{}">Mark received</a>', url)
        if ret.state == ReturnRequest.State.RECEIVED:
            url = reverse("admin:orders_returnrequest_refund", args=[ret.pk])
            return format_html('<a class="button" href="{}">Refund {}</a>', url, ret.amount)
        return "—"

    @admin.action(description="Mark selected returns received", permissions=["change"])
    def mark_received(self, request, queryset):
        marked = sum(returns.return_mark_received(ret=ret, by=request.user) for ret in queryset)
        self.message_user(request, f"{marked} return(s) marked received; customers emailed.", messages.SUCCESS)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/receive/", self.admin_site.admin_view(self.receive_view), name="orders_returnrequest_receive"
            ),
            path("<int:pk>/refund/", self.admin_site.admin_view(self.refund_view), name="orders_returnrequest_refund"),
        ]
        return own + super().get_urls()

    def _return(self, request, pk, permission):
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return get_object_or_404(ReturnRequest.objects.select_related("order"), pk=pk)

    def _page(self, request, ret, form, title, button):
        context = {
            **self.admin_site.each_context(request),
            "ret": ret,
            "lines": list(ret.lines.select_related("order_line")),
            "form": form,
            "title": title,
            "button": button,
            "opts": self.model._meta,
        }
        return render(request, "admin/orders/returnrequest/action.html", context)

    def _back(self, ret):
        return redirect("admin:orders_returnrequest_change", ret.pk)

    def receive_view(self, request, pk):
        ret = self._return(request, pk, "orders.change_returnrequest")
        if request.method == "POST":
            if returns.return_mark_received(ret=ret, by=request.user):
                messages.success(request, f"Return {ret.number} marked received; customer emailed.")
            else:
                messages.warning(request, f"Return {ret.number} is already {ret.get_state_display().lower()}.")
            return self._back(ret)
        return self._page(request, ret, forms.Form(), f"Mark return {ret.number} received", "Mark received")

    def refund_view(self, request, pk):
        """Refund a received return for its lines' value, once: the form's one-time token
        names the refund, and the return is re-read under lock before any money moves."""
        ret = self._return(request, pk, "orders.refund_order")
        form = MoneyActionForm(request.POST or None)

        def page():
            return self._page(request, ret, form, f"Refund return {ret.number}", f"Refund {ret.amount}")

        if request.method != "POST" or not form.is_valid():
            return page()
        return money_action(
            request,
            lambda: returns.return_refund(ret=ret, by=request.user, token=form.cleaned_data["token"]),
            done=f"Refunded {ret.amount} for return {ret.number}; customer emailed.",
            refused="Not refunded",
            retry=page,
            back=lambda: self._back(ret),
        )


# -- shipping zones and rates ---------------------------------------------------------


class ShippingZoneForm(forms.ModelForm):
    class Meta:
        model = ShippingZone
        fields = ["name", "name_de", "countries", "rest_of_world", "position"]

    def clean_countries(self):
        # A destination has one price: a country listed in two zones would be ambiguous.
        chosen = {str(code) for code in self.cleaned_data["countries"]}
        taken = {}
        for zone in ShippingZone.objects.exclude(pk=self.instance.pk):
            for code in zone.countries:
                taken[str(code)] = zone.name
        clashes = sorted(f"{addresses.country_name(code)} ({taken[code]})" for code in chosen & taken.keys())
        if clashes:
            raise forms.ValidationError(f"Already in another zone: {', '.join(clashes)}.")
        return self.cleaned_data["countries"]

    def clean_rest_of_world(self):
        value = self.cleaned_data["rest_of_world"]
        if value and ShippingZone.objects.filter(rest_of_world=True).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another zone already covers the rest of the world.")
        return value


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    extra = 0
    fields = ["method", "price", "free_from", "active"]


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    """Where we ship and at what price: the cart, the checkout and the public shipping
    page read these rows as they are saved."""

    form = ShippingZoneForm
    list_display = ["name", "name_de", "destinations", "rates", "position"]
    list_editable = ["position"]
    inlines = [ShippingRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("rates")

    @admin.display(description="Destinations")
    def destinations(self, zone):
        names = ", ".join(sorted(addresses.country_name(code) for code in zone.countries))
        if zone.rest_of_world:
            return f"{names} + rest of the world" if names else "Rest of the world"
        return names

    @admin.display(description="Rates")
    def rates(self, zone):
        return "; ".join(
            f"{rate.get_method_display()} {rate.price}"
            + (f" (free from {rate.free_from})" if rate.free_from is not None else "")
            + ("" if rate.active else " – off")
            for rate in zone.rates.all()
        )


# -- VAT, invoices and credit notes ----------------------------------------------------------


class VatRateForm(forms.ModelForm):
    class Meta:
        model = VatRate
        fields = ["country", "rate", "valid_from", "valid_to"]

    def clean(self):
        data = super().clean()
        valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            raise forms.ValidationError("The last day comes before the first.")
        return data


@admin.register(VatRate)
class VatRateAdmin(admin.ModelAdmin):
    """Where two periods of a country overlap, the one that started last applies: enter a
    temporary rate with its end date and the previous one resumes after it."""

    form = VatRateForm
    list_display = ["country", "rate", "valid_from", "valid_to", "applies"]
    list_filter = ["country"]
    ordering = ["country", "-valid_from"]

    @admin.display(description="Charged on")
    def applies(self, rate):
        if str(rate.country) == settings.ARKIV_SHOP_COUNTRY:
            return "domestic sales"
        if str(rate.country) in vat.EU_COUNTRIES:
            return "EU distance sales (one-stop shop)"
        return "nothing: outside the EU, exports carry no VAT"


def _document_links(document):
    return format_html(
        '<a href="{}">PDF</a> · <a href="{}">printable page</a>',
        reverse("admin:orders_invoice_pdf", args=[document.pk]),
        reverse("admin:orders_invoice_page", args=[document.pk]),
    )


class InvoiceInline(ReadOnlyInline):
    model = Invoice
    fk_name = "order"
    fields = readonly_fields = ["number", "kind", "issued_at", "total", "total_vat", "download"]
    verbose_name_plural = "invoices and credit notes"

    @admin.display(description="Download")
    def download(self, document):
        return _document_links(document)


OrderAdmin.inlines = [*OrderAdmin.inlines, InvoiceInline]


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = readonly_fields = ["description", "quantity", "unit_price", "vat_rate", "vat_amount", "total"]


class ExportForm(forms.Form):
    report = forms.ChoiceField(choices=list(exports.REPORTS.items()))
    start = forms.DateField(label="First day", help_text="YYYY-MM-DD")
    end = forms.DateField(label="Last day", help_text="YYYY-MM-DD, included")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError("The last day comes before the first.")
        return data


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Issued documents, read only: they are written by capture and refunds, never by hand."""

    list_display = ["number", "kind", "issued_at", "order_link", "buyer_name", "destination_country", "total"]
    list_display += ["total_vat", "download"]
    list_filter = ["kind", ("issued_at", admin.DateFieldListFilter), "destination_country"]
    search_fields = ["number", "order__number", "buyer_name"]
    date_hierarchy = "issued_at"
    list_select_related = ["order"]
    inlines = [InvoiceLineInline]
    change_list_template = "admin/orders/invoice/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, document):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[document.order_id]), document.order
        )

    @admin.display(description="Download")
    def download(self, document):
        return _document_links(document)

    def get_urls(self):
        own = [
            path("exports/", self.admin_site.admin_view(self.exports_view), name="orders_invoice_exports"),
            path("<int:pk>/page/", self.admin_site.admin_view(self.page_view), name="orders_invoice_page"),
            path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="orders_invoice_pdf"),
        ]
        return own + super().get_urls()

    def _document(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Invoice.objects.select_related("order", "corrects"), pk=pk)

    def page_view(self, request, pk):
        return HttpResponse(invoices.document_html(self._document(request, pk)))

    def pdf_view(self, request, pk):
        document = self._document(request, pk)
        response = HttpResponse(invoices.document_pdf(document), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoices.document_filename(document, "pdf")}"'
        return response

    def exports_view(self, request):
        """The accountant's CSV for a period; the form again, with its errors, if it does not hold."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ExportForm(request.GET if "download" in request.GET else None)
        if form.is_valid():
            report, start, end = (form.cleaned_data[k] for k in ("report", "start", "end"))
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="arkiv-{report}-{start}-{end}.csv"'
            exports.write_csv(report, start, end, response)
            return response
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Exports for the accountant",
            "opts": self.model._meta,
        }
        return render(request, "admin/orders/invoice/exports.html", context, status=400 if form.errors else 200)


# -- discount vouchers ---------------------------------------------------------------------


class VoucherForm(forms.ModelForm):
    genres = forms.MultipleChoiceField(
        choices=Genre.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="Any of these."
    )
    formats = forms.MultipleChoiceField(
        choices=Format.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="Any of these."
    )
    code = forms.CharField(max_length=40, required=False, help_text=Voucher._meta.get_field("code").help_text)

    class Meta:
        model = Voucher
        fields = [
            "code",
            "description",
            "active",
            "kind",
            "value",
            "minimum_order",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_customer",
            "composers",
            "labels",
            "genres",
            "formats",
        ]

    def clean_code(self):
        code = vouchers.normalise_code(self.cleaned_data.get("code"))
        if not code:
            return vouchers.generate_code()
        if not all(c.isalnum() or c == "-" for c in code):
            raise forms.ValidationError("Use letters, digits and dashes only.")
        taken = Voucher.objects.filter(code=code).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"There is already a voucher {code}.")
        return code

    def clean(self):
        data = super().clean()
        if data.get("kind") == Voucher.Kind.PERCENTAGE and data.get("value") and data["value"] > 100:
            self.add_error("value", "A percentage cannot be more than 100.")
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] <= data["valid_from"]:
            self.add_error("valid_until", "The end must come after the start.")
        return data


class VoucherRedemptionInline(ReadOnlyInline):
    model = VoucherRedemption
    fields = readonly_fields = ["order", "email", "amount", "created_at", "released_at"]
    verbose_name_plural = "uses"


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    form = VoucherForm
    list_display = ["code", "description", "discount", "minimum_order", "valid_from", "valid_until", "uses", "active"]
    list_filter = ["active", "kind", ("valid_until", admin.DateFieldListFilter)]
    search_fields = ["code", "description"]
    autocomplete_fields = ["composers", "labels"]
    inlines = [VoucherRedemptionInline]

    def get_queryset(self, request):
        # Uses that count against the limit, for the list in one query.
        live = Q(redemptions__released_at__isnull=True)
        return super().get_queryset(request).annotate(live_uses=Count("redemptions", filter=live))

    @admin.display(description="Discount")
    def discount(self, voucher):
        return f"{voucher.value} %" if voucher.kind == Voucher.Kind.PERCENTAGE else f"{voucher.value} off"

    @admin.display(description="Uses / limit", ordering="live_uses")
    def uses(self, voucher):
        return f"{voucher.live_uses} / {voucher.max_uses if voucher.max_uses is not None else '∞'}"


# -- gift cards ---------------------------------------------------------------------------


class GiftCardEntryInline(ReadOnlyInline):
    model = GiftCardEntry
    fields = readonly_fields = ["at", "kind", "amount", "balance_after", "order"]
    verbose_name_plural = "ledger"


class ReplaceGiftCardForm(forms.Form):
    send_to = forms.EmailField(
        label="Send the new code to",
        help_text="The recipient's address; correct it here if the first email went to a wrong one.",
    )


@admin.register(GiftCard)
class GiftCardAdmin(SaveOnlyWhatCanChange, admin.ModelAdmin):
    """Cards are made by orders, never here; staff see the balance and its ledger, may
    disable a card, and may replace a lost code with a new one emailed to the recipient.
    The code is never shown: only a hash of it is kept."""

    list_display = ["__str__", "recipient", "initial_amount", "balance", "expires_at", "disabled", "issued_at"]
    list_filter = ["disabled", ("issued_at", admin.DateFieldListFilter)]
    # By the last four characters of the code, or by whom it was sent to.
    search_fields = ["last4", "purchase__recipient_email", "purchase__recipient_name", "purchase__order__number"]
    readonly_fields = [
        "last4",
        "recipient",
        "bought_with",
        "currency",
        "initial_amount",
        "balance",
        "issued_at",
        "expires_at",
        "lost_code",
    ]
    fields = [*readonly_fields, "disabled"]
    inlines = [GiftCardEntryInline]
    actions = ["disable"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("purchase__order", "replaces", "replacement")

    def get_urls(self):
        own = [
            path("<int:pk>/replace/", self.admin_site.admin_view(self.replace_view), name="orders_giftcard_replace"),
        ]
        return own + super().get_urls()

    @admin.display(description="Lost code")
    def lost_code(self, card):
        """What happened to the code, and the way to a new one while there is a balance."""
        replacement = getattr(card, "replacement", None)
        if replacement is not None:
            link = reverse("admin:orders_giftcard_change", args=[replacement.pk])
            return format_html('Replaced by <a href="{}">{}</a>', link, replacement)
        parts = []
        if card.replaces_id:
            link = reverse("admin:orders_giftcard_change", args=[card.replaces_id])
            parts.append(format_html('Replaces <a href="{}">{}</a>.', link, card.replaces))
        if not giftcards.replace_refusal(card):
            link = reverse("admin:orders_giftcard_replace", args=[card.pk])
            parts.append(format_html('<a href="{}">Replace the code and email a new one</a>', link))
        return format_html(" ".join(["{}"] * len(parts)), *parts) if parts else "—"

    def replace_view(self, request, pk):
        if not request.user.has_perm("orders.change_giftcard"):
            raise PermissionDenied
        card = get_object_or_404(GiftCard.objects.select_related("purchase__order"), pk=pk)
        back = redirect("admin:orders_giftcard_change", card.pk)
        problem = giftcards.replace_refusal(card)
        if problem:
            # A second click, or another member of staff, got there first.
            messages.error(request, problem)
            return back
        form = ReplaceGiftCardForm(request.POST or None, initial={"send_to": card.purchase.recipient_email})
        if request.method == "POST" and form.is_valid():
            try:
                new = giftcards.gift_card_replace(card, send_to=form.cleaned_data["send_to"])
            except giftcards.GiftCardRefused as exc:
                messages.error(request, str(exc))
                return back
            messages.success(
                request,
                f"{card} is disabled; its {new.balance} {new.currency} moved to {new}, "
                f"whose code is on its way to {new.purchase.recipient_email}.",
            )
            return redirect("admin:orders_giftcard_change", new.pk)
        context = {
            **self.admin_site.each_context(request),
            "card": card,
            "form": form,
            "title": f"Replace the code of {card}",
            "opts": self.model._meta,
        }
        return render(request, "admin/orders/giftcard/replace.html", context, status=400 if form.errors else 200)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Recipient")
    def recipient(self, card):
        return f"{card.purchase.recipient_name} <{card.purchase.recipient_email}>" if card.purchase else "—"

    @admin.display(description="Bought with")
    def bought_with(self, card):
        if not card.purchase:
            return "—"
        order = card.purchase.order
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order)

    @admin.action(description="Disable the selected gift cards (they can no longer be spent)")
    def disable(self, request, queryset):
        # One save per card, so the audit trail records who disabled each.
        cards = list(queryset.filter(disabled=False))
        for card in cards:
            card.disabled = True
            card.save(update_fields=["disabled"])
        messages.success(request, f"{len(cards)} gift card(s) disabled.")
