"""Sign-up, sign-in and out, email and password changes, and the address book."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from arkiv.limits import limited, post_email_key, user_key
from privacy import services as privacy

from . import services
from .forms import AddressForm, EmailChangeForm, NameForm, SignInForm, SignUpForm

ACCOUNT_NAME_KEY = "account_name"
# The account this browser created: only here does proving its address also sign in.
SIGNED_UP_KEY = "signed_up_account"


@receiver(user_logged_in, dispatch_uid="accounts-header-name")
def _remember_name(sender, request, user, **kwargs):
    # The header shows this without loading the user on every page.
    request.session[ACCOUNT_NAME_KEY] = user.get_short_name()


@require_http_methods(["GET", "POST"])
@limited("sign_up")
# Every sign-up mails the address (a link, or "someone used your address" to its owner):
# one inbox must not be flooded from many client addresses.
@limited("sign_up", key=post_email_key)
def sign_up(request):
    """Create an account. The answer is the same "check your inbox" page whether or not
    the address already has an account; the link in the email proves it, and signs in
    when followed in this browser."""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data.get("full_name", ""),
            language=get_language(),
        )
        if user is not None:
            request.session[SIGNED_UP_KEY] = user.pk
            if form.cleaned_data.get("promo_email"):
                privacy.promo_optin_request(email=user.email, source=privacy.Source.SIGN_UP, user=user)
        return redirect("accounts:sign_up_sent")
    return render(request, "accounts/sign_up.html", {"form": form})


@require_GET
def sign_up_sent(request):
    return render(request, "accounts/sign_up_sent.html")


@method_decorator(limited("sign_in"), name="dispatch")
class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        # Signing in on a page in one language asks for the account's emails in it.
        services.account_language_set(user=form.get_user(), language=get_language())
        return super().form_valid(form)


@require_POST
def sign_out(request):
    """Sign out; the cart stays with the browser (nothing else of the session does)."""
    kept = {key: request.session[key] for key in settings.SESSION_KEYS_KEPT_ON_SIGN_OUT if key in request.session}
    logout(request)
    request.session.update(kept)
    messages.info(request, _("You are signed out."))
    return redirect("catalog:home")


def _link_not_valid(request, reason=services.LINK_NOT_VALID):
    return render(request, "accounts/link_not_valid.html", {"reason": reason}, status=400)


@require_http_methods(["GET", "POST"])
def verify_email(request, uidb64, token):
    """An emailed link proving an address. Opening it (as mail scanners and link previews
    do) only shows a page; its button proves the address, and signs in a new account."""
    if request.method == "GET":
        user = services.email_link_user(uidb64=uidb64, token=token)
        if user is None:
            return _link_not_valid(request)
        return render(request, "accounts/verify.html", {"email": user.pending_email})
    try:
        user, changed = services.email_prove(uidb64=uidb64, token=token)
    except services.EmailLinkError as error:
        return _link_not_valid(request, str(error))
    if request.user.is_authenticated and request.user.pk != user.pk:
        messages.warning(
            request,
            _(
                "%(email)s is confirmed. You are signed in with another account: sign out and sign in "
                "as %(email)s to see its orders."
            )
            % {"email": user.email},
        )
        return redirect("accounts:overview")
    messages.success(request, _("%(email)s is confirmed.") % {"email": user.email})
    if not request.user.is_authenticated:
        if changed or request.session.get(SIGNED_UP_KEY) != user.pk:
            # The link proves the mailbox, not who holds this browser: someone could have
            # sent a victim the link of their own new account, to have the victim shop
            # signed in as them. Only the browser that signed up is signed in by it.
            messages.info(
                request, _("Sign in with your new address to continue.") if changed else _("Sign in to continue.")
            )
            return redirect(f"{reverse('accounts:sign_in')}?next={reverse('orders:attach_guest_orders')}")
        request.session.pop(SIGNED_UP_KEY, None)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("orders:attach_guest_orders")


@require_GET
def old_verify_link(request, token):
    """Links from before single-use links: they no longer work."""
    return _link_not_valid(request)


def _overview(request, status=200):
    return render(
        request,
        "accounts/overview.html",
        {
            "addresses": list(request.user.addresses.all()),
            "email_languages": [(code, settings.LANGUAGE_AUTONYMS[code]) for code, _name in settings.LANGUAGES],
        },
        status=status,
    )


@login_required
def overview(request):
    """The account page: addresses and sign-in details, with a way to the order history."""
    return _overview(request)


@login_required
@require_POST
def change_language(request):
    """Choose the language of the account's emails."""
    language = request.POST.get("language", "")
    if language not in settings.LANGUAGE_AUTONYMS:
        messages.error(request, _("Choose one of the languages in the list."))
        return _overview(request, status=400)
    services.account_language_set(user=request.user, language=language)
    messages.success(
        request,
        _("We will write to you in %(language)s.") % {"language": settings.LANGUAGE_AUTONYMS[language]},
    )
    return redirect("accounts:overview")


@login_required
@require_POST
@limited("resend_verification", key=user_key)
def resend_verification(request):
    if request.user.email_is_proven:
        messages.info(request, _("%(email)s is confirmed already.") % {"email": request.user.email})
        return redirect("accounts:overview")
    services.send_verification(user=request.user, email=request.user.email)
    messages.success(request, _("We sent a new confirmation link to %(email)s.") % {"email": request.user.email})
    return redirect("accounts:overview")


@login_required
@require_http_methods(["GET", "POST"])
@limited("change_email", key=user_key)
def change_email(request):
    """Change the sign-in address: it changes only when the link sent to it is followed."""
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.email_change_request(user=request.user, email=form.cleaned_data["email"])
        messages.success(
            request,
            _("We sent a link to %(email)s. Your address changes when you follow it.")
            % {"email": form.cleaned_data["email"]},
        )
        return redirect("accounts:overview")
    return render(request, "accounts/form_page.html", {"form": form, "title": _("Change your email address")})


@login_required
@require_http_methods(["GET", "POST"])
def change_name(request):
    """Correct the name on the account."""
    form = NameForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        request.session[ACCOUNT_NAME_KEY] = request.user.get_short_name()
        messages.success(request, _("Your name is saved."))
        return redirect("accounts:overview")
    return render(request, "accounts/form_page.html", {"form": form, "title": _("Your name")})


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
        messages.success(request, _("Address saved."))
        return redirect("accounts:overview")
    title = _("Address") if pk else _("New address")
    return render(request, "accounts/form_page.html", {"form": form, "title": title})


@login_required
@require_POST
def address_delete(request, pk):
    get_object_or_404(request.user.addresses, pk=pk).delete()
    messages.success(request, _("Address removed."))
    return redirect("accounts:overview")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the emailed link; the link also proves the address."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_reset_done(user=self.user)
        return response


password_change = limited("change_password", key=user_key)(
    auth_views.PasswordChangeView.as_view(
        template_name="accounts/form_page.html",
        success_url=reverse_lazy("accounts:overview"),
        extra_context={"title": gettext_lazy("Change your password")},
    )
)
