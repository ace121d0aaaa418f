from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, UserChangeForm

from arkiv.validators import single_line
from privacy.services import PROMO_OPTIN_WORDING

from . import services
from .models import Address, User

COUNTRIES = [
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("CH", "Switzerland"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("LU", "Luxembourg"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("SE", "Sweden"),
    ("US", "United States"),
]


class StaffUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class StaffUserChangeForm(UserChangeForm):
    full_name = forms.CharField(max_length=150, required=False, validators=[single_line])

    class Meta:
        model = User
        fields = ["email", "full_name"]


class SignUpForm(BaseUserCreationForm):
    promo_email = forms.BooleanField(label=PROMO_OPTIN_WORDING, required=False)

    class Meta:
        model = User
        fields = ["email", "full_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Create account", css_class="btn-dark"))
        self.fields["full_name"].validators.append(single_line)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists. Sign in or reset your password.")
        return email


class ThrottledLoginForm(AuthenticationForm):
    """Sign-in that stops guessing: after repeated failures for an address (or from one
    network address) it refuses for a while, without saying whether the password was right."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Wait 15 minutes or reset your password.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Sign in", css_class="btn-dark"))

    def clean(self):
        email = self.cleaned_data.get("username", "")
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if services.login_throttled(email=email, ip=ip):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            data = super().clean()
        except forms.ValidationError:
            services.login_failed(email=email, ip=ip)
            raise
        services.login_succeeded(email=email, ip=ip)
        return data


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="New email address")
    password = forms.CharField(label="Current password", widget=forms.PasswordInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Send confirmation link", css_class="btn-dark"))

    def clean_password(self):
        if not self.user.check_password(self.cleaned_data["password"]):
            raise forms.ValidationError("That is not your current password.")
        return self.cleaned_data["password"]

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError("Another account uses this address.")
        return email


class AddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["name", "line1", "line2", "city", "postcode", "country", "phone", "is_default"]
        widgets = {"country": forms.Select(choices=COUNTRIES)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save address", css_class="btn-dark"))
        self.fields["name"].validators.append(single_line)


class NameForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save", css_class="btn-dark"))
        self.fields["full_name"].validators.append(single_line)
