"""Account rules: sign-up, proving an email address, throttling failed sign-ins."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import User
from .signals import email_verified

VERIFY_SALT = "accounts.verify-email"
VERIFY_MAX_AGE = 60 * 60 * 24 * 3
MAX_SIGN_IN_COOL_OFF = timedelta(days=1)


def verification_link(*, user, email):
    token = signing.dumps({"user": user.pk, "email": email}, salt=VERIFY_SALT)
    return settings.ARKIV_SITE_URL.rstrip("/") + reverse("accounts:verify", args=[token])


def send_verification(*, user, email):
    """Email a link that proves the address belongs to the account holder."""
    body = render_to_string(
        "accounts/email/verify.txt", {"user": user, "link": verification_link(user=user, email=email)}
    )
    transaction.on_commit(lambda: send_mail("Confirm your email address for Arkiv", body, None, [email]))


@transaction.atomic
def email_verify(*, token):
    """Apply a verification link: set (or change to) the proven address and announce it.
    Returns the user, or None for a bad or stale link."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.select_for_update().filter(pk=data.get("user")).first()
    if user is None:
        return None
    email = data["email"].lower()
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        return None
    user.email, user.email_verified_at = email, timezone.now()
    user.save(update_fields=["email", "email_verified_at"])
    # Other apps attach what belongs to a proven address (orders: guest orders).
    email_verified.send(sender=User, user=user, email=email)
    return user


@transaction.atomic
def user_sign_up(*, email, password, full_name=""):
    user = User.objects.create_user(email=email, password=password, full_name=full_name)
    send_verification(user=user, email=user.email)
    return user


def sign_in_username(request, credentials):
    """The email a sign-in attempt is counted under: as the login compares it, case-blind."""
    return (credentials or {}).get("username", "").strip().lower() or None


def sign_in_cool_off(request):
    """How long failed sign-ins of one (email, client address) pair are remembered, and so
    how long the pair waits once it reached the limit: SIGN_IN_COOL_OFF_MINUTES, doubled
    for every further SIGN_IN_FAILURE_LIMIT failures (guesses during the wait count too),
    at most a day. Other addresses trying the same email are not affected."""
    from axes.models import AccessAttempt

    base = timedelta(minutes=settings.SIGN_IN_COOL_OFF_MINUTES)
    username = sign_in_username(request, getattr(request, "POST", None))
    ip = getattr(request, "axes_ip_address", None)
    if request is None or not username or not ip:
        return base
    failures = (
        AccessAttempt.objects.filter(username=username, ip_address=ip).aggregate(n=Max("failures_since_start"))["n"]
        or 0
    )
    rounds = failures // settings.SIGN_IN_FAILURE_LIMIT
    return min(base * 2 ** max(rounds - 1, 0), MAX_SIGN_IN_COOL_OFF)
