"""Links we email are doors, not switches, and their tokens tell nothing: a GET (a mail
scanner, a link preview) changes nothing, the address is not in the URL, and erasure or
a changed address revokes every link sent before."""

import base64
import contextlib
import re

import pytest
from django.core import mail, signing
from django.utils import timezone

from accounts.models import User
from privacy import services
from privacy.models import Consent, ConsentEvent, Purpose, Source

pytestmark = pytest.mark.django_db
EMAIL = "clara.schumann@example.com"


def confirmation_link():
    return re.search(r"https?://[^/\s]+(/offers/confirm/\S+)", mail.outbox[-1].body).group(1)


def request_optin(django_capture_on_commit_callbacks, email=EMAIL):
    with django_capture_on_commit_callbacks(execute=True):
        services.promo_optin_request(email=email, source=Source.SIGN_UP)
    return confirmation_link()


def decodings(token):
    """Every way a reader of the URL could decode a piece of the token."""
    for piece in re.split(r"[:./]", token):
        padded = piece + "=" * (-len(piece) % 4)
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            with contextlib.suppress(ValueError):
                yield decode(padded).decode("latin-1").lower()
        yield piece.lower()


def test_the_offers_confirmation_link_changes_nothing_until_its_button_is_pressed(
    client, django_capture_on_commit_callbacks
):
    link = request_optin(django_capture_on_commit_callbacks)
    page = client.get(link)
    assert page.status_code == 200 and "Yes, send me offers by email</button>" in page.content.decode()
    client.head(link)
    assert not services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)
    # The button is a form of ours: a POST from elsewhere, without its CSRF token, is refused.
    assert client.__class__(enforce_csrf_checks=True).post(link).status_code == 403
    assert not services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)
    assert "will now receive our offers" in client.post(link).content.decode()
    # The preferences and unsubscribe links sent with offers are doors too.
    token = services.preferences_token(EMAIL)
    assert client.get(f"/offers/unsubscribe/{token}/").status_code == 200
    assert client.get(f"/offers/preferences/{token}/").status_code == 200
    assert services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)
    assert services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)


def test_emailed_tokens_do_not_reveal_the_address(django_capture_on_commit_callbacks):
    tokens = [services.preferences_token(EMAIL), request_optin(django_capture_on_commit_callbacks)]
    for token in tokens:
        assert not any("schumann" in text for text in decodings(token)), token


def test_rotating_revokes_every_link_sent_to_the_address(client, django_capture_on_commit_callbacks):
    services.consent_record(
        email=EMAIL, purpose=Purpose.POSTAL, action="granted", source=Source.ACCOUNT, wording="Yes, post"
    )
    preferences = services.preferences_token(EMAIL)
    confirm = request_optin(django_capture_on_commit_callbacks)
    services.tokens_rotate(EMAIL)
    assert client.get(f"/offers/preferences/{preferences}/").status_code == 400
    assert client.post(f"/offers/preferences/{preferences}/", {}).status_code == 400
    assert client.post(f"/offers/unsubscribe/{preferences}/").status_code == 400
    assert client.post(confirm).status_code == 400
    assert services.consent_granted(EMAIL, Purpose.POSTAL) and not services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)
    fresh = services.preferences_token(EMAIL)
    assert fresh != preferences and client.get(f"/offers/preferences/{fresh}/").status_code == 200


def test_erasure_revokes_the_links_sent_to_the_address(client):
    user = User.objects.create_user(email=EMAIL, password="a-long-passphrase", email_verified_at=timezone.now())
    token = services.preferences_token(EMAIL)
    services.account_erase(user=user)
    assert client.get(f"/offers/preferences/{token}/").status_code == 400
    assert client.post(f"/offers/preferences/{token}/", {"promo_email": "on", "postal": "on"}).status_code == 400
    assert not services.consent_granted(EMAIL, Purpose.POSTAL)


def test_one_click_unsubscribe_in_offers_sent_before_keyed_links_still_works_and_does_nothing_else(client):
    services.consent_record(
        email=EMAIL, purpose=Purpose.PROMO_EMAIL, action="granted", source=Source.CONFIRMATION_LINK, wording="yes"
    )
    old_token = signing.dumps({"e": EMAIL}, salt=services.PREFERENCES_SALT)  # as emailed before
    assert client.get(f"/offers/preferences/{old_token}/").status_code == 400
    assert client.get(f"/offers/unsubscribe/{old_token}/").status_code == 400
    assert services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)
    one_click = client.__class__(enforce_csrf_checks=True).post(
        f"/offers/unsubscribe/{old_token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200 and EMAIL not in one_click.content.decode()
    assert not services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)
    # After erasure the old link still answers, and never writes the address back.
    user = User.objects.create_user(email=EMAIL, password="a-long-passphrase", email_verified_at=timezone.now())
    services.account_erase(user=user)
    assert client.post(f"/offers/unsubscribe/{old_token}/").status_code == 200
    assert not ConsentEvent.objects.filter(email=EMAIL).exists() and not Consent.objects.filter(email=EMAIL).exists()
