"""Account rules: sign-up, proving an email address, throttling failed sign-ins."""

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import User
from .signals import email_verified

VERIFY_SALT = "accounts.verify-email"
VERIFY_MAX_AGE = 60 * 60 * 24 * 3
# Failed sign-ins allowed per address and per network address in the window.
FAILED_LOGIN_LIMITS = (5, 20)
FAILED_LOGIN_WINDOW = 15 * 60


def verification_link(*, user, email):
    token = signing.dumps({"user": user.pk, "email": email}, salt=VERIFY_SALT)
    return settings.ARKIV_SITE_URL.rstrip("/") + reverse("accounts:verify", args=[token])


def send_verification(*, user, email):
    """Email a link that proves the address belongs to the account holder."""
    body = render_to_string(
        "accounts/email/verify.txt", {"user": user, "link": verification_link(user=user, email=email)}
    )
    # Queued in the outbox within the caller's transaction; the worker delivers it.
    send_mail("Confirm your email address for Arkiv", body, None, [email])


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


def _throttle_keys(email, ip):
    return [f"login-fail:email:{(email or '').lower()}", f"login-fail:ip:{ip}"]


def login_throttled(*, email, ip):
    keys = _throttle_keys(email, ip)
    return any((cache.get(key) or 0) >= limit for key, limit in zip(keys, FAILED_LOGIN_LIMITS, strict=True))


def login_failed(*, email, ip):
    for key in _throttle_keys(email, ip):
        cache.add(key, 0, FAILED_LOGIN_WINDOW)
        cache.incr(key)


def login_succeeded(*, email, ip):
    cache.delete(_throttle_keys(email, ip)[0])
