"""Account rules: sign-up, proving an email address, throttling failed sign-ins."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arkiv.addresses import normalise_email
from arkiv.links import site_url
from arkiv.mail import templated_email
from privacy import services as privacy

from .models import User
from .tokens import email_link_token

MAX_SIGN_IN_COOL_OFF = timedelta(days=1)


class EmailLinkError(Exception):
    """An emailed link that cannot be used (any more); the message says what to do."""


LINK_NOT_VALID = gettext_lazy(
    "This link is not valid any more: it was used already, a newer link was sent, or the account "
    "changed since. Sign in and ask for a new link from your account page."
)


def verification_link(user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return site_url("accounts:verify", uid, email_link_token.make_token(user))


@transaction.atomic
def send_verification(*, user, email):
    """Email a link that proves `email` belongs to the account holder. Every earlier link
    of the account stops working."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.pending_email = normalise_email(email)
    user.email_link_nonce = secrets.token_hex(16)
    user.save(update_fields=["pending_email", "email_link_nonce"])
    # Queued in the outbox within this transaction; the task worker delivers it. Written
    # in the account's language, its link opening the page in that language.
    with translation.override(user.language):
        templated_email(
            _("Confirm your email address for Arkiv"),
            "accounts/email/verify.txt",
            {"user": user, "link": verification_link(user), "change": user.pending_email != user.email},
            user.pending_email,
        ).send()
    return user


@transaction.atomic
def account_language_set(*, user, language):
    """The language the account's emails are written in from now on (a shop language)."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return user
    user.language = language
    User.objects.filter(pk=user.pk).update(language=language)
    return user


def _tell_owner(*, email, template):
    # The address's owner chose a language with their account; a stranger typing it here
    # does not choose it for them.
    owner = User.objects.filter(email__iexact=email).only("language").first()
    with translation.override(owner.language if owner else settings.LANGUAGE_CODE):
        templated_email(
            _("Someone used your email address at Arkiv"),
            template,
            {"sign_in": site_url("accounts:sign_in"), "password_reset": site_url("accounts:password_reset")},
            email,
        ).send()


@transaction.atomic
def email_change_request(*, user, email):
    """Start changing the sign-in address; it changes when the link sent to it is used.
    The visible outcome is the same when another account has the address (its owner is
    told instead), so the form cannot be used to find out who has an account."""
    email = normalise_email(email)
    if not User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        return send_verification(user=user, email=email)
    # The account looks exactly as after a real request (the account page shows the
    # address waiting for confirmation), but no link exists that could prove it.
    user = User.objects.select_for_update().get(pk=user.pk)
    user.pending_email, user.email_link_nonce = email, secrets.token_hex(16)
    user.save(update_fields=["pending_email", "email_link_nonce"])
    _tell_owner(email=email, template="accounts/email/email_change_existing.txt")
    return user


@transaction.atomic
def user_sign_up(*, email, password, full_name="", language=None):
    """Create an unproven account and email the link that proves its address. Returns the
    new user, or None when the address already has an account: its owner gets an email
    instead, and the visitor sees the same "check your inbox" page either way. The
    account's emails are written in `language` (the sign-up page's)."""
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    email = normalise_email(email)
    if not User.objects.filter(email__iexact=email).exists():
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, full_name=full_name, language=language)
        except IntegrityError:  # the same address signed up a moment ago
            pass
        else:
            return send_verification(user=user, email=user.email)
    make_password(password)  # the same hashing work either way: no timing difference to read
    _tell_owner(email=email, template="accounts/email/sign_up_existing.txt")
    return None


def _user_from_uid(uidb64, *, lock=False):
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None
    users = User.objects.select_for_update() if lock else User.objects
    return users.filter(pk=pk, is_active=True).first()


def email_link_user(*, uidb64, token):
    """The account an emailed link is for, if the link still works; reads only (a GET)."""
    user = _user_from_uid(uidb64)
    return user if user is not None and email_link_token.check_token(user, token) else None


def email_prove(*, uidb64, token):
    """Use an emailed link (the page's button): the address it was sent to becomes the
    account's proven address. Returns (user, changed) where changed says the sign-in
    address changed; raises EmailLinkError for a used, superseded or stale link.
    Guest orders with the address are attached in a separate step."""
    with transaction.atomic():
        user = _user_from_uid(uidb64, lock=True)
        if user is None or not email_link_token.check_token(user, token):
            raise EmailLinkError(str(LINK_NOT_VALID))
        email, previous = user.pending_email, user.email
        changed = email != previous
        user.pending_email, user.email_link_nonce = "", secrets.token_hex(16)
        taken = User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
        if not taken:
            user.email, user.email_verified_at = email, timezone.now()
            try:
                with transaction.atomic():
                    user.save(update_fields=["email", "email_verified_at", "pending_email", "email_link_nonce"])
            except IntegrityError:
                taken = True
        if taken:
            # The link is used up either way: it must not start working later, should the
            # other account give the address up.
            user.refresh_from_db(fields=["email", "email_verified_at"])
            user.save(update_fields=["pending_email", "email_link_nonce"])
        elif changed:
            # Links to offers pages mailed to the old address stop working, and whoever
            # holds the old mailbox learns of the change and how to get the account back
            # if it was not them (someone who had their password).
            privacy.tokens_rotate(previous)
            with translation.override(user.language):
                templated_email(
                    _("Your Arkiv sign-in address was changed"),
                    "accounts/email/email_changed.txt",
                    {"new_email": email, "feedback_email": settings.ARKIV_FEEDBACK_EMAIL},
                    previous,
                ).send()
    if taken:
        raise EmailLinkError(_("This address now belongs to another account, so it cannot be added to this one."))
    return user, changed


@transaction.atomic
def password_reset_done(*, user):
    """A password reset link was followed: it went to the current address, so that address
    is proven now (and every older email link ends with the new password)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def sign_in_username(request, credentials):
    """The email a sign-in attempt is counted under: as the login compares it, case-blind."""
    return normalise_email((credentials or {}).get("username")) or None


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
