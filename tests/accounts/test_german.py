"""Accounts in German: the pages and their form errors under /de/, and account emails
written in the account's language (chosen at sign-up, on signing in, or on the account
page), never in whichever language the sending thread happens to have."""

import re

import pytest
from django.core import mail
from django.utils import timezone, translation

from accounts import services
from accounts.models import User
from privacy.models import ConsentEvent, Purpose

from .helpers import PASSWORD

pytestmark = pytest.mark.django_db


def link_in(message, part):
    return re.search(rf"https?://[^/\s]+(/\S*{part}\S+)", message.body).group(1)


def german_sign_up(client, capture, **extra):
    with capture(execute=True):
        return client.post(
            "/de/account/sign-up/",
            {"email": "clara@example.com", "password1": PASSWORD, "password2": PASSWORD, **extra},
        )


def test_a_bad_sign_up_on_the_german_page_is_answered_in_german(client):
    response = client.post("/de/account/sign-up/", {"email": "clara", "password1": "kurz", "password2": "anders"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Bei Ihrer Eingabe gibt es Probleme" in page
    assert "E-Mail-Adresse: Bitte gültige E-Mail-Adresse eingeben." in page
    assert "Die beiden Passwörter sind nicht identisch." in page
    assert 'value="Konto anlegen"' in page
    assert not User.objects.exists()


def test_signing_up_in_german_gives_a_german_account_a_german_link_and_german_pages(
    client, django_capture_on_commit_callbacks
):
    response = german_sign_up(client, django_capture_on_commit_callbacks)

    assert response.url == "/de/account/sign-up/sent/"
    assert User.objects.get().language == "de"
    [email] = mail.outbox
    assert email.subject == "Bestätigen Sie Ihre E-Mail-Adresse für Arkiv"
    assert "Bitte bestätigen Sie, dass diese Adresse zu Ihrem neuen Arkiv-Konto gehört" in email.body
    link = link_in(email, "/account/verify/")
    assert link.startswith("/de/account/verify/")
    page = client.get(link).content.decode()
    assert "clara@example.com bestätigen" in page
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(link, follow=True)
    assert "clara@example.com ist bestätigt." in confirmed.content.decode()
    overview = client.get("/de/account/").content.decode()
    assert "Angemeldet als <strong>clara@example.com</strong>" in overview
    assert "Adressbuch" in overview


def test_the_offers_box_ticked_on_the_german_page_is_logged_in_the_words_shown(
    client, django_capture_on_commit_callbacks
):
    german_sign_up(client, django_capture_on_commit_callbacks, promo_email="on")

    [asked] = ConsentEvent.objects.filter(purpose=Purpose.PROMO_EMAIL)
    assert asked.wording == "Senden Sie mir Angebote per E-Mail. (Wir senden Ihnen einen Link zur Bestätigung.)"
    confirmation = [m for m in mail.outbox if "Angebote" in m.subject]
    assert confirmation and "/de/offers/confirm/" in confirmation[0].body


def test_account_emails_follow_the_stored_language_not_the_one_active_when_sent(
    django_capture_on_commit_callbacks,
):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD, language="de")

    with translation.override("en-gb"), django_capture_on_commit_callbacks(execute=True):
        services.send_verification(user=user, email="clara@example.com")

    [email] = mail.outbox
    assert email.subject == "Bestätigen Sie Ihre E-Mail-Adresse für Arkiv"
    assert "/de/account/verify/" in email.body


def test_signing_in_on_a_german_page_makes_the_password_reset_email_german(client, django_capture_on_commit_callbacks):
    User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())
    client.post("/de/account/sign-in/", {"username": "clara@example.com", "password": PASSWORD})
    assert User.objects.get().language == "de"
    client.post("/account/sign-out/")

    # Asked for from the English page: the email is still German, as the account chose.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/password-reset/", {"email": "clara@example.com"})

    [email] = mail.outbox
    assert email.subject == "Ihr Arkiv-Passwort zurücksetzen"
    assert "Hier wählen Sie ein neues Passwort:" in email.body
    link = link_in(email, "/account/password-reset/")
    assert link.startswith("/de/account/password-reset/")


def test_the_account_page_chooses_the_language_of_emails(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD, language="de")
    client.force_login(user)

    response = client.post("/account/language/", {"language": "en-gb"}, follow=True)

    assert "We will write to you in English." in response.content.decode()
    assert User.objects.get().language == "en-gb"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/de/account/email/", {"email": "robert@example.com", "password": PASSWORD})
    [email] = mail.outbox
    assert email.subject == "Confirm your email address for Arkiv"
    assert re.search(r"https?://[^/\s]+/account/verify/", email.body)


def test_a_language_the_shop_does_not_have_is_refused_with_a_message(client):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD, language="de")
    client.force_login(user)

    response = client.post("/de/account/language/", {"language": "xx"})

    assert response.status_code == 400
    assert "Wählen Sie eine der Sprachen aus der Liste." in response.content.decode()
    assert User.objects.get().language == "de"


def test_a_german_email_change_is_confirmed_in_german(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(
        email="clara@example.com", password=PASSWORD, language="de", email_verified_at=timezone.now()
    )
    client.force_login(user)

    bad = client.post("/de/account/email/", {"email": "robert@example.com", "password": "falsch"})
    assert "Das ist nicht Ihr aktuelles Passwort." in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/de/account/email/", {"email": "robert@example.com", "password": PASSWORD}, follow=True)
    assert "Wir haben einen Link an robert@example.com gesendet." in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_in(mail.outbox[-1], "/account/verify/"))
    changed = [m for m in mail.outbox if m.to == ["clara@example.com"]]
    assert changed[-1].subject == "Ihre Anmeldeadresse bei Arkiv wurde geändert"
