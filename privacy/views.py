"""The shop's policy pages, consent confirmation, and the preference and unsubscribe
pages reachable from emails without signing in."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.mail import EmailMessage
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from arkiv.addresses import normalise_email
from arkiv.limits import limited, user_key

from . import alerts, services
from .forms import AlertForm, ContactForm
from .models import Alert, Consent, PolicyDocument, Purpose, Source


def _policy_page(request, kind, document):
    """A policy version in the page's language: its translation, or its English text
    with a note saying so when it has none."""
    archive = PolicyDocument.objects.filter(kind=kind, published_at__isnull=False).order_by("-version")
    context = {"document": document, "archive": list(archive), "current": services.current_policy(kind)}
    if document is not None:
        title, body, shown = services.policy_in_language(document, get_language())
        context |= {"title": title, "body": body, "shown_language": shown, "untranslated": shown != get_language()}
    return render(request, "privacy/policy.html", context)


@require_GET
def policy(request):
    """The privacy policy in force."""
    return _policy_page(request, PolicyDocument.Kind.PRIVACY, services.current_policy(PolicyDocument.Kind.PRIVACY))


@require_GET
def terms(request):
    """The terms of sale in force."""
    return _policy_page(request, PolicyDocument.Kind.TERMS, services.current_policy(PolicyDocument.Kind.TERMS))


@require_GET
def policy_version(request, kind, version):
    """An archived (or the current) published version."""
    if kind not in PolicyDocument.Kind.values:
        raise Http404("No such document.")
    document = get_object_or_404(PolicyDocument, kind=kind, version=version, published_at__isnull=False)
    return _policy_page(request, kind, document)


@require_http_methods(["GET", "POST"])
@limited("contact")
def contact(request):
    """How to reach the shop; questions sent here go to feedback@."""
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        EmailMessage(
            subject=f"Question from {data['name']}",  # for staff: not translated
            body=data["message"],
            to=[settings.ARKIV_FEEDBACK_EMAIL],
            reply_to=[data["email"]],
        ).send()
        messages.success(request, _("Thank you. We have your message and will answer by email."))
        return redirect("privacy:contact")
    return render(request, "privacy/contact.html", {"form": form})


@require_GET
def cookies(request):
    """Which cookies the shop sets, and why."""
    return render(request, "privacy/cookies.html")


@require_http_methods(["GET", "POST"])
def confirm_optin(request, token):
    """The double opt-in link. Following it (a GET, which mail scanners and link
    previews also make) shows a button; only pressing it (a POST) makes the opt-in count."""
    if request.method == "POST":
        email = services.promo_optin_confirm(token=token)
        return render(request, "privacy/optin_confirmed.html", {"email": email}, status=200 if email else 400)
    found = services.promo_optin_pending(token=token)
    if found is None:
        return render(request, "privacy/optin_confirmed.html", {"email": None}, status=400)
    return render(request, "privacy/optin_confirm.html", {"email": found[0]})


@require_http_methods(["GET", "POST"])
def preferences(request, token):
    """Change what offers an address receives, from a link in an email, no sign-in."""
    email = services.email_from_preferences_token(token)
    if email is None:
        return render(request, "privacy/link_invalid.html", status=400)
    if request.method == "POST":
        wanted = {p for p in Purpose.values if request.POST.get(p) == "on"}
        services.offer_choices_set(email=email, wanted=wanted, source=Source.PREFERENCES_LINK)
        return redirect("privacy:preferences", token=token)
    return render(
        request,
        "privacy/preferences.html",
        {
            "email": email,
            "token": token,
            "choices": [(p, services.consent_granted(email, p)) for p in Purpose],
            "minor": services.is_minor(email),
        },
    )


@require_http_methods(["GET", "POST"])
def confirm_alerts(request, token):
    """The alerts double opt-in link: a GET shows a button, only its POST confirms."""
    if request.method == "POST":
        email = services.optin_confirm(token=token, purpose=Purpose.ALERTS)
        return render(request, "privacy/alerts_confirmed.html", {"email": email}, status=200 if email else 400)
    found = services.optin_pending(token=token, purpose=Purpose.ALERTS)
    if found is None:
        return render(request, "privacy/alerts_confirmed.html", {"email": None}, status=400)
    return render(request, "privacy/alerts_confirm.html", {"email": found[0]})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def alerts_unsubscribe(request, token):
    """RFC 8058 one-click unsubscribe from alert emails (offers stay as they are)."""
    email = services.email_from_preferences_token(token)
    if email is None:
        return render(request, "privacy/link_invalid.html", status=400)
    if request.method == "POST":
        alerts.alerts_unsubscribe(email=email)
        return render(request, "privacy/alerts_unsubscribed.html", {"email": email, "token": token})
    return render(request, "privacy/alerts_unsubscribe.html", {"email": email, "token": token})


def _alert_target(kind, pk):
    from catalog.models import Artist, Offer, Work

    model = {Alert.Kind.WORK: Work, Alert.Kind.PERFORMER: Artist, Alert.Kind.BACK_IN_STOCK: Offer}[kind]
    target = model.objects.filter(pk=pk).first()
    if target is None:
        raise Http404("No such work, performer or offer.")
    return target


def _target_page(target):
    return target.release.get_absolute_url() if hasattr(target, "release") else target.get_absolute_url()


@require_http_methods(["POST"])
@limited("alert_subscribe")
def alert_subscribe(request):
    """The alert buttons on work, artist and release pages. Signed in with a proven
    address: one press. Otherwise the address given gets a confirmation email first
    (what we answer does not tell whether an address already confirmed)."""
    form = AlertForm(request.POST)
    if not form.is_valid():
        return render(request, "privacy/alert_invalid.html", {"form": form}, status=400)
    kind, email = form.cleaned_data["kind"], form.cleaned_data["email"]
    target = _alert_target(kind, form.cleaned_data["target"])
    own = services.proven_email(request.user) if request.user.is_authenticated else None
    if not email and not own:
        if request.user.is_authenticated:
            messages.error(request, _("Confirm your email address first: then you can have alerts with one press."))
        else:
            messages.error(request, _("Give your email address to receive this alert."))
        return redirect(_target_page(target))
    email = email or own
    mine = own is not None and normalise_email(email) == own
    try:
        alerts.alert_subscribe(
            email=email,
            kind=kind,
            target=target,
            user=request.user if mine else None,
            source=Source.ACCOUNT if mine else Source.SIGN_UP,
        )
    except alerts.AlertRefused as refused:
        if mine or kind == Alert.Kind.BACK_IN_STOCK:
            messages.error(request, str(refused))
            return redirect(_target_page(target))
    if mine and services.consent_granted(email, Purpose.ALERTS):
        messages.success(request, _("Alert saved. We will email you when there is news."))
    else:
        messages.success(
            request,
            _(
                "Thank you. Unless %(email)s already receives our alerts, we have emailed it a link to confirm: "
                "nothing is sent before that."
            )
            % {"email": email},
        )
    return redirect(_target_page(target))


@login_required
@require_GET
def account_alerts(request):
    """The account's alerts, each with a remove button."""
    email = services.proven_email(request.user)
    return render(
        request,
        "privacy/account_alerts.html",
        {
            "proven": email is not None,
            "alerts": list(alerts.alerts_of(email)) if email else [],
            "confirmed": bool(email) and services.consent_granted(email, Purpose.ALERTS),
        },
    )


@login_required
@require_http_methods(["POST"])
def account_alert_remove(request, alert_id):
    email = services.proven_email(request.user)
    if email and alerts.alert_remove(email=email, alert_id=alert_id):
        messages.success(request, _("Alert removed."))
    return redirect("privacy:account_alerts")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """RFC 8058 one-click unsubscribe: a POST stops promotional email at once, with no
    sign-in and no CSRF token (mail clients send it). A plain GET, which link scanners
    also make, only shows a button."""
    email = services.email_from_preferences_token(token)
    if email is None and request.method == "POST" and services.promo_unsubscribe_legacy(token=token):
        return render(request, "privacy/unsubscribed.html", {"email": "", "token": ""})
    if email is None:
        return render(request, "privacy/link_invalid.html", status=400)
    if request.method == "POST":
        services.consent_withdraw(
            email=email, purpose=Purpose.PROMO_EMAIL, source=Source.UNSUBSCRIBE, wording=_("Unsubscribe (one click)")
        )
        return render(request, "privacy/unsubscribed.html", {"email": email, "token": token})
    return render(request, "privacy/unsubscribe.html", {"email": email, "token": token})


@login_required
@require_http_methods(["GET", "POST"])
def account_privacy(request):
    """The account's privacy page: offer choices (once the address is proven), download
    my data, delete my account."""
    email = services.proven_email(request.user)
    if request.method == "POST":
        if email is None:
            messages.error(request, _("Confirm your email address first: then you can choose the offers it receives."))
            return redirect("privacy:account")
        wanted = {p for p in Purpose.values if request.POST.get(p) == "on"}
        services.offer_choices_set(email=email, wanted=wanted, source=Source.ACCOUNT, user=request.user)
        messages.success(request, _("Your choices are saved."))
        return redirect("privacy:account")
    context = {"proven": email is not None}
    if email is not None:
        context |= {
            "choices": [(p, services.consent_granted(email, p)) for p in Purpose],
            "pending": Consent.objects.filter(email=email, pending_confirmation=True).exists(),
            "minor": services.is_minor(email),
        }
    return render(request, "privacy/account.html", context)


@login_required
@require_GET
def download_data(request):
    """Everything the shop holds about the customer, as JSON."""
    data = services.personal_data_export(user=request.user)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = 'attachment; filename="arkiv-my-data.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
@limited("delete_account", key=user_key)
def delete_account(request):
    """Delete the account after the password is confirmed; refused, with the reasons,
    while an order is still in progress."""
    error = ""
    blockers = services.erasure_blockers(user=request.user)
    if request.method == "POST" and not blockers:
        if request.user.check_password(request.POST.get("password", "")):
            user = request.user
            try:
                services.account_erase(user=user)
            except services.ErasureRefused as refused:
                blockers = refused.reasons
            else:
                logout(request)
                messages.success(
                    request, _("Your account is deleted. We keep only what tax law requires for past orders.")
                )
                return redirect("catalog:home")
        else:
            error = _("That is not your password.")
    status = 200
    if request.method == "POST" and (error or blockers):
        status = 409 if blockers else 400
    return render(
        request,
        "privacy/delete_account.html",
        {"error": error, "blockers": blockers, "payment_minutes": settings.ORDER_PAYMENT_MINUTES},
        status=status,
    )
