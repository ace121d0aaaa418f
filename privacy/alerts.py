"""Alerts for collectors: new recordings of a work, new releases by a performer, an
offer back in stock. Subscribing needs no consent yet; sending does: alerts_send is the
one chokepoint every alert email goes through (a confirmed, current alert consent, not
a minor, not suppressed, one email per address per day at most, never the same item
twice, one-click unsubscribe)."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from arkiv.addresses import normalise_email
from arkiv.links import site_url
from arkiv.mail import templated_email

from . import services
from .campaigns import _excluded, may_receive_offers, unsubscribe_headers
from .models import Alert, AlertDelivery, AlertDigest, Consent, Purpose, Source

UNSUBSCRIBE_WORDING = gettext_lazy("Unsubscribe from alerts (one click)")


class AlertRefused(ValueError):
    """The alert cannot be made; the message says why, in the customer's words."""


def alert_subscribe(*, email, kind, target, user=None, source=Source.SIGN_UP):
    """Keep an alert for an address and, unless the address already confirmed alerts,
    start the double opt-in (one confirmation email at most while one waits). Returns
    (alert, created), or (None, False) for a suppressed (erased) address, which is never
    stored again. Nothing is ever sent for an unconfirmed, minor or suppressed address."""
    from catalog.models import Offer, Recording, Release

    email = normalise_email(email)
    if services.is_minor(email):
        raise AlertRefused(_("Alerts are for customers aged 18 or over."))
    if services.is_suppressed(email):
        return None, False
    target_field = {Alert.Kind.WORK: "work", Alert.Kind.PERFORMER: "artist", Alert.Kind.BACK_IN_STOCK: "offer"}[kind]
    if kind == Alert.Kind.BACK_IN_STOCK:
        if not isinstance(target, Offer) or target.available:
            raise AlertRefused(_("This is in stock now: you can order it today."))
        since = 0
    elif kind == Alert.Kind.WORK:
        since = Recording.objects.aggregate(last=Max("pk"))["last"] or 0
    else:
        since = Release.objects.aggregate(last=Max("pk"))["last"] or 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert, created = Alert.objects.get_or_create(
                    email=email, kind=kind, **{target_field: target}, defaults={"user": user, "since_id": since}
                )
        except IntegrityError:  # the same alert made at the same moment elsewhere
            alert, created = Alert.objects.get(email=email, kind=kind, **{target_field: target}), False
        if not services.consent_granted(email, Purpose.ALERTS):
            services.optin_request(email=email, purpose=Purpose.ALERTS, source=source, user=user)
    return alert, created


def alerts_of(email):
    return Alert.objects.filter(email=normalise_email(email)).select_related(
        "work__composer", "artist", "offer__release"
    )


def alert_remove(*, email, alert_id):
    """Remove one of an address's alerts; returns whether there was one."""
    deleted, _ = Alert.objects.filter(email=normalise_email(email), pk=alert_id).delete()
    return bool(deleted)


def alerts_unsubscribe(*, email, source=Source.UNSUBSCRIBE, user=None):
    """Stop alert emails (offers are a separate purpose and stay as they are)."""
    return services.consent_withdraw(
        email=email, purpose=Purpose.ALERTS, source=source, wording=UNSUBSCRIBE_WORDING, user=user
    )


# -- matching and sending -------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    key: str  # what AlertDelivery records: "recording:12", "release:7", "stock:3"
    describe: Callable[[], str]  # the line of the email, in the language active when read
    page: object  # what the line links to (its get_absolute_url)
    fulfils: int | None = None  # a back-in-stock alert, done once sent

    @property
    def text(self):
        return self.describe()

    @property
    def url(self):
        # Reversed when read: inside the recipient's language, the link is to that page.
        return settings.ARKIV_SITE_URL.rstrip("/") + self.page.get_absolute_url()


def _pending_items(alerts):
    """What each alert found that its address has not heard of: recordings of the work
    added since the alert was made, releases crediting the performer added since, an
    offer that is available again."""
    from catalog.models import Credit, Offer, Recording

    found = defaultdict(dict)  # email -> {key: Item}
    works = [a for a in alerts if a.kind == Alert.Kind.WORK]
    if works:
        recordings = (
            Recording.objects.filter(work_id__in={a.work_id for a in works}, pk__gt=min(a.since_id for a in works))
            .select_related("release", "work__composer")
            .order_by("pk")
        )
        by_work = defaultdict(list)
        for recording in recordings:
            by_work[recording.work_id].append(recording)
        for alert in works:
            for r in by_work[alert.work_id]:
                if r.pk > alert.since_id:
                    found[alert.email][f"recording:{r.pk}"] = Item(
                        f"recording:{r.pk}",
                        lambda r=r: (
                            _("New recording of %(composer)s: %(work)s, on %(release)s")
                            % {"composer": r.work.composer.name, "work": r.work.title, "release": r.release.title}
                        ),
                        r.release,
                    )
    performers = [a for a in alerts if a.kind == Alert.Kind.PERFORMER]
    if performers:
        credits = (
            Credit.objects.filter(
                artist_id__in={a.artist_id for a in performers},
                recording__release_id__gt=min(a.since_id for a in performers),
            )
            .select_related("artist", "recording__release")
            .order_by("recording__release_id")
        )
        by_artist = defaultdict(dict)
        for credit in credits:
            by_artist[credit.artist_id][credit.recording.release_id] = credit
        for alert in performers:
            for release_id, credit in by_artist[alert.artist_id].items():
                if release_id > alert.since_id:
                    release = credit.recording.release
                    found[alert.email][f"release:{release_id}"] = Item(
                        f"release:{release_id}",
                        lambda artist=credit.artist, release=release: (
                            _("New release with %(artist)s: %(release)s")
                            % {"artist": artist.name, "release": release.title}
                        ),
                        release,
                    )
    stock = [a for a in alerts if a.kind == Alert.Kind.BACK_IN_STOCK]
    if stock:
        offers = Offer.objects.filter(pk__in={a.offer_id for a in stock}).select_related("release")
        available = {o.pk: o for o in offers if o.available}
        for alert in stock:
            if alert.offer_id in available:
                offer = available[alert.offer_id]
                found[alert.email][f"stock:{alert.pk}"] = Item(
                    f"stock:{alert.pk}",
                    lambda offer=offer: (
                        _("Back in stock: %(release)s (%(kind)s)")
                        % {"release": offer.release.title, "kind": offer.kind_label}
                    ),
                    offer.release,
                    fulfils=alert.pk,
                )
    return found


def alert_recipients(today):
    """Addresses that may get an alert email today: a confirmed, current alert consent,
    not a minor, not suppressed, with alerts, and no alert email yet today."""
    minors, suppressed = _excluded()
    consenting = set(Consent.objects.filter(purpose=Purpose.ALERTS, granted=True).values_list("email", flat=True))
    done_today = set(AlertDigest.objects.filter(day=today).values_list("email", flat=True))
    with_alerts = set(Alert.objects.values_list("email", flat=True))
    return sorted(
        e
        for e in with_alerts & consenting
        if e not in done_today and may_receive_offers(e, minors=minors, suppressed=suppressed)
    )


def _message(email, items, connection, language):
    token = services.preferences_token(email)
    with services.in_language(language):
        unsubscribe = site_url("privacy:alerts_unsubscribe", token)
        count = len(items)
        if count > 1:
            subject = ngettext("Arkiv alerts: %(count)d new for you", "Arkiv alerts: %(count)d new for you", count) % {
                "count": count
            }
        else:
            subject = (_("Arkiv alert: %(item)s") % {"item": items[0].text})[:200]
        return templated_email(
            subject,
            "privacy/email/alerts.txt",
            {
                "items": items,
                "unsubscribe": unsubscribe,
                "preferences": site_url("privacy:preferences", token),
                "postal_address": settings.ARKIV_POSTAL_ADDRESS,
            },
            email,
            connection=connection,
            # One-click unsubscribe from alerts only (the link's purpose).
            headers=unsubscribe_headers(unsubscribe),
        )


def _claim(email, items, today):
    """Record the day's email and its items before anything is sent, in one transaction,
    re-reading the consent under its row lock: False when another run got there first
    or the consent went meanwhile."""
    try:
        with transaction.atomic():
            consent = Consent.objects.select_for_update().filter(email=email, purpose=Purpose.ALERTS).first()
            if consent is None or not consent.granted:
                return False
            AlertDigest.objects.create(email=email, day=today, items=len(items))
            AlertDelivery.objects.bulk_create([AlertDelivery(email=email, item=i.key) for i in items])
    except IntegrityError:
        return False
    return True


def _release(email, items, today):
    with transaction.atomic():
        AlertDigest.objects.filter(email=email, day=today).delete()
        AlertDelivery.objects.filter(email=email, item__in=[i.key for i in items]).delete()


def alerts_send(*, today=None):
    """Send each address that may receive alerts ONE email with everything its alerts
    found that it has not been sent before, at most once a day. Each email and its items
    are recorded (unique per address and day, per address and item) before the message
    goes, so a re-run, two runs at once or a crash mid-run never email anyone twice.
    Returns how many emails were sent."""
    today = today or timezone.localdate()
    recipients = alert_recipients(today)
    if not recipients:
        return 0
    alerts = list(Alert.objects.filter(email__in=recipients))
    pending = _pending_items(alerts)
    delivered = defaultdict(set)
    for email, item in AlertDelivery.objects.filter(email__in=recipients).values_list("email", "item"):
        delivered[email].add(item)
    languages = services.email_languages(recipients, Purpose.ALERTS)
    connection = get_connection()
    sent = 0
    for email in recipients:
        items = [i for key, i in sorted(pending[email].items()) if key not in delivered[email]]
        if not items or not _claim(email, items, today):
            continue
        try:
            connection.send_messages([_message(email, items, connection, languages[email])])
        except Exception:
            # Not sent: give the claim back so the next run tries again.
            _release(email, items, today)
            raise
        Alert.objects.filter(pk__in=[i.fulfils for i in items if i.fulfils]).delete()
        sent += 1
    return sent
