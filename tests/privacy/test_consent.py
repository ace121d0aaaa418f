"""P3: promotional email only after a specific opt-in confirmed by a link; every change
logged with wording, source and the policy version in force."""

import re

import pytest
from django.core import mail

from privacy import services
from privacy.models import Consent, ConsentEvent, Purpose, RecordIsFinal, Source
from tests.factories import OfferFactory
from tests.orders.test_payments import CHECKOUT

pytestmark = pytest.mark.django_db


def confirmation_link():
    return re.search(r"https?://[^/\s]+(/offers/confirm/\S+)", mail.outbox[-1].body).group(1)


def checkout_with(client, **fields):
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    return client.post("/checkout/", {**CHECKOUT, "checkout_token": token, "age": "adult", **fields})


def test_the_offers_box_is_unticked(client):
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    body = client.get("/checkout/").content.decode()
    box = re.search(r'<input[^>]*name="promo_email"[^>]*>', body).group(0)
    assert "checked" not in box


def test_ticking_sends_an_advert_free_confirmation_and_only_the_link_counts(
    client, payment_sandbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        checkout_with(client, promo_email="on")
    assert not services.consent_granted("clara@example.com", Purpose.PROMO_EMAIL)
    message = mail.outbox[-1]
    assert message.subject == "Please confirm: offers from Arkiv by email"
    assert "/releases/" not in message.body and "€" not in message.body
    response = client.post(confirmation_link())
    assert "will now receive our offers by email" in response.content.decode()
    assert services.consent_granted("clara@example.com", Purpose.PROMO_EMAIL)
    log = list(
        ConsentEvent.objects.filter(email="clara@example.com", purpose=Purpose.PROMO_EMAIL).values_list(
            "action", "source", "policy_version"
        )
    )
    assert log == [("requested", "checkout", 1), ("granted", "confirmation_link", 1)]
    requested = ConsentEvent.objects.get(email="clara@example.com", purpose=Purpose.PROMO_EMAIL, action="requested")
    assert requested.wording == services.PROMO_OPTIN_WORDING and requested.reference.startswith("AK-")


def test_a_tampered_or_stale_link_grants_nothing(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.promo_optin_request(email="a@example.com", source=Source.SIGN_UP)
    link = confirmation_link()
    assert client.post(link[:-5] + "xxxx/").status_code == 400
    services.consent_withdraw(email="a@example.com", purpose=Purpose.PROMO_EMAIL, source=Source.ACCOUNT, wording="No")
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400
    assert not services.consent_granted("a@example.com", Purpose.PROMO_EMAIL)


def test_the_log_is_append_only():
    event = services.consent_record(
        email="a@example.com", purpose=Purpose.POSTAL, action="granted", source=Source.DEFAULT, wording="x"
    )
    event.wording = "changed"
    with pytest.raises(RecordIsFinal, match="append-only"):
        event.save()


def test_unsubscribe_get_shows_a_button_and_post_unsubscribes_without_login_or_csrf(client):
    services.consent_record(
        email="a@example.com",
        purpose=Purpose.PROMO_EMAIL,
        action="granted",
        source=Source.CONFIRMATION_LINK,
        wording="yes",
    )
    url = f"/offers/unsubscribe/{services.preferences_token('a@example.com')}/"
    assert "Unsubscribe</button>" in client.get(url).content.decode()
    assert services.consent_granted("a@example.com", Purpose.PROMO_EMAIL)  # a GET (link scanner) changes nothing
    csrf_client = client.__class__(enforce_csrf_checks=True)
    assert (
        csrf_client.post(
            url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    assert not services.consent_granted("a@example.com", Purpose.PROMO_EMAIL)
    csrf_client.post(url)  # idempotent
    assert ConsentEvent.objects.filter(action="withdrawn").count() == 1
    assert client.post("/offers/unsubscribe/forged/").status_code == 400


def test_preferences_page_changes_both_channels_without_signing_in(client, django_capture_on_commit_callbacks):
    token = services.preferences_token("b@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/offers/preferences/{token}/", {"promo_email": "on", "postal": "on"})
    assert Consent.objects.get(email="b@example.com", purpose=Purpose.POSTAL).granted
    state = Consent.objects.get(email="b@example.com", purpose=Purpose.PROMO_EMAIL)
    assert state.pending_confirmation and not state.granted  # still needs the link
    client.post(f"/offers/preferences/{token}/", {})
    assert not Consent.objects.filter(email="b@example.com", granted=True).exists()


def test_sign_up_offers_an_unticked_box_that_needs_confirmation(client, django_capture_on_commit_callbacks):
    body = client.get("/account/sign-up/").content.decode()
    box = re.search(r'<input[^>]*name="promo_email"[^>]*>', body).group(0)
    assert "checked" not in box
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/account/sign-up/",
            {
                "email": "new@example.com",
                "password1": "a-long-passphrase",
                "password2": "a-long-passphrase",
                "promo_email": "on",
            },
        )
    assert not services.consent_granted("new@example.com", Purpose.PROMO_EMAIL)
    assert any(m.subject == "Please confirm: offers from Arkiv by email" for m in mail.outbox)
    event = ConsentEvent.objects.get(email="new@example.com")
    assert (event.action, event.source, event.user.email) == ("requested", "sign_up", "new@example.com")
