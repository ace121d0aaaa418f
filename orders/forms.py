from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from arkiv.addresses import normalise_email
from arkiv.validators import single_line
from privacy import forms as privacy_forms

from . import addresses
from .cart import MAX_QUANTITY
from .models import ShippingMethod

# In the order the form shows them; "region" is the state, province or prefecture of the
# countries whose addresses name one (the United States, Japan, ...).
ADDRESS_FIELDS = ["name", "line1", "line2", "city", "region", "postcode", "country"]


# The largest id a database row can have (a 64-bit integer): a larger one is no offer,
# and SQLite cannot even be asked about it.
MAX_ID = 2**63 - 1


class CartAddForm(forms.Form):
    offer = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


def cart_add_values(data):
    """The offer and quantity an "Add to cart" form sent, as CartAddForm cleans them, or
    None when the form refuses them. The product pages' buttons send plain digits, read
    here directly; anything else goes through the form (making one costs more than the
    rest of a refused add's view)."""
    offer, quantity = data.get("offer", ""), data.get("quantity", "")
    if offer.isascii() and offer.isdigit() and quantity.isascii() and quantity.isdigit():
        offer, quantity = int(offer), int(quantity)
        return (offer, quantity) if 1 <= offer <= MAX_ID and 1 <= quantity <= MAX_QUANTITY else None
    form = CartAddForm(data)
    return (form.cleaned_data["offer"], form.cleaned_data["quantity"]) if form.is_valid() else None


class CartUpdateForm(forms.Form):
    offer = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class VoucherForm(forms.Form):
    """A discount code typed into the cart; kept as the shop stores codes."""

    code = forms.CharField(
        label=_("Voucher code"),
        max_length=40,
        error_messages={"required": _("Enter a voucher code."), "max_length": _("That is not a voucher code.")},
    )

    def clean_code(self):
        from .vouchers import normalise_code

        return normalise_code(self.cleaned_data["code"])


# Each label names its address: a screen reader reads the label, not the legend, and the
# delivery fields must not sound like the billing ones. Whole labels, so each language
# words them its own way.
ADDRESS_LABELS = {
    "billing": {
        "name": _("Billing full name"),
        "line1": pgettext_lazy("street line of an address", "Billing address"),
        "line2": _("Billing address line 2"),
        "city": _("Billing town or city"),
        "region": _("Billing state, province or prefecture"),
        "postcode": _("Billing postcode"),
        "country": _("Billing country"),
    },
    "shipping": {
        "name": _("Delivery full name"),
        "line1": pgettext_lazy("street line of an address", "Delivery address"),
        "line2": _("Delivery address line 2"),
        "city": _("Delivery town or city"),
        "region": _("Delivery state, province or prefecture"),
        "postcode": _("Delivery postcode"),
        "country": _("Delivery country"),
    },
}


def _address_fields(prefix, required=True):
    label = ADDRESS_LABELS[prefix]
    return {
        f"{prefix}_name": forms.CharField(
            label=label["name"], max_length=150, required=required, validators=[single_line]
        ),
        f"{prefix}_line1": forms.CharField(label=label["line1"], max_length=200, required=required),
        f"{prefix}_line2": forms.CharField(label=label["line2"], max_length=200, required=False),
        f"{prefix}_city": forms.CharField(label=label["city"], max_length=100, required=required),
        f"{prefix}_region": forms.CharField(
            label=label["region"],
            max_length=100,
            required=False,
            help_text=_("Only where addresses in the country name one, e.g. a US state."),
        ),
        f"{prefix}_postcode": forms.CharField(label=label["postcode"], max_length=20, required=required),
        # Names in the reader's language, sorted; the ISO code is what is stored.
        f"{prefix}_country": forms.ChoiceField(
            label=label["country"],
            choices=addresses.country_choices,
            required=required,
            initial=settings.ARKIV_SHOP_COUNTRY,
        ),
    }


class CheckoutForm(forms.Form):
    """Exactly what an order needs (privacy promise P1): no card field, ever."""

    STALE_PAGE = _("This checkout page is out of date. Please check your details and submit again.")

    checkout_token = forms.UUIDField(widget=forms.HiddenInput)
    email = forms.EmailField(label=_("Your email address"), help_text=_("For order status emails only."))
    phone = forms.CharField(
        label=_("Your phone number"), max_length=30, help_text=_("Only used if a parcel cannot be delivered.")
    )
    same_address = forms.BooleanField(label=_("Ship to my billing address"), required=False, initial=True)
    shipping_method = forms.ChoiceField(
        label=_("Shipping method"),
        choices=ShippingMethod.choices,
        widget=forms.RadioSelect,
        initial=ShippingMethod.STANDARD,
    )

    def __init__(self, *args, shipping_labels=None, ships=True, **kwargs):
        super().__init__(*args, **kwargs)
        if shipping_labels:
            self.fields["shipping_method"].choices = shipping_labels
        # An order of gift cards alone ships nothing: no delivery address or method is
        # asked for (the billing address stands for both, as the invoice needs one).
        self.ships = ships
        if not ships:
            self.fields["shipping_method"].required = False
        self.helper = FormHelper()
        self.helper.form_id = "checkout-form"
        # The page's own error summary and messages, announced and linked to each field,
        # instead of the browser's bubbles, which show one problem at a time and vanish.
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "checkout_token",
            Fieldset(gettext("Contact"), "email", "phone"),
            Fieldset(gettext("Billing address"), *[f"billing_{f}" for f in ADDRESS_FIELDS]),
            *(
                [
                    Fieldset(
                        gettext("Delivery"),
                        "same_address",
                        Div(*[f"shipping_{f}" for f in ADDRESS_FIELDS], css_id="shipping-address"),
                    ),
                    "shipping_method",  # a radio group: its own fieldset and legend
                ]
                if ships
                else [
                    HTML(
                        format_html(
                            '<p id="email-delivery">{}</p>',
                            gettext("Gift cards come by email: there is nothing to ship."),
                        )
                    )
                ]
            ),
            Fieldset(gettext("About you"), "age", Div(*privacy_forms.GUARDIAN_FIELDS, css_id="guardian-fields")),
            Fieldset(gettext("Offers (optional)"), "promo_email", "no_postal"),
            Fieldset(gettext("Gift card (optional)"), "gift_card_code"),
            HTML(
                format_html(
                    '<p class="small text-muted">{}</p>',
                    gettext(
                        "Next you pay on our payment processor's secure page. Your card details never reach Arkiv."
                    ),
                )
            ),
            Submit("submit", gettext("Continue to payment"), css_class="btn-dark btn-lg"),
        )

    gift_card_code = forms.CharField(
        label=_("Gift card code"),
        max_length=40,
        required=False,
        help_text=_("It pays what its balance covers; the rest is paid by card."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_email(self):
        # Stored lower-case, so the customer is recognised however they type it next time.
        return normalise_email(self.cleaned_data["email"])

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        digits = sum(ch.isdigit() for ch in phone)
        if digits < 6 or any(ch not in "0123456789+-() ." for ch in phone):
            raise forms.ValidationError(gettext("Enter a phone number we can call, e.g. +44 20 7946 0000."))
        return phone

    def clean(self):
        data = super().clean()
        if self.has_error("checkout_token"):
            self.add_error(None, self.STALE_PAGE)
        privacy_forms.validate_checkout_statement(self, data)
        self._normalise_address("billing")
        if not self.ships:
            data["same_address"], data["shipping_method"] = True, ShippingMethod.STANDARD
        if not data.get("same_address"):
            for name in ADDRESS_FIELDS:
                if name not in ("line2", "region") and not data.get(f"shipping_{name}"):
                    self.add_error(f"shipping_{name}", gettext("Needed when shipping to another address."))
            self._normalise_address("shipping")
        return data

    def _normalise_address(self, prefix):
        """Check the address against its country's rules and keep it as the country writes
        it; each problem is shown on its own field."""
        names = [f"{prefix}_{name}" for name in ADDRESS_FIELDS]
        if any(name in self.errors for name in names):
            return  # the field's own message comes first
        address = {name: self.cleaned_data.get(f"{prefix}_{name}", "") for name in ADDRESS_FIELDS}
        try:
            clean = addresses.address_normalise(address)
        except addresses.InvalidAddress as exc:
            for name, message in exc.errors.items():
                self.add_error(f"{prefix}_{name}", message)
            return
        self.cleaned_data.update({f"{prefix}_{name}": value for name, value in clean.items()})

    def address(self, prefix):
        data = self.cleaned_data
        source = "billing" if prefix == "shipping" and data.get("same_address") else prefix
        return {name: data.get(f"{source}_{name}", "") for name in ADDRESS_FIELDS}


CheckoutForm.base_fields.update(
    _address_fields("billing") | _address_fields("shipping", required=False) | privacy_forms.checkout_fields()
)


class GiftCardBalanceForm(forms.Form):
    """A gift card code whose balance the holder wants to know."""

    code = forms.CharField(
        label=_("Gift card code"),
        max_length=40,
        error_messages={"required": _("Enter the code from your gift card email.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class GiftCardForm(forms.Form):
    """A gift card for the cart: one of the set amounts or one typed in, and whom it is for."""

    OTHER = "other"

    amount = forms.ChoiceField(label=_("Amount"), widget=forms.RadioSelect)
    other_amount = forms.DecimalField(
        label=_("Other amount"), required=False, max_digits=8, decimal_places=2, localize=True
    )
    recipient_name = forms.CharField(label=_("Recipient's name"), max_length=150, validators=[single_line])
    recipient_email = forms.EmailField(
        label=_("Recipient's email address"), help_text=_("The gift card code is sent there once you have paid.")
    )
    message = forms.CharField(
        label=_("Your message (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from catalog.templatetags.catalog_tags import money

        self.fields["amount"].choices = [(str(a), money(a)) for a in settings.GIFT_CARD_AMOUNTS] + [
            (self.OTHER, gettext("Another amount"))
        ]
        self.fields["other_amount"].help_text = gettext("Between %(min)s and %(max)s.") % {
            "min": money(settings.GIFT_CARD_MIN_AMOUNT),
            "max": money(settings.GIFT_CARD_MAX_AMOUNT),
        }
        self.helper = FormHelper()
        self.helper.form_id = "gift-card-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "amount",
            "other_amount",
            "recipient_name",
            "recipient_email",
            "message",
            Submit("submit", gettext("Add to cart"), css_class="btn-dark"),
        )

    def clean(self):
        data = super().clean()
        choice = data.get("amount")
        if choice == self.OTHER:
            amount = data.get("other_amount")
            if amount is None:
                self.add_error("other_amount", gettext("Enter the amount you would like to give."))
            elif not settings.GIFT_CARD_MIN_AMOUNT <= amount <= settings.GIFT_CARD_MAX_AMOUNT:
                self.add_error("other_amount", self.fields["other_amount"].help_text)
            else:
                data["value"] = amount.quantize(Decimal("0.01"))
        elif choice:
            data["value"] = Decimal(choice)
        return data
