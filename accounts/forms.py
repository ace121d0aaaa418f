from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm, UserChangeForm
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from arkiv.addresses import normalise_email
from arkiv.validators import single_line
from privacy.services import PROMO_OPTIN_WORDING

from .models import Address, User

COUNTRIES = [
    ("AT", gettext_lazy("Austria")),
    ("BE", gettext_lazy("Belgium")),
    ("CH", gettext_lazy("Switzerland")),
    ("CZ", gettext_lazy("Czechia")),
    ("DE", gettext_lazy("Germany")),
    ("DK", gettext_lazy("Denmark")),
    ("ES", gettext_lazy("Spain")),
    ("FI", gettext_lazy("Finland")),
    ("FR", gettext_lazy("France")),
    ("GB", gettext_lazy("United Kingdom")),
    ("IE", gettext_lazy("Ireland")),
    ("IT", gettext_lazy("Italy")),
    ("LU", gettext_lazy("Luxembourg")),
    ("NL", gettext_lazy("Netherlands")),
    ("NO", gettext_lazy("Norway")),
    ("PL", gettext_lazy("Poland")),
    ("PT", gettext_lazy("Portugal")),
    ("SE", gettext_lazy("Sweden")),
    ("US", gettext_lazy("United States")),
]


class StaffUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class StaffUserChangeForm(UserChangeForm):
    full_name = forms.CharField(max_length=150, required=False, validators=[single_line])

    class Meta:
        model = User
        fields = ["email", "full_name", "language"]


class SignUpForm(BaseUserCreationForm):
    promo_email = forms.BooleanField(label=PROMO_OPTIN_WORDING, required=False)

    class Meta:
        model = User
        fields = ["email", "full_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}  # the page's error summary instead of browser bubbles
        self.helper.add_input(Submit("submit", _("Create account"), css_class="btn-dark"))
        self.fields["email"].label = _("Email address")
        self.fields["full_name"].label = _("Full name")
        self.fields["full_name"].validators.append(single_line)

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def _get_validation_exclusions(self):
        # A taken address is not an error here (neither the unique field nor the
        # case-insensitive constraint): saying so would tell anyone who has an account.
        # The sign-up service emails the owner instead.
        return {*super()._get_validation_exclusions(), "email"}


class SignInForm(AuthenticationForm):
    """Sign-in by email. Throttling is not the form's work: django-axes counts failed
    attempts per (email, client address) pair in the database, so every worker and
    restart shares the count, and a pair over the limit gets the cool-off page (see
    AXES_* settings), never a hint whether the password was right."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Email")
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}  # the page's error summary instead of browser bubbles
        self.helper.add_input(Submit("submit", _("Sign in"), css_class="btn-dark"))


class StaffAdminLoginForm(OTPAdminAuthenticationForm):
    """The admin's login: the password, then the code of the staff member's authenticator
    (enrolled with `manage.py enrol_staff_totp`). The only authenticator is used without
    asking which one."""

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Enter the six-digit code your authenticator app shows.",
        "invalid_token": "That code is not right. Enter the code your authenticator app shows now.",
    }
    no_device_message = (
        "This staff account has no authenticator yet. An administrator enrols one with "
        "manage.py enrol_staff_totp; until then the admin stays closed to it."
    )

    def confirm_login_allowed(self, user):
        try:
            super().confirm_login_allowed(user)
        except forms.ValidationError:
            # A customer's right password must look exactly like a wrong one: with the
            # user kept, the page would go on to ask for the second factor, telling
            # anyone guessing here that the password is right.
            self.user_cache = None
            raise

    def clean_otp(self, user):
        if user is not None and not any(devices_for_user(user, confirmed=True)):
            raise forms.ValidationError(self.no_device_message, code="no_device")
        super().clean_otp(user)

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("New email address"))
    password = forms.CharField(label=gettext_lazy("Current password"), widget=forms.PasswordInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Send confirmation link"), css_class="btn-dark"))

    def clean_password(self):
        if not self.user.check_password(self.cleaned_data["password"]):
            raise forms.ValidationError(_("That is not your current password."))
        return self.cleaned_data["password"]

    def clean_email(self):
        # Whether another account has it is not said here (see email_change_request).
        return normalise_email(self.cleaned_data["email"])


class AddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["name", "line1", "line2", "city", "postcode", "country", "phone", "is_default"]
        widgets = {"country": forms.Select(choices=COUNTRIES)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save address"), css_class="btn-dark"))
        labels = {
            "name": _("Full name"),
            "line1": _("Address"),
            "line2": _("Address line 2"),
            "city": _("Town or city"),
            "postcode": _("Postcode"),
            "country": _("Country"),
            "phone": _("Phone"),
            "is_default": _("Use by default"),
        }
        for name, label in labels.items():
            self.fields[name].label = label
        self.fields["name"].validators.append(single_line)


class NameForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save"), css_class="btn-dark"))
        self.fields["full_name"].label = _("Full name")
        self.fields["full_name"].validators.append(single_line)


class AccountPasswordResetForm(PasswordResetForm):
    """Django's reset form, its email written in the account's language (its link to the
    page in that language), whichever page asked for it."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with translation.override(context["user"].language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
