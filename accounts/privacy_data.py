"""What accounts tell the privacy app about the personal data they hold (registered in
AccountsConfig.ready)."""

from django.db.models.functions import Lower

from arkiv.addresses import normalise_email

from .models import User


def known_emails(emails):
    """Addresses of accounts that have proven them (an unproven sign-up is not yet anyone's
    identity), matched without regard to case."""
    wanted = {normalise_email(e) for e in emails}
    accounts = User.objects.annotate(address=Lower("email")).filter(address__in=wanted, email_verified_at__isnull=False)
    return set(accounts.values_list("address", flat=True))


def languages(emails):
    """{address: language for emails} of the accounts that proved these addresses."""
    wanted = {normalise_email(e) for e in emails}
    accounts = User.objects.annotate(address=Lower("email")).filter(address__in=wanted, email_verified_at__isnull=False)
    return dict(accounts.values_list("address", "language"))


def personal_data(email, user):
    if user is None:
        return {}
    return {
        "account": {
            "email": user.email,
            "name": user.full_name,
            "joined": user.date_joined.isoformat(),
            "language_for_emails": user.language,
            "email_confirmed": user.email_verified_at.isoformat() if user.email_verified_at else None,
            "email_waiting_for_confirmation": user.pending_email or None,
        },
        "addresses": [
            {
                "name": a.name,
                "line1": a.line1,
                "line2": a.line2,
                "city": a.city,
                "postcode": a.postcode,
                "country": a.country,
                "phone": a.phone,
                "default": a.is_default,
            }
            for a in user.addresses.all()
        ],
    }


def erase(email, user):
    if user is None:
        return
    from axes.models import AccessAttempt

    from arkiv.mail import outbox_forget

    addresses = {normalise_email(user.email), normalise_email(user.pending_email), email or ""}
    outbox_forget(addresses)
    AccessAttempt.objects.filter(username__in=addresses).delete()
    user.addresses.all().delete()
    user.email = f"erased-{user.pk}@invalid"
    user.full_name = ""
    # Saving a new address also drops its proof; emptying these ends every emailed link.
    user.pending_email = ""
    user.email_link_nonce = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
