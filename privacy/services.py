"""The policy layer: consent (double opt-in for promotional email, opt-out for post),
the under-18 guardian rule, policy versions and suppression. Other apps call these;
this module imports no other app of the shop."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from arkiv.addresses import normalise_email
from arkiv.links import site_url
from arkiv.mail import templated_email

from . import sessions
from .models import (
    ERASED_MARK,
    AgeDeclaration,
    Alert,
    AlertDelivery,
    AlertDigest,
    CampaignDelivery,
    Consent,
    ConsentEvent,
    EmailLinkKey,
    OptOutRequest,
    PolicyDocument,
    Purpose,
    Source,
    Suppression,
    email_hash,
)

OPTIN_SALT = "privacy.confirm-optin"
PREFERENCES_SALT = "privacy.preferences"
OPTIN_MAX_AGE = 60 * 60 * 24 * 14

# Wording people agree to: lazy, so a form shows it (and the consent log records it) in
# the language of the page the person is on.
PROMO_OPTIN_WORDING = gettext_lazy("Send me offers by email. (We will email you a link to confirm.)")
POSTAL_OPTOUT_WORDING = gettext_lazy("Please do not send me offers by post.")
POSTAL_DEFAULT_WORDING = gettext_lazy(
    "We may post our own and our partners' offers to your address; we post them ourselves and partners never "
    "receive your details. To stop them, email service@ or change it in your account."
)
GUARDIAN_WORDING_VERSION = 1
GUARDIAN_STATEMENT = gettext_lazy(
    "I am the parent or legal guardian of the buyer. I accompany them in this purchase and I authorise it."
)


# -- policies (P9) --------------------------------------------------------------------


def current_policy(kind=PolicyDocument.Kind.PRIVACY):
    """The published version in force today, or None."""
    return (
        PolicyDocument.objects.filter(kind=kind, published_at__isnull=False, effective_date__lte=timezone.localdate())
        .order_by("-version")
        .first()
    )


def current_policy_version():
    policy = current_policy()
    return policy.version if policy else None


def policy_in_language(document, language):
    """(title, body, language shown) of a policy version for a page in `language`: the
    version's own translation, or its English text when it has none."""
    return document.in_language(language)


def policy_publish(document):
    """Publish a draft version; published versions are never changed."""
    if document.is_published:
        raise ValueError(f"{document} is already published and cannot change.")
    document.published_at = timezone.now()
    document.save(update_fields=["published_at"])
    return document


# -- consent (P3, P4) -----------------------------------------------------------------


@transaction.atomic
def consent_record(*, email, purpose, action, source, wording, user=None, reference="", by=None, language=None):
    """Append to the consent log and bring the current state in step with it. The
    wording is logged as the person saw it (in the page's language); `language`, given
    when the person acts on a page, becomes the language their emails for this purpose
    are written in."""
    email = normalise_email(email)
    event = ConsentEvent.objects.create(
        email=email,
        user=user,
        purpose=purpose,
        action=action,
        source=source,
        wording=str(wording),
        policy_version=current_policy_version(),
        reference=reference[:200],
        by=by,
    )
    state, _ = Consent.objects.select_for_update().get_or_create(email=email, purpose=purpose)
    if action == ConsentEvent.Action.REQUESTED:
        state.pending_confirmation = not state.granted
    elif action == ConsentEvent.Action.GRANTED:
        state.granted, state.pending_confirmation = True, False
    else:
        state.granted, state.pending_confirmation = False, False
    if language:
        state.language = language
    state.save()
    return event


# -- the language of emails -----------------------------------------------------------


def _shop_language(language):
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def email_languages(emails, purpose=None):
    """{address: language its emails are written in}, from stored records, never from the
    language active where the email is sent: the account's language (an account that
    proved the address), else the language the address asked for `purpose` in, else the
    one it last chose anything in, else the shop's default. Two queries, however many
    addresses."""
    from . import providers

    emails = {normalise_email(e) for e in emails if e}
    latest, for_purpose = {}, {}
    states = Consent.objects.filter(email__in=emails).exclude(language="").order_by("updated_at", "pk")
    for email, state_purpose, language in states.values_list("email", "purpose", "language"):
        latest[email] = language
        if state_purpose == purpose:
            for_purpose[email] = language
    languages = {e: for_purpose.get(e, latest.get(e)) for e in emails}
    languages.update(providers.languages(emails))
    return {e: _shop_language(languages[e]) for e in emails}


def email_language(email, purpose=None):
    """The language emails to one address are written in (see email_languages)."""
    return email_languages([email], purpose)[normalise_email(email)]


def in_language(language):
    """Render an email in its recipient's language: links reversed inside it point at
    that language's pages (/de/...)."""
    return translation.override(_shop_language(language))


def consent_granted(email, purpose):
    return Consent.objects.filter(email=normalise_email(email), purpose=purpose, granted=True).exists()


ALERTS_OPTIN_SALT = "privacy.confirm-alerts"
ALERTS_OPTIN_WORDING = gettext_lazy(
    "Email me the alerts I ask for (new recordings, performers, back in stock). (We will email you a link to confirm.)"
)


NO_MORE_WORDING = {
    Purpose.PROMO_EMAIL: gettext_lazy("No more offers by email."),
    Purpose.POSTAL: gettext_lazy("No more offers by post."),
    Purpose.ALERTS: gettext_lazy("No more alerts by email."),
}


@dataclass(frozen=True)
class _DoubleOptIn:
    salt: str
    link: str
    wording: object  # lazy: the page's language
    subject: object
    template: str


# Purposes that count only once their emailed confirmation link's button is pressed.
DOUBLE_OPT_IN = {
    Purpose.PROMO_EMAIL: _DoubleOptIn(
        OPTIN_SALT,
        "privacy:confirm_optin",
        PROMO_OPTIN_WORDING,
        gettext_lazy("Please confirm: offers from Arkiv by email"),
        "privacy/email/confirm_optin.txt",
    ),
    Purpose.ALERTS: _DoubleOptIn(
        ALERTS_OPTIN_SALT,
        "privacy:confirm_alerts",
        ALERTS_OPTIN_WORDING,
        gettext_lazy("Please confirm: alerts from Arkiv by email"),
        "privacy/email/confirm_alerts.txt",
    ),
}


def promo_optin_request(*, email, source, user=None, reference="", language=None):
    """A ticked 'offers by email' box: log the request and email a confirmation link.
    Nothing counts until the link is followed (double opt-in). The email advertises nothing."""
    return optin_request(
        email=email, purpose=Purpose.PROMO_EMAIL, source=source, user=user, reference=reference, language=language
    )


def optin_request(*, email, purpose, source, user=None, reference="", language=None):
    """Ask for a double opt-in purpose (offers or alerts by email): log the request and
    email a confirmation link, at most one while one waits (OPTIN_CONFIRMATION_RESEND_HOURS).
    Nothing counts until the link's button is pressed; minors and suppressed addresses
    get nothing. The email advertises nothing. `language` is that of the page the box
    was ticked on (by default the one active for the request): it is stored with the
    request, and the confirmation is written in it."""
    kind = DOUBLE_OPT_IN[purpose]
    email = normalise_email(email)
    language = _shop_language(language or translation.get_language())
    if consent_granted(email, purpose) or is_minor(email) or is_suppressed(email):
        return None
    link_waiting = _optin_link_sent_lately(email, purpose)
    event = consent_record(
        email=email,
        purpose=purpose,
        action=ConsentEvent.Action.REQUESTED,
        source=source,
        wording=kind.wording,
        user=user,
        reference=reference,
        language=language,
    )
    if link_waiting:
        # The box is on forms anyone may send for any address (checkout): the link already
        # in the inbox still works, and a stranger's inbox is not flooded with more.
        return event
    token = signing.TimestampSigner(salt=kind.salt).sign(f"{_link_key(email)}.{event.pk}")
    with in_language(email_language(email, purpose)):
        link = site_url(kind.link, token)
        message = templated_email(str(kind.subject), kind.template, {"link": link}, email)
    message.send()
    return event


def _optin_link_sent_lately(email, purpose=Purpose.PROMO_EMAIL):
    """Whether a confirmation link for the address is waiting, sent within
    OPTIN_CONFIRMATION_RESEND_HOURS."""
    since = timezone.now() - timedelta(hours=settings.OPTIN_CONFIRMATION_RESEND_HOURS)
    waiting = Consent.objects.filter(email=email, purpose=purpose, pending_confirmation=True)
    asked = ConsentEvent.objects.filter(
        email=email, purpose=purpose, action=ConsentEvent.Action.REQUESTED, at__gte=since
    )
    return waiting.exists() and asked.exists()


def promo_optin_pending(*, token):
    return optin_pending(token=token, purpose=Purpose.PROMO_EMAIL)


def optin_pending(*, token, purpose):
    """The address a confirmation link would opt in, or None for a bad, stale, revoked
    or already-withdrawn link. Changes nothing (a GET of the link calls only this)."""
    try:
        value = signing.TimestampSigner(salt=DOUBLE_OPT_IN[purpose].salt).unsign(token, max_age=OPTIN_MAX_AGE)
        key, request_id = value.rsplit(".", 1)
    except (signing.BadSignature, ValueError):
        return None
    email = _email_for_key(key)
    if email is None or is_minor(email) or is_suppressed(email):
        return None
    state = Consent.objects.filter(email=email, purpose=purpose).first()
    if state is None or not (state.pending_confirmation or state.granted):
        return None  # withdrawn since the link was sent: a stale link does not undo that
    return email, request_id


def promo_optin_confirm(*, token):
    return optin_confirm(token=token, purpose=Purpose.PROMO_EMAIL)


@transaction.atomic
def optin_confirm(*, token, purpose):
    """Confirm by the link's button (a POST): the opt-in counts from now. Returns the
    address or None."""
    found = optin_pending(token=token, purpose=purpose)
    if found is None:
        return None
    email, request_id = found
    if not consent_granted(email, purpose):
        consent_record(
            email=email,
            purpose=purpose,
            action=ConsentEvent.Action.GRANTED,
            source=Source.CONFIRMATION_LINK,
            wording=DOUBLE_OPT_IN[purpose].wording,
            reference=f"request {request_id}",
            language=translation.get_language(),
        )
    return email


@transaction.atomic
def consent_withdraw(*, email, purpose, source, wording, user=None, reference="", by=None):
    """Stop a purpose for an address (idempotent: withdrawing twice logs once, also when
    two staff act at once: the current state is read under its row lock)."""
    state = Consent.objects.select_for_update().filter(email=normalise_email(email), purpose=purpose).first()
    if state is not None and not state.granted and not state.pending_confirmation:
        return None
    return consent_record(
        email=email,
        purpose=purpose,
        action=ConsentEvent.Action.WITHDRAWN,
        source=source,
        wording=wording,
        user=user,
        reference=reference,
        by=by,
    )


def offer_choices_set(*, email, wanted, source, user=None):
    """Apply a customer's ticked boxes: stop what is unticked; start postal at once and
    email only after its confirmation link (double opt-in). The log keeps the wording in
    the language of the page the boxes were on."""
    for purpose in Purpose.values:
        if purpose not in wanted:
            consent_withdraw(
                email=email,
                purpose=purpose,
                source=source,
                user=user,
                wording=NO_MORE_WORDING[purpose],
            )
        elif consent_granted(email, purpose):
            continue
        elif purpose in DOUBLE_OPT_IN:
            optin_request(email=email, purpose=purpose, source=source, user=user)
        else:
            consent_record(
                email=email,
                purpose=purpose,
                action=ConsentEvent.Action.GRANTED,
                source=source,
                wording=gettext_lazy("Yes, send me offers by post."),
                user=user,
                language=translation.get_language(),
            )


def _link_key(email):
    key, _ = EmailLinkKey.objects.get_or_create(email=normalise_email(email))
    return key.key


def _email_for_key(key):
    return EmailLinkKey.objects.filter(key=key).values_list("email", flat=True).first()


def preferences_token(email):
    """A token for the no-login preferences and unsubscribe pages: a random key for the
    address, signed. It tells nothing about the address and stops working once
    tokens_rotate() ran for it (erasure, a changed account address)."""
    return signing.Signer(salt=PREFERENCES_SALT).sign(_link_key(email))


def email_from_preferences_token(token):
    try:
        key = signing.Signer(salt=PREFERENCES_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return _email_for_key(key)


def promo_unsubscribe_legacy(*, token):
    """Offer emails sent before links carried a key put the address itself, signed, in
    their unsubscribe link. Such a link may still stop offers that are on (so mail
    already in inboxes keeps its one-click unsubscribe), and does nothing else: it never
    starts offers, shows nothing, and never writes an erased address back. Returns
    whether the token was one of those links."""
    try:
        email = normalise_email(signing.loads(token, salt=PREFERENCES_SALT)["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return False
    active = Q(granted=True) | Q(pending_confirmation=True)
    if email and Consent.objects.filter(active, email=email, purpose=Purpose.PROMO_EMAIL).exists():
        consent_withdraw(
            email=email, purpose=Purpose.PROMO_EMAIL, source=Source.UNSUBSCRIBE, wording="Unsubscribe (one click)"
        )
    return True


def tokens_rotate(email):
    """Revoke every emailed link for an address (preferences, unsubscribe, offers
    confirmation): call it when an account's address changes, for the old address.
    Erasure calls it too. The next email sent gets a new key."""
    EmailLinkKey.objects.filter(email=normalise_email(email)).delete()


# -- minors (P8) ----------------------------------------------------------------------


@dataclass
class CheckoutStatement:
    """What the buyer said at checkout about age, guardian and offers."""

    is_adult: bool
    guardian_name: str = ""
    guardian_email: str = ""
    promo_email: bool = False
    no_postal: bool = False


def is_minor(email):
    return AgeDeclaration.objects.filter(email=normalise_email(email), is_adult=False).exists()


def is_suppressed(email):
    return Suppression.objects.filter(email_hash=email_hash(email)).exists()


def checkout_record(*, order_number, email, statement, user=None):
    """Record the age statement with the order and the offer choices made at checkout.
    An under-18 buyer gets no offers of any kind, whatever was ticked."""
    email = normalise_email(email)
    AgeDeclaration.objects.create(
        order_number=order_number,
        email=email,
        is_adult=statement.is_adult,
        guardian_name="" if statement.is_adult else statement.guardian_name,
        guardian_email="" if statement.is_adult else normalise_email(statement.guardian_email),
        statement="" if statement.is_adult else GUARDIAN_STATEMENT,
        wording_version=GUARDIAN_WORDING_VERSION,
        policy_version=current_policy_version(),
    )
    if not statement.is_adult:
        for purpose in Purpose.values:
            consent_withdraw(
                email=email,
                purpose=purpose,
                source=Source.CHECKOUT,
                user=user,
                reference=order_number,
                wording="Buyer under 18: no offers of any kind.",
            )
        return
    if statement.no_postal:
        consent_withdraw(
            email=email,
            purpose=Purpose.POSTAL,
            source=Source.CHECKOUT,
            wording=POSTAL_OPTOUT_WORDING,
            user=user,
            reference=order_number,
        )
    elif not Consent.objects.filter(email=email, purpose=Purpose.POSTAL).exists():
        # The policy's opt-out model: postal offers start with the first order's address.
        consent_record(
            email=email,
            purpose=Purpose.POSTAL,
            action=ConsentEvent.Action.GRANTED,
            source=Source.DEFAULT,
            wording=POSTAL_DEFAULT_WORDING,
            user=user,
            reference=order_number,
            language=translation.get_language(),
        )
    if statement.promo_email:
        promo_optin_request(email=email, source=Source.CHECKOUT, user=user, reference=order_number)


def guardian_email_for(order_number):
    """The accompanying guardian's address for an under-18 buyer's order, or ''."""
    return (
        AgeDeclaration.objects.filter(order_number=order_number, is_adult=False)
        .values_list("guardian_email", flat=True)
        .first()
        or ""
    )


# -- data rights ----------------------------------------------------------------------

# Consent wording written by the customer (a service@ message) or by staff on their
# behalf: it may hold names and words, so erasure blanks it.
_CUSTOMER_WORDS = [Source.SERVICE_EMAIL, Source.STAFF]


class ErasureRefused(Exception):
    """The account cannot be erased yet; .reasons says why, in the customer's words."""

    def __init__(self, reasons):
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


def proven_email(user):
    """The account's address if the account has proven it, else None. Only a proven
    address lets an account see or control what is matched by address."""
    if not getattr(user, "email_is_proven", False):
        return None
    return normalise_email(user.email) or None


def _consent_events_of(email, user):
    own = Q(user=user) if user is not None and user.pk else Q(pk__in=[])
    return ConsentEvent.objects.filter(own | Q(email=email) if email else own)


def personal_data_export(*, user):
    """Everything the shop holds about a customer, as data they can download: what is
    matched by address only when the account has proven that address, and always what
    the account itself did while signed in."""
    from . import providers

    email = proven_email(user)
    data = providers.personal_data(email, user)
    data["consent_log"] = [
        {
            "at": e.at.isoformat(),
            "email": e.email,
            "purpose": e.get_purpose_display(),
            "action": e.action,
            "source": e.get_source_display(),
            "wording": e.wording,
            "policy_version": e.policy_version,
            "reference": e.reference,
        }
        for e in _consent_events_of(email, user)
    ]
    data["current_choices"] = (
        {c.get_purpose_display(): c.granted for c in Consent.objects.filter(email=email)} if email else {}
    )
    order_numbers = [o["number"] for o in data.get("orders", [])]
    ages = AgeDeclaration.objects.filter(
        Q(order_number__in=order_numbers) | (Q(email=email) if email else Q(pk__in=[]))
    )
    data["age_statements"] = [
        {
            "order": a.order_number,
            "adult": a.is_adult,
            "guardian": a.guardian_name,
            "guardian_email": a.guardian_email,
            "statement": a.statement,
            "at": a.declared_at.isoformat(),
        }
        for a in ages
    ]
    data["opt_out_requests"] = [
        {
            "received": r.received_at.isoformat(),
            "from": r.sender,
            "subject": r.subject,
            "text": r.body,
            "original_message": r.raw,
            "state": r.get_state_display(),
            "what_we_did": r.reason,
        }
        for r in (OptOutRequest.objects.filter(sender=email) if email else [])
    ]
    data["campaigns_received"] = [
        {"sent": d.sent_at.isoformat(), "to": d.email, "subject": d.campaign.subject, "text": d.campaign.body_text}
        for d in (CampaignDelivery.objects.filter(email=email).select_related("campaign") if email else [])
    ]
    mine = Q(user=user) if user is not None and user.pk else Q(pk__in=[])
    data["alerts"] = [
        {"made": a.created_at.isoformat(), "email": a.email, "kind": a.get_kind_display(), "about": str(a.target)}
        for a in Alert.objects.filter(mine | Q(email=email) if email else mine).select_related(
            "work__composer", "artist", "offer__release"
        )
    ]
    data["alert_emails_received"] = [
        {"day": d.day.isoformat(), "to": d.email, "items": d.items}
        for d in (AlertDigest.objects.filter(email=email) if email else [])
    ]
    return data


def erasure_blockers(*, user):
    """Why the account cannot be erased now (orders still in progress), or []."""
    from . import providers

    return providers.blocking_erasure(proven_email(user), user)


@transaction.atomic
def account_erase(*, user):
    """Delete an account: personal data erased or pseudonymised everywhere, orders kept
    with what tax law needs until their retention date, every session of the account
    ended, emailed links revoked, and a hashed suppression entry so the address is never
    mailed again. Refused (ErasureRefused) while an order is still in progress. What is
    matched by address is erased only when the account proved the address."""
    from . import providers

    reasons = erasure_blockers(user=user)
    if reasons:
        raise ErasureRefused(reasons)
    email = proven_email(user)
    if email:
        for purpose in Purpose.values:
            consent_withdraw(email=email, purpose=purpose, source=Source.ERASURE, wording="Account deleted", user=user)
        hashed = email_hash(email)
        Suppression.objects.get_or_create(email_hash=hashed, defaults={"reason": "account deleted"})
        # The log keeps its entries; the address in them becomes its hash.
        ConsentEvent.objects.filter(email=email).pseudonymise(email=hashed, user=None)
        ConsentEvent.objects.filter(email=hashed, source__in=_CUSTOMER_WORDS).exclude(wording="").pseudonymise(
            wording=""
        )
        Consent.objects.filter(email=email).delete()
        AgeDeclaration.objects.filter(email=email).pseudonymise(
            email=hashed, guardian_name=ERASED_MARK, guardian_email=ERASED_MARK
        )
        OptOutRequest.objects.filter(sender=email).update(sender=hashed, subject="", raw="", body="")
        CampaignDelivery.objects.filter(email=email).delete()
        Alert.objects.filter(email=email).delete()
        AlertDelivery.objects.filter(email=email).delete()
        AlertDigest.objects.filter(email=email).delete()
        tokens_rotate(email)
    # What the account did while signed in, whatever address it used, loses its link.
    ConsentEvent.objects.filter(user=user).pseudonymise(user=None)
    Alert.objects.filter(user=user).delete()
    providers.erase(email, user)
    sessions.sessions_end_for(user.pk)
