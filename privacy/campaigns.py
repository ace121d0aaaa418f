"""The one chokepoint for promotional email (promise P3) and the postal mailing export
(promise P4)."""

import csv
import hashlib
import io

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from arkiv.addresses import normalise_email
from arkiv.links import site_url
from arkiv.mail import templated_email

from . import providers, services
from .models import (
    AgeDeclaration,
    CampaignDelivery,
    Consent,
    MailingExport,
    Purpose,
    Suppression,
    email_hash,
)

BATCH = 500


def may_receive_offers(email, *, minors, suppressed):
    """The rule, in one place: a current consent, not a minor, not suppressed."""
    return email not in minors and email_hash(email) not in suppressed


def _excluded():
    minors = set(AgeDeclaration.objects.filter(is_adult=False).values_list("email", flat=True))
    suppressed = set(Suppression.objects.values_list("email_hash", flat=True))
    return minors, suppressed


def campaign_recipients(campaign):
    """Confirmed, current opt-ins who are not minors, not suppressed and not yet sent this one."""
    minors, suppressed = _excluded()
    done = set(CampaignDelivery.objects.filter(campaign=campaign).values_list("email", flat=True))
    emails = Consent.objects.filter(purpose=Purpose.PROMO_EMAIL, granted=True).values_list("email", flat=True)
    return [
        e
        for e in emails.order_by("email")
        if e not in done and may_receive_offers(e, minors=minors, suppressed=suppressed)
    ]


def unsubscribe_headers(unsubscribe):
    """Headers of a promotional email: RFC 8058 one-click unsubscribe at `unsubscribe`
    (a URL), RFC 2369's mailto fallback to service@, and bulk precedence."""
    return {
        "List-Unsubscribe": f"<{unsubscribe}>, <mailto:{settings.ARKIV_SERVICE_EMAIL}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
    }


def _message(campaign, email, connection, language):
    """The campaign as staff wrote it; the footer and its links in the recipient's language."""
    token = services.preferences_token(email)
    with services.in_language(language):
        unsubscribe = site_url("privacy:unsubscribe", token)
        preferences = site_url("privacy:preferences", token)
        return _render(campaign, email, connection, unsubscribe, preferences)


def _render(campaign, email, connection, unsubscribe, preferences):
    return templated_email(
        campaign.subject,
        "privacy/email/campaign.txt",
        {
            "campaign": campaign,
            "unsubscribe": unsubscribe,
            "preferences": preferences,
            "postal_address": settings.ARKIV_POSTAL_ADDRESS,
        },
        email,
        connection=connection,
        headers=unsubscribe_headers(unsubscribe),
    )


def campaign_send(campaign):
    """Send a campaign to everyone who may receive it and has not yet: each address is
    claimed (a delivery row) before its message goes, so a re-run, or two at once,
    never emails anyone twice. Returns how many were sent."""
    sent = 0
    recipients = campaign_recipients(campaign)
    connection = get_connection()
    for start in range(0, len(recipients), BATCH):
        batch = recipients[start : start + BATCH]
        languages = services.email_languages(batch, Purpose.PROMO_EMAIL)
        with transaction.atomic():
            CampaignDelivery.objects.bulk_create(
                [CampaignDelivery(campaign=campaign, email=e) for e in batch], ignore_conflicts=True
            )
        try:
            connection.send_messages([_message(campaign, e, connection, languages[e]) for e in batch])
        except Exception:
            # Not sent: give the addresses back so the next run tries them again.
            CampaignDelivery.objects.filter(campaign=campaign, email__in=batch).delete()
            raise
        sent += len(batch)
    campaign.last_sent_at = timezone.now()
    campaign.save(update_fields=["last_sent_at"])
    return sent


# -- postal mailings (P4) -------------------------------------------------------------

MAILING_COLUMNS = ["name", "line1", "line2", "city", "postcode", "country", "key_code"]


def mailing_rows(campaign):
    """Names and addresses for the print house, decided at the moment of export:
    postal consent in force, no minors, no suppressed or erased customers, complete
    addresses only, one piece per household."""
    minors, suppressed = _excluded()
    consenting = set(Consent.objects.filter(purpose=Purpose.POSTAL, granted=True).values_list("email", flat=True))
    seen_people, seen_households = set(), set()
    for address in providers.postal_addresses():
        email = normalise_email(address.get("email"))
        if email in seen_people or email not in consenting:
            continue
        seen_people.add(email)
        if not may_receive_offers(email, minors=minors, suppressed=suppressed):
            continue
        if not all(address.get(k) for k in ("name", "line1", "city", "postcode", "country")):
            continue
        household = (
            " ".join(address["line1"].lower().split()),
            address["postcode"].replace(" ", "").upper(),
            address["country"],
        )
        if household in seen_households:
            continue
        seen_households.add(household)
        yield {**{k: address.get(k, "") for k in MAILING_COLUMNS[:-1]}, "key_code": campaign.key_code}


def mailing_export(campaign, *, by=None):
    """Write the mailing file (CSV) and log the export. Returns (csv text, MailingExport)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MAILING_COLUMNS)
    writer.writeheader()
    rows = 0
    for row in mailing_rows(campaign):
        writer.writerow(row)
        rows += 1
    content = buffer.getvalue()
    export = MailingExport.objects.create(
        campaign=campaign, by=by, rows=rows, sha256=hashlib.sha256(content.encode()).hexdigest()
    )
    return content, export
