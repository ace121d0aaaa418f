"""Alerts reach only confirmed, current, adult, unsuppressed alert subscribers (offers
consent is not enough), at most one email a day, never the same item twice; subscribing
is a double opt-in that mail scanners cannot complete."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from privacy import services
from privacy.alerts import AlertRefused, alert_subscribe, alerts_send
from privacy.models import (
    AgeDeclaration,
    Alert,
    AlertDelivery,
    AlertDigest,
    Purpose,
    Source,
    Suppression,
    email_hash,
)
from tests.factories import ArtistFactory, CreditFactory, OfferFactory, RecordingFactory, ReleaseFactory, WorkFactory
from tests.threads import at_once

pytestmark = pytest.mark.django_db


def grant(email, purpose=Purpose.ALERTS):
    services.consent_record(
        email=email, purpose=purpose, action="granted", source=Source.CONFIRMATION_LINK, wording="yes"
    )


def wants(email, work):
    alert_subscribe(email=email, kind=Alert.Kind.WORK, target=work)


def alert_mail():
    return [m for m in mail.outbox if "alert" in m.subject.lower() and "confirm" not in m.subject.lower()]


def link_path(text, part):
    url = re.search(rf"https?://\S+{part}\S+", text).group(0)
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def work():
    return WorkFactory(title="Symphony no. 9 in D minor")


def test_alerts_reach_only_confirmed_current_adult_unsuppressed_alert_subscribers(work, django_user_model):
    for email in ["yes", "pending", "withdrawn", "offers-only", "minor", "erased"]:
        wants(f"{email}@example.com", work)
    grant("yes@example.com")
    grant("withdrawn@example.com")
    services.consent_withdraw(
        email="withdrawn@example.com", purpose=Purpose.ALERTS, source=Source.UNSUBSCRIBE, wording="no"
    )
    grant("offers-only@example.com", Purpose.PROMO_EMAIL)
    grant("minor@example.com")
    services.checkout_record(
        order_number="AK-MINOR001",
        email="minor@example.com",
        statement=services.CheckoutStatement(is_adult=False, guardian_name="P", guardian_email="p@example.com"),
    )
    grant("erased@example.com")
    erased = django_user_model.objects.create_user(
        email="erased@example.com", password="a-long-passphrase", email_verified_at=timezone.now()
    )
    services.account_erase(user=erased)
    RecordingFactory(work=work)
    mail.outbox.clear()

    assert alerts_send() == 1
    assert [m.to for m in mail.outbox] == [["yes@example.com"]]
    assert list(AlertDigest.objects.values_list("email", flat=True)) == ["yes@example.com"]


def test_a_minor_gets_no_alert_even_with_an_alert_consent_on_record(work):
    wants("minor@example.com", work)
    grant("minor@example.com")
    # An age statement made while the consent stands (not through checkout, which withdraws it).
    AgeDeclaration.objects.create(
        order_number="AK-MINOR002",
        email="minor@example.com",
        is_adult=False,
        guardian_name="P",
        guardian_email="p@example.com",
        statement="I am the guardian.",
        wording_version=1,
    )
    RecordingFactory(work=work)
    mail.outbox.clear()

    assert alerts_send() == 0
    assert mail.outbox == []


def test_a_minor_cannot_subscribe_and_gets_no_confirmation_email(work):
    services.checkout_record(
        order_number="AK-MINOR003",
        email="minor@example.com",
        statement=services.CheckoutStatement(is_adult=False, guardian_name="P", guardian_email="p@example.com"),
    )
    mail.outbox.clear()
    with pytest.raises(AlertRefused):
        wants("minor@example.com", work)
    assert not Alert.objects.exists() and mail.outbox == []


def test_a_suppressed_address_gets_no_alert_even_with_an_alert_consent_on_record(work):
    wants("gone@example.com", work)
    grant("gone@example.com")
    Suppression.objects.create(email_hash=email_hash("gone@example.com"), reason="account deleted")
    RecordingFactory(work=work)
    mail.outbox.clear()

    assert alerts_send() == 0
    assert mail.outbox == []


def test_offers_consent_alone_sends_no_alerts_and_each_unsubscribe_stops_only_its_own(work, client):
    wants("both@example.com", work)
    grant("both@example.com", Purpose.PROMO_EMAIL)
    RecordingFactory(work=work)
    mail.outbox.clear()
    assert alerts_send() == 0

    grant("both@example.com")
    assert alerts_send() == 1
    message = alert_mail()[-1]
    header = message.extra_headers["List-Unsubscribe"]
    assert "mailto:service@arkiv.example" in header
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Arkiv Music, 1 Example Street" in message.body
    url = header.split(">")[0].lstrip("<")
    assert url.startswith("https://") and "/alerts/unsubscribe/" in url
    client.post(
        "/" + url.split("/", 3)[3], "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert not services.consent_granted("both@example.com", Purpose.ALERTS)
    assert services.consent_granted("both@example.com", Purpose.PROMO_EMAIL)
    # And the offers' one-click unsubscribe leaves alerts alone.
    grant("both@example.com")
    client.post(f"/offers/unsubscribe/{services.preferences_token('both@example.com')}/")
    assert services.consent_granted("both@example.com", Purpose.ALERTS)
    assert not services.consent_granted("both@example.com", Purpose.PROMO_EMAIL)


def test_two_matches_in_a_day_make_one_email_and_the_next_day_brings_only_what_is_new(work):
    conductor = ArtistFactory(name="Clara Conductor")
    wants("fan@example.com", work)
    alert_subscribe(email="fan@example.com", kind=Alert.Kind.PERFORMER, target=conductor)
    grant("fan@example.com")
    RecordingFactory(work=work, release=ReleaseFactory(title="Ninth, again"))
    CreditFactory(recording=RecordingFactory(release=ReleaseFactory(title="Clara conducts")), artist=conductor)
    mail.outbox.clear()

    assert alerts_send() == 1
    [message] = alert_mail()
    assert "Ninth, again" in message.body and "Clara conducts" in message.body

    RecordingFactory(work=work, release=ReleaseFactory(title="Ninth, third time"))
    assert alerts_send() == 0  # one email a day at most
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    assert alerts_send(today=tomorrow) == 1
    body = alert_mail()[-1].body
    assert "Ninth, third time" in body and "Ninth, again" not in body and "Clara conducts" not in body


def test_what_was_in_the_catalog_before_the_alert_is_not_news(work):
    RecordingFactory(work=work, release=ReleaseFactory(title="Old Ninth"))
    wants("fan@example.com", work)
    grant("fan@example.com")
    assert alerts_send() == 0


def test_running_the_job_twice_sends_no_second_email(work, capsys):
    wants("fan@example.com", work)
    grant("fan@example.com")
    RecordingFactory(work=work)
    mail.outbox.clear()

    call_command("send_alerts")
    call_command("send_alerts")
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    assert alerts_send(today=tomorrow) == 0  # nothing new: the same item is never sent again

    assert len(alert_mail()) == 1
    assert capsys.readouterr().out.splitlines() == ["Sent 1 alert email(s).", "Sent 0 alert email(s)."]


def test_a_failed_send_gives_the_claim_back_for_the_next_run(work, settings):
    wants("fan@example.com", work)
    grant("fan@example.com")
    RecordingFactory(work=work)
    settings.EMAIL_BACKEND = "tests.orders.test_emails.FailingBackend"
    with pytest.raises(ConnectionRefusedError):
        alerts_send()
    assert not AlertDigest.objects.exists() and not AlertDelivery.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts_send() == 1


def test_a_sold_out_offer_back_in_stock_is_alerted_once(client):
    offer = OfferFactory(stock=0, release=ReleaseFactory(title="Rare Bruckner"))
    page = client.get(offer.release.get_absolute_url()).content.decode()
    assert "Tell me when this is back in stock" in page
    client.post("/alerts/new/", {"kind": "stock", "target": offer.pk, "email": "fan@example.com"})
    grant("fan@example.com")
    assert alerts_send() == 0  # still sold out

    offer.stock = 3
    offer.save()
    assert alerts_send() == 1
    assert "Back in stock: Rare Bruckner" in alert_mail()[-1].body
    assert not Alert.objects.exists()  # done: it does not fire again


def test_an_offer_in_stock_cannot_get_a_back_in_stock_alert(client):
    offer = OfferFactory(stock=5)
    response = client.post(
        "/alerts/new/", {"kind": "stock", "target": offer.pk, "email": "fan@example.com"}, follow=True
    )
    assert "in stock now" in response.content.decode()
    assert not Alert.objects.exists()


def test_a_visitor_subscribes_and_nothing_is_sent_until_the_confirmation_button_is_pressed(work, client):
    page = client.get(work.get_absolute_url()).content.decode()
    assert "Tell me when a new recording of this work arrives" in page
    response = client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": "Fan@Example.com"})
    assert response.status_code == 302 and response.url == work.get_absolute_url()
    [confirmation] = mail.outbox
    assert confirmation.to == ["fan@example.com"] and "confirm" in confirmation.subject.lower()
    RecordingFactory(work=work)
    assert alerts_send() == 0

    path = link_path(confirmation.body, "/alerts/confirm/")
    assert client.get(path).status_code == 200  # a mail scanner follows the link
    assert not services.consent_granted("fan@example.com", Purpose.ALERTS)
    assert alerts_send() == 0

    client.post(path)
    assert services.consent_granted("fan@example.com", Purpose.ALERTS)
    assert alerts_send() == 1
    assert alert_mail()[-1].to == ["fan@example.com"]


def test_a_waiting_confirmation_is_not_sent_again_the_same_day(work, client):
    other = WorkFactory()
    client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": "someone@example.com"})
    client.post("/alerts/new/", {"kind": "work", "target": other.pk, "email": "someone@example.com"})
    client.post("/alerts/new/", {"kind": "work", "target": other.pk, "email": "someone@example.com"})
    assert len(mail.outbox) == 1
    assert Alert.objects.filter(email="someone@example.com").count() == 2


def test_bad_alert_requests_get_a_clear_400_or_404(work, client):
    response = client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": "not an address"})
    assert response.status_code == 400 and "Email address: Enter a valid email address." in response.content.decode()
    assert client.post("/alerts/new/", {"kind": "wish", "target": work.pk}).status_code == 400
    assert client.post("/alerts/new/", {"kind": "work", "target": 999999, "email": "a@example.com"}).status_code == 404
    assert client.get("/alerts/new/").status_code == 405
    assert not Alert.objects.exists() and mail.outbox == []


def proven_customer(django_user_model, client, email="member@example.com"):
    user = django_user_model.objects.create_user(
        email=email, password="a-long-passphrase", email_verified_at=timezone.now()
    )
    client.force_login(user)
    return user


def test_a_signed_in_customer_subscribes_with_one_press_and_removes_it_from_the_account(
    work, client, django_user_model
):
    proven_customer(django_user_model, client)
    grant("member@example.com")
    artist = ArtistFactory(name="Anne Violinist")
    client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": ""})
    client.post("/alerts/new/", {"kind": "performer", "target": artist.pk, "email": ""})
    assert mail.outbox == []  # alerts already confirmed: no confirmation needed

    page = client.get("/account/alerts/").content.decode()
    assert work.title in page and "Anne Violinist" in page
    performer_alert = Alert.objects.get(kind=Alert.Kind.PERFORMER)
    client.post(f"/account/alerts/{performer_alert.pk}/remove/")
    page = client.get("/account/alerts/").content.decode()
    assert work.title in page and "Anne Violinist" not in page


def test_nobody_removes_another_customers_alert(work, client, django_user_model):
    wants("other@example.com", work)
    proven_customer(django_user_model, client)
    client.post(f"/account/alerts/{Alert.objects.get().pk}/remove/")
    assert Alert.objects.filter(email="other@example.com").exists()


def test_alerts_are_in_the_data_download_and_gone_after_erasure(work, client, django_user_model):
    user = proven_customer(django_user_model, client)
    client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": ""})
    grant("member@example.com")
    RecordingFactory(work=work)
    alerts_send()

    data = client.get("/account/privacy/my-data.json").json()
    assert [a["kind"] for a in data["alerts"]] == ["New recordings of a work"]
    assert len(data["alert_emails_received"]) == 1

    services.account_erase(user=user)
    assert not Alert.objects.exists() and not AlertDigest.objects.exists() and not AlertDelivery.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_send_one_email(postgres, work):
    wants("fan@example.com", work)
    grant("fan@example.com")
    RecordingFactory(work=work)
    mail.outbox.clear()

    results = at_once(2, lambda i: alerts_send())

    assert sorted(results) == [0, 1]
    assert len(alert_mail()) == 1


def test_ticking_alerts_on_the_preferences_page_needs_the_emailed_confirmation_and_leaves_offers_alone(client):
    grant("fan@example.com", Purpose.PROMO_EMAIL)
    token = services.preferences_token("fan@example.com")
    page = client.get(f"/offers/preferences/{token}/").content.decode()
    assert "Alerts by email" in page
    mail.outbox.clear()

    client.post(f"/offers/preferences/{token}/", {"promo_email": "on", "alerts": "on"})

    assert not services.consent_granted("fan@example.com", Purpose.ALERTS)
    assert services.consent_granted("fan@example.com", Purpose.PROMO_EMAIL)
    [confirmation] = mail.outbox
    assert "/alerts/confirm/" in confirmation.body
    client.post(link_path(confirmation.body, "/alerts/confirm/"))
    assert services.consent_granted("fan@example.com", Purpose.ALERTS)


def test_staff_see_alerts_and_alert_emails_in_the_admin(work, admin_client):
    wants("fan@example.com", work)
    assert "fan@example.com" in admin_client.get("/admin/privacy/alert/").content.decode()
    assert admin_client.get("/admin/privacy/alertdigest/").status_code == 200


def test_an_erased_address_typed_in_again_is_not_stored_or_mailed(work, client):
    Suppression.objects.create(email_hash=email_hash("gone@example.com"), reason="account deleted")
    response = client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": "gone@example.com"})
    assert response.status_code == 302
    assert not Alert.objects.exists() and mail.outbox == []


def test_one_connection_sending_alert_forms_over_and_over_is_stopped(work, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "alert_subscribe": "3/h"}
    statuses = [
        client.post("/alerts/new/", {"kind": "work", "target": work.pk, "email": f"p{n}@example.com"}).status_code
        for n in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]
    assert Alert.objects.count() == 3
