"""Sign-up, sign-in and out, email and password changes, and the address book."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_POST

from arkiv.limits import limited, user_key
from privacy import services as privacy

from . import services
from .forms import AddressForm, EmailChangeForm, NameForm, SignUpForm, ThrottledLoginForm

ACCOUNT_NAME_KEY = "account_name"


@receiver(user_logged_in, dispatch_uid="accounts-header-name")
def _remember_name(sender, request, user, **kwargs):
    # The header shows this without loading the user on every page.
    request.session[ACCOUNT_NAME_KEY] = user.get_short_name()


@require_http_methods(["GET", "POST"])
@limited("sign_up")
def sign_up(request):
    """Create an account; a link proves the email address (and brings guest orders)."""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data.get("full_name", ""),
        )
        if form.cleaned_data.get("promo_email"):
            privacy.promo_optin_request(email=user.email, source=privacy.Source.SIGN_UP, user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Arkiv. We sent a link to {user.email} to confirm your address.")
        return redirect("accounts:overview")
    return render(request, "accounts/sign_up.html", {"form": form})


@method_decorator(limited("sign_in"), name="dispatch")
class SignInView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True


@require_POST
def sign_out(request):
    """Sign out; the cart stays with the browser (nothing else of the session does)."""
    kept = {key: request.session[key] for key in settings.SESSION_KEYS_KEPT_ON_SIGN_OUT if key in request.session}
    logout(request)
    request.session.update(kept)
    messages.info(request, "You are signed out.")
    return redirect("catalog:home")


def verify_email(request, token):
    """Apply an emailed verification link."""
    user = services.email_verify(token=token)
    if user is None:
        messages.error(request, "That link is not valid any more. Ask for a new one from your account page.")
    else:
        messages.success(request, f"{user.email} is confirmed. Orders you placed with it are in your account.")
    return redirect("accounts:overview" if request.user.is_authenticated else "accounts:sign_in")


@login_required
def overview(request):
    """The account page: addresses and sign-in details, with a way to the order history."""
    return render(request, "accounts/overview.html", {"addresses": list(request.user.addresses.all())})


@login_required
@require_POST
@limited("resend_verification", key=user_key)
def resend_verification(request):
    services.send_verification(user=request.user, email=request.user.email)
    messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    return redirect("accounts:overview")


@login_required
@require_http_methods(["GET", "POST"])
@limited("change_email", key=user_key)
def change_email(request):
    """Change the sign-in address: it changes only when the link sent to it is followed."""
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.send_verification(user=request.user, email=form.cleaned_data["email"])
        messages.success(
            request, f"We sent a link to {form.cleaned_data['email']}. Your address changes when you follow it."
        )
        return redirect("accounts:overview")
    return render(request, "accounts/form_page.html", {"form": form, "title": "Change your email address"})


@login_required
@require_http_methods(["GET", "POST"])
def change_name(request):
    """Correct the name on the account."""
    form = NameForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        request.session[ACCOUNT_NAME_KEY] = request.user.get_short_name()
        messages.success(request, "Your name is saved.")
        return redirect("accounts:overview")
    return render(request, "accounts/form_page.html", {"form": form, "title": "Your name"})


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, pk=None):
    """Add or change an address in the address book."""
    address = get_object_or_404(request.user.addresses, pk=pk) if pk else None
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.user = request.user
        saved.save()
        if saved.is_default:
            request.user.addresses.exclude(pk=saved.pk).update(is_default=False)
        messages.success(request, "Address saved.")
        return redirect("accounts:overview")
    return render(request, "accounts/form_page.html", {"form": form, "title": "Address" if pk else "New address"})


@login_required
@require_POST
def address_delete(request, pk):
    get_object_or_404(request.user.addresses, pk=pk).delete()
    messages.success(request, "Address removed.")
    return redirect("accounts:overview")


password_change = limited("change_password", key=user_key)(
    auth_views.PasswordChangeView.as_view(
        template_name="accounts/form_page.html",
        success_url=reverse_lazy("accounts:overview"),
        extra_context={"title": "Change your password"},
    )
)
