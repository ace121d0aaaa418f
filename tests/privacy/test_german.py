"""Privacy in German: the pages and their form errors under /de/, and every email the
policy layer sends (offers and alerts confirmations, the alert digest, campaigns, the
service@ reply) in the language stored for its recipient, with links to pages in it."""

import re
import uuid

import pytest
from django.core import mail
from django.utils import timezone, translation

from accounts.models import User
from orders.cart import CartLine
from orders.services import order_place
from privacy import services
from privacy.alerts import alert_subscribe, alerts_send
from privacy.campaigns import campaign_send
from privacy.models import Consent, ConsentEvent, EmailCampaign, Purpose, Source
from privacy.servicemail import process_message
from tests.factories import OfferFactory, RecordingFactory, ReleaseFactory, WorkFactory, checkout_details

from .test_service_mail import message

pytestmark = pytest.mark.django_db


def path_in(text, part):
    return re.search(rf"https?://[^/\s]+(\S*{part}\S*)", text).group(1)


@pytest.fixture
def work():
    return WorkFactory(title="Symphony no. 9 in D minor")


def test_an_alert_asked_for_on_a_german_page_is_confirmed_and_sent_in_german(work, client):
    client.post("/de/alerts/new/", {"kind": "work", "target": work.pk, "email": "fan@example.com"})

    [confirmation] = mail.outbox
    assert confirmation.subject == "Bitte bestätigen Sie: Benachrichtigungen von Arkiv per E-Mail"
    assert "Bitte bestätigen Sie dies über diesen Link:" in confirmation.body
    path = path_in(confirmation.body, "/alerts/confirm/")
    assert path.startswith("/de/alerts/confirm/")
    assert "Ja, senden Sie mir meine Benachrichtigungen" in client.get(path).content.decode()
    client.post(path)
    assert Consent.objects.get(email="fan@example.com", purpose=Purpose.ALERTS).language == "de"
    wording = ConsentEvent.objects.filter(email="fan@example.com").values_list("wording", flat=True)
    assert set(wording) == {
        "Senden Sie mir die Benachrichtigungen, um die ich bitte, per E-Mail (neue Einspielungen, Interpreten, "
        "wieder vorrätig). (Wir senden Ihnen einen Link zur Bestätigung.)"
    }

    RecordingFactory(work=work, release=ReleaseFactory(title="Neunte, live"))
    with translation.override("en-gb"):  # the job runs in the shop's default language
        assert alerts_send() == 1

    digest = mail.outbox[-1]
    assert digest.subject.startswith("Arkiv-Benachrichtigung: Neue Einspielung von")
    assert "Was Ihre Arkiv-Benachrichtigungen gefunden haben:" in digest.body
    assert "Symphony no. 9 in D minor, auf Neunte, live" in digest.body
    assert path_in(digest.body, "/releases/").startswith("/de/")
    assert path_in(digest.body, "/alerts/unsubscribe/").startswith("/de/")
    assert "/de/alerts/unsubscribe/" in digest.extra_headers["List-Unsubscribe"]


def test_an_english_subscriber_still_gets_english_alerts(work, client):
    client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": "fan@example.com"})
    client.post(path_in(mail.outbox[0].body, "/alerts/confirm/"))
    RecordingFactory(work=work)

    alerts_send()

    assert "What your Arkiv alerts found:" in mail.outbox[-1].body
    assert "/de/" not in mail.outbox[-1].body


def test_campaign_footers_and_links_are_in_each_recipient_s_language():
    for email, language in [("anna@example.com", "de"), ("bob@example.com", "en-gb")]:
        services.consent_record(
            email=email,
            purpose=Purpose.PROMO_EMAIL,
            action="granted",
            source=Source.CONFIRMATION_LINK,
            wording="yes",
            language=language,
        )
    campaign = EmailCampaign.objects.create(subject="Neue Brahms-Aufnahmen", body_text="Drei neue Zyklen.")

    assert campaign_send(campaign) == 2

    sent = {m.to[0]: m for m in mail.outbox}
    assert "Mit einem Klick abbestellen:" in sent["anna@example.com"].body
    assert path_in(sent["anna@example.com"].body, "/offers/unsubscribe/").startswith("/de/")
    assert "Unsubscribe with one click:" in sent["bob@example.com"].body
    assert path_in(sent["bob@example.com"].body, "/offers/unsubscribe/").startswith("/offers/")


def test_the_service_reply_is_in_the_account_s_language_whatever_language_the_mail_was_in(
    django_capture_on_commit_callbacks,
):
    User.objects.create_user(
        email="clara@example.com", password="a-long-passphrase", language="de", email_verified_at=timezone.now()
    )
    services.consent_record(
        email="clara@example.com", purpose=Purpose.POSTAL, action="granted", source=Source.DEFAULT, wording="x"
    )

    with django_capture_on_commit_callbacks(execute=True):
        process_message(message("Please stop sending me your catalogue.", message_id="<de-1@mail.example>"))

    [reply] = mail.outbox
    assert reply.subject == "Wir haben die Angebote eingestellt, nach denen Sie gefragt haben"
    assert "Wie gewünscht, haben wir die Angebote per Post eingestellt." in reply.body
    assert path_in(reply.body, "/offers/preferences/").startswith("/de/offers/preferences/")


def test_the_german_account_privacy_page_saves_choices_in_german_words(client):
    user = User.objects.create_user(
        email="clara@example.com", password="a-long-passphrase", email_verified_at=timezone.now()
    )
    client.force_login(user)

    page = client.get("/de/account/privacy/").content.decode()
    assert "Datenschutz und Angebote" in page and "Angebote per Post" in page
    response = client.post("/de/account/privacy/", {"postal": "on"}, follow=True)

    assert "Ihre Auswahl ist gespeichert." in response.content.decode()
    granted = ConsentEvent.objects.get(email="clara@example.com", purpose=Purpose.POSTAL, action="granted")
    assert granted.wording == "Ja, senden Sie mir Angebote per Post."


def test_the_german_contact_form_answers_mistakes_in_german(client):
    response = client.post("/de/contact/", {"name": "", "email": "keine-adresse", "message": ""})

    page = response.content.decode()
    assert "Bei Ihrer Eingabe gibt es Probleme" in page
    assert "E-Mail: Bitte gültige E-Mail-Adresse eingeben." in page
    assert "Nachricht: Dieses Feld ist zwingend erforderlich." in page


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/de/cookies/", "Arkiv setzt zwei Cookies"),
        ("/de/contact/", "Bestellungen und Abbestellen von Angeboten per Post"),
        ("/de/account/sign-in/", "Passwort vergessen?"),
        ("/de/account/password-reset/", "Passwort zurücksetzen"),
    ],
)
def test_privacy_and_account_pages_read_in_german(client, path, words):
    response = client.get(path)

    assert response.status_code == 200
    assert words in response.content.decode()


def test_the_policy_page_in_german_takes_as_many_queries_as_in_english(client, django_assert_max_num_queries):
    client.get("/privacy/")
    with django_assert_max_num_queries(6) as english:
        client.get("/privacy/")
    with django_assert_max_num_queries(len(english.captured_queries) + 1):
        # One more at most: the version's German text.
        client.get("/de/privacy/")


def test_a_guest_who_ordered_on_the_german_shop_gets_the_service_reply_in_german(django_capture_on_commit_callbacks):
    offer = OfferFactory()
    with translation.override("de"):  # the checkout page was German
        order_place(
            cart_lines=[CartLine(offer, 1, offer.price)],
            customer=None,
            checkout=checkout_details(email="anna@example.com"),
            checkout_token=uuid.uuid4(),
            statement=services.CheckoutStatement(is_adult=True),
        )
    assert Consent.objects.get(email="anna@example.com", purpose=Purpose.POSTAL).language == "de"
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        process_message(
            message("No more catalogues please.", sender="anna@example.com", message_id="<anna-1@mail.example>")
        )

    [reply] = [m for m in mail.outbox if m.to == ["anna@example.com"]]
    assert "Wie gewünscht, haben wir die Angebote per Post eingestellt." in reply.body


def test_an_account_s_chosen_language_decides_its_alert_emails(work):
    User.objects.create_user(
        email="clara@example.com", password="a-long-passphrase", language="de", email_verified_at=timezone.now()
    )
    services.consent_record(
        email="clara@example.com",
        purpose=Purpose.ALERTS,
        action="granted",
        source=Source.CONFIRMATION_LINK,
        wording="yes",
        language="en-gb",  # confirmed on an English page before choosing German for the account
    )
    alert_subscribe(email="clara@example.com", kind="work", target=work)
    RecordingFactory(work=work)

    assert alerts_send() == 1
    assert "Was Ihre Arkiv-Benachrichtigungen gefunden haben:" in mail.outbox[-1].body


def test_an_old_link_opened_on_a_german_page_says_why_in_german(client):
    response = client.get("/de/account/verify/MQ/not-a-token/")

    assert response.status_code == 400
    assert "Dieser Link ist nicht mehr gültig" in response.content.decode()
