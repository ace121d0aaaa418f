from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arkiv.addresses import normalise_email
from arkiv.validators import single_line

from . import services

AGE_CHOICES = [("adult", gettext_lazy("I am 18 or over")), ("minor", gettext_lazy("I am under 18"))]
GUARDIAN_FIELDS = ["guardian_name", "guardian_email", "guardian_confirms"]
MINOR_NEEDS_GUARDIAN = gettext_lazy(
    "Under-18s can order only with a parent or legal guardian: give their name and email, and have them "
    "confirm the statement."
)


def checkout_fields():
    """The age statement and the offer choices that checkout asks for. The age question
    has no default answer, so nothing hints at which one lets the order through."""
    return {
        "age": forms.ChoiceField(label=gettext_lazy("Your age"), choices=AGE_CHOICES, widget=forms.RadioSelect),
        "guardian_name": forms.CharField(
            label=gettext_lazy("Parent or guardian's full name"),
            max_length=150,
            required=False,
            validators=[single_line],
        ),
        "guardian_email": forms.EmailField(
            label=gettext_lazy("Parent or guardian's email"),
            required=False,
            help_text=gettext_lazy("They receive a copy of the order confirmation."),
        ),
        "guardian_confirms": forms.BooleanField(label=services.GUARDIAN_STATEMENT, required=False),
        "promo_email": forms.BooleanField(label=services.PROMO_OPTIN_WORDING, required=False),
        "no_postal": forms.BooleanField(
            label=services.POSTAL_OPTOUT_WORDING, required=False, help_text=services.POSTAL_DEFAULT_WORDING
        ),
    }


def validate_checkout_statement(form, data):
    """The under-18 rule: a minor's order needs a guardian who confirms the statement."""
    if data.get("age") != "minor":
        return
    if not data.get("guardian_name"):
        form.add_error("guardian_name", _("Needed for a buyer under 18."))
    email = normalise_email(data.get("guardian_email"))
    if not email:
        form.add_error("guardian_email", _("Needed for a buyer under 18."))
    elif email == normalise_email(data.get("email")):
        form.add_error("guardian_email", _("This must be the parent's or guardian's own address."))
    if not data.get("guardian_confirms"):
        form.add_error("guardian_confirms", _("The parent or guardian must confirm this."))
    if any(form.has_error(name) for name in GUARDIAN_FIELDS):
        form.add_error(None, str(MINOR_NEEDS_GUARDIAN))


def statement_from(data):
    adult = data.get("age") == "adult"
    return services.CheckoutStatement(
        is_adult=adult,
        guardian_name="" if adult else data.get("guardian_name", ""),
        guardian_email="" if adult else data.get("guardian_email", ""),
        promo_email=bool(data.get("promo_email")),
        no_postal=bool(data.get("no_postal")),
    )


class ContactForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=150, validators=[single_line]
    )  # goes into the subject
    email = forms.EmailField(
        label=gettext_lazy("Email"), help_text=gettext_lazy("So we can answer you; used for nothing else.")
    )
    message = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)


# -- alerts ---------------------------------------------------------------------------


class AlertForm(forms.Form):
    """The one form on catalog pages (the same for everyone, so pages stay shared): a
    signed-in customer may leave the address empty to use the account's own."""

    kind = forms.ChoiceField(choices=[("work", "work"), ("performer", "performer"), ("stock", "stock")])
    target = forms.IntegerField(min_value=1)
    email = forms.EmailField(required=False, max_length=254)
