"""The policy layer's records: published policy versions, the append-only consent log
and the current state kept in step with it, age/guardian statements made with orders,
and suppression entries for erased customers."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy

from arkiv.addresses import normalise_email

# What erasure writes over a guardian's name and address (the database's check that an
# under-18 statement names a guardian still holds, and the trigger allows only this).
ERASED_MARK = "[erased]"


def email_hash(email):
    """A stable, non-reversible key for an address, so suppression survives erasure
    (and key rotation: it depends on nothing but the address)."""
    return hashlib.sha256(f"arkiv-suppression:{normalise_email(email)}".encode()).hexdigest()


class RecordIsFinal(ValueError):
    """A record that is a promise (a published policy, a consent log entry, an age
    statement) was about to change. The database refuses it too (see migration 0007_records_are_final)."""


class FinalOncePublishedQuerySet(models.QuerySet):
    """Bulk writes refuse to touch rows of a published version, like a single save does.
    A subclass names where the version's publication date is and what to say."""

    published_at = "published_at"
    refusal = ""

    def _refuse_published(self):
        if self.filter(**{f"{self.published_at}__isnull": False}).exists():
            raise RecordIsFinal(self.refusal)

    def update(self, **kwargs):
        self._refuse_published()
        return super().update(**kwargs)

    def delete(self):
        self._refuse_published()
        return super().delete()


class PolicyDocumentQuerySet(FinalOncePublishedQuerySet):
    refusal = "Published policy versions never change; publish a new version instead."


class PolicyDocument(models.Model):
    """A version of the privacy policy or the terms. Published versions never change:
    a change is a new version with its own number and effective date."""

    class Kind(models.TextChoices):
        PRIVACY = "privacy", "Privacy policy"
        TERMS = "terms", "Terms of sale"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Plain text; blank lines separate paragraphs, lines starting '- ' are list items."
    )
    effective_date = models.DateField()
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PolicyDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="privacy_policy_version_unique"),
            models.CheckConstraint(condition=Q(kind__in=["privacy", "terms"]), name="privacy_policy_kind_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"

    def save(self, *args, **kwargs):
        if self._stored_published():
            raise RecordIsFinal(f"{self} is published and cannot change; publish a new version instead.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("privacy:policy_version", kwargs={"kind": self.kind, "version": self.version})

    def delete(self, *args, **kwargs):
        if self._stored_published():
            raise RecordIsFinal(f"{self} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self):
        return self.published_at is not None

    def _stored_published(self):
        return self.pk is not None and PolicyDocument.objects.filter(pk=self.pk, published_at__isnull=False).exists()

    def in_language(self, language):
        """(title, body, language) of this version for a page in `language`: its
        translation when there is one, else the English text (language says which)."""
        if language != settings.LANGUAGE_CODE:
            translation = self.translations.filter(language=language).first()
            if translation is not None:
                return translation.title, translation.body, language
        return self.title, self.body, settings.LANGUAGE_CODE


def translation_languages():
    """The languages a policy version is translated into (every shop language but the
    one its own text is written in)."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class PolicyTranslationQuerySet(FinalOncePublishedQuerySet):
    published_at = "document__published_at"
    refusal = "The translations of a published policy version never change."


class PolicyTranslation(models.Model):
    """A policy version's text in another language. Written with the draft, final from
    the moment its version is published (as the version itself): what a customer read
    in German on the day they agreed stays what the version says in German."""

    document = models.ForeignKey(PolicyDocument, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=10, choices=translation_languages())
    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Plain text; blank lines separate paragraphs, lines starting '- ' are list items."
    )

    objects = PolicyTranslationQuerySet.as_manager()

    class Meta:
        ordering = ["document", "language"]
        constraints = [
            models.UniqueConstraint(fields=["document", "language"], name="privacy_policy_translation_unique"),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _ in translation_languages()]),
                name="privacy_policy_translation_language_valid",
            ),
        ]

    def __str__(self):
        return f"{self.document} ({self.language})"

    def save(self, *args, **kwargs):
        if self._published():
            raise RecordIsFinal(f"{self.document} is published: its translations cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._published():
            raise RecordIsFinal(f"{self.document} is published: its translations cannot be deleted.")
        return super().delete(*args, **kwargs)

    def _published(self):
        documents = PolicyDocument.objects.filter(published_at__isnull=False)
        if self.pk is not None and PolicyTranslation.objects.filter(pk=self.pk, document__in=documents).exists():
            return True
        return self.document_id is not None and documents.filter(pk=self.document_id).exists()


class Purpose(models.TextChoices):
    PROMO_EMAIL = "promo_email", gettext_lazy("Offers by email")
    POSTAL = "postal", gettext_lazy("Offers by post")
    ALERTS = "alerts", gettext_lazy("Alerts by email")


class Source(models.TextChoices):
    SIGN_UP = "sign_up", "Sign-up form"
    CHECKOUT = "checkout", "Checkout"
    ACCOUNT = "account", "Account preferences"
    PREFERENCES_LINK = "preferences_link", "Preferences link in an email"
    CONFIRMATION_LINK = "confirmation_link", "Confirmation link (double opt-in)"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe link or one-click"
    SERVICE_EMAIL = "service_email", "Email to service@"
    STAFF = "staff", "Staff, on the customer's request"
    DEFAULT = "default", "Policy default (postal opt-out model)"
    ERASURE = "erasure", "Account deleted"


class AppendOnlyQuerySet(models.QuerySet):
    """Logs that are promises: no bulk update or delete, except the one pseudonymisation
    erasure does (privacy.services.account_erase), through pseudonymise()."""

    def update(self, **kwargs):
        raise RecordIsFinal(f"{self.model._meta.verbose_name} records are never changed.")

    def delete(self):
        raise RecordIsFinal(f"{self.model._meta.verbose_name} records are never deleted.")

    def pseudonymise(self, **values):
        """Erasure's narrow exception: only the fields named in the model's ERASABLE
        may change, and only to a hash, NULL or blank (the database checks it too)."""
        unknown = set(values) - set(self.model.ERASABLE)
        if unknown:
            raise RecordIsFinal(f"Erasure may not change {', '.join(sorted(unknown))}.")
        return super().update(**values)


class ConsentEvent(models.Model):
    """One entry of the consent log. Append-only: rows are never changed or deleted
    (erasure replaces the address with its hash, drops the account link and blanks
    words the customer wrote; nothing else)."""

    ERASABLE = ("email", "user", "wording")

    class Action(models.TextChoices):
        REQUESTED = "requested", "Asked (awaiting confirmation)"
        GRANTED = "granted", "Granted"
        WITHDRAWN = "withdrawn", "Withdrawn"

    email = models.CharField(max_length=254, db_index=True, help_text="Lower-case address, or its hash once erased.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    wording = models.TextField(help_text="What the customer was shown or wrote.")
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="Order number, Message-ID, ...")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Who recorded it on the customer's behalf stays on record: such a staff account is
    # deactivated, not deleted (the database would refuse to blank it anyway).
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=Purpose.values), name="privacy_consent_purpose_valid"),
            models.CheckConstraint(
                condition=Q(action__in=["requested", "granted", "withdrawn"]), name="privacy_consent_action_valid"
            ),
        ]

    def __str__(self):
        return f"{self.email}: {self.get_purpose_display()} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RecordIsFinal("The consent log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RecordIsFinal("The consent log is append-only.")


class Consent(models.Model):
    """The current state of one purpose for one address, kept in step with the log by
    privacy.services.consent_record (and only there)."""

    email = models.CharField(max_length=254)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    granted = models.BooleanField(default=False)
    pending_confirmation = models.BooleanField(default=False)
    # The language of the page the address last asked or confirmed on (blank: it never
    # did, e.g. a consent recorded by staff): its confirmation, alert and offer emails
    # are written in it when no account says otherwise.
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email", "purpose"], name="privacy_consent_unique")]
        indexes = [models.Index(fields=["purpose", "granted"], name="privacy_consent_granted")]

    def __str__(self):
        return f"{self.email}: {self.get_purpose_display()} {'yes' if self.granted else 'no'}"


class AgeDeclaration(models.Model):
    """What the buyer stated about their age at checkout, and for an under-18 buyer
    the parent or guardian who accompanies and authorises the order. No birth dates.
    Never changed: erasure only replaces the address with its hash and blanks the
    guardian's details."""

    ERASABLE = ("email", "guardian_name", "guardian_email")

    order_number = models.CharField(max_length=20, unique=True)
    email = models.CharField(max_length=254, db_index=True)
    is_adult = models.BooleanField()
    guardian_name = models.CharField(max_length=150, blank=True)
    guardian_email = models.EmailField(blank=True)
    statement = models.TextField(blank=True, help_text="The wording the guardian confirmed.")
    wording_version = models.PositiveSmallIntegerField()
    policy_version = models.PositiveIntegerField(null=True, blank=True, help_text="Privacy policy in force.")
    declared_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_adult=True) | (~Q(guardian_name="") & ~Q(guardian_email="") & ~Q(statement="")),
                name="privacy_minor_has_guardian",
            )
        ]

    def __str__(self):
        return f"{self.order_number}: {'18+' if self.is_adult else 'under 18 with guardian'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RecordIsFinal("An age statement is kept as it was made.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RecordIsFinal("An age statement is kept as it was made.")


class Suppression(models.Model):
    """An address that must never be mailed again, kept only as a hash."""

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=100)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.email_hash[:12]}… ({self.reason})"


class EmailCampaign(models.Model):
    """A promotional email written by staff. It is sent only through
    privacy.campaigns.campaign_send, which decides who may receive it."""

    subject = models.CharField(max_length=200)
    body_text = models.TextField(help_text="Plain text. The unsubscribe link and our postal address are added.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self):
        return self.subject


class CampaignDelivery(models.Model):
    """Who got which campaign, and when: one row per address, so nobody gets it twice."""

    campaign = models.ForeignKey(EmailCampaign, on_delete=models.CASCADE, related_name="deliveries")
    email = models.CharField(max_length=254)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "email"], name="privacy_delivery_once")]

    def __str__(self):
        return f"{self.campaign} → {self.email}"


class PostalCampaign(models.Model):
    """A postal mailing printed and posted by the shop: its own, or on behalf of a
    partner, who sees counts and key codes only."""

    name = models.CharField(max_length=200)
    partner = models.CharField(max_length=200, blank=True, help_text="Empty for the shop's own mailing.")
    key_code = models.CharField(max_length=20, unique=True, help_text="Printed on each piece to track responses.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("export_mailing", "Can export mailing files (names and addresses)")]

    def __str__(self):
        return f"{self.name} ({self.key_code})"


class MailingExport(models.Model):
    """One export of a postal campaign's mailing file: who, when, how many, which file."""

    campaign = models.ForeignKey(PostalCampaign, on_delete=models.PROTECT, related_name="exports")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    rows = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.campaign}: {self.rows} rows at {self.at:%Y-%m-%d %H:%M}"


class OptOutRequest(models.Model):
    """A message to service@ read by the opt-out processor, with what was done about it.
    Unclear ones wait in the staff queue with the original message."""

    class State(models.TextChoices):
        APPLIED = "applied", "Applied"
        QUEUED = "queued", "Waiting for staff"
        DISMISSED = "dismissed", "Dismissed by staff"
        IGNORED = "ignored", "Ignored (automatic or not an opt-out)"

    class Channel(models.TextChoices):
        POSTAL = "postal", "Postal offers"
        EMAIL = "email", "Email offers"
        BOTH = "both", "Both"
        UNKNOWN = "", "Unclear"

    message_id = models.CharField(max_length=300, unique=True)
    sender = models.CharField(max_length=254, db_index=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="The text as read, without quotes and signature.")
    raw = models.TextField(blank=True, help_text="The original message (first 200 kB).")
    received_at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    reason = models.CharField(max_length=300)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.sender}: {self.subject or '(no subject)'}"


class EmailLinkKey(models.Model):
    """The random key behind the links we email to an address (preferences, unsubscribe,
    offers confirmation): the URL carries the key, signed, never the address. Deleting
    the row revokes every link sent so far; the next email gets a new key."""

    email = models.CharField(max_length=254, unique=True)
    key = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"link key {self.key[:6]}…"


class AccountSession(AbstractBaseSession):
    """A signed-in or anonymous browser session (Django's database session, plus the
    account it belongs to), so erasing an account can end every session it has."""

    account_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


# -- alerts ---------------------------------------------------------------------------


class Alert(models.Model):
    """What a collector asked to hear about: new recordings of a work, new releases by a
    performer, or a sold-out offer back in stock. Nothing is sent for it until the
    address has confirmed alert consent (privacy.alerts.alerts_send decides)."""

    class Kind(models.TextChoices):
        WORK = "work", gettext_lazy("New recordings of a work")
        PERFORMER = "performer", gettext_lazy("New releases by a performer")
        BACK_IN_STOCK = "stock", gettext_lazy("Back in stock")

    email = models.CharField(max_length=254, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    work = models.ForeignKey("catalog.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    artist = models.ForeignKey("catalog.Artist", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey("catalog.Offer", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The newest recording (work) or release (performer) when the alert was made: only
    # what the catalog gains after it counts as new.
    since_id = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="work", work__isnull=False, artist__isnull=True, offer__isnull=True)
                    | Q(kind="performer", work__isnull=True, artist__isnull=False, offer__isnull=True)
                    | Q(kind="stock", work__isnull=True, artist__isnull=True, offer__isnull=False)
                ),
                name="privacy_alert_one_target",
            ),
            models.UniqueConstraint(fields=["email", "work"], condition=Q(kind="work"), name="privacy_alert_work_once"),
            models.UniqueConstraint(
                fields=["email", "artist"], condition=Q(kind="performer"), name="privacy_alert_artist_once"
            ),
            models.UniqueConstraint(
                fields=["email", "offer"], condition=Q(kind="stock"), name="privacy_alert_offer_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.target}"

    @property
    def target(self):
        return self.work or self.artist or self.offer


class AlertDelivery(models.Model):
    """One item an address was alerted to (a recording, a release, an offer back in
    stock): written in the same transaction that queues the email, unique, so nobody
    hears of the same item twice."""

    email = models.CharField(max_length=254)
    item = models.CharField(max_length=100)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email", "item"], name="privacy_alert_item_once")]

    def __str__(self):
        return f"{self.item} → {self.email}"


class AlertDigest(models.Model):
    """The one alert email an address got on a day (at most one a day: unique)."""

    email = models.CharField(max_length=254)
    day = models.DateField()
    items = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email", "day"], name="privacy_alert_one_email_a_day")]

    def __str__(self):
        return f"{self.day}: {self.items} alerts → {self.email}"
