"""P3's chokepoint refuses every kind of non-consenting recipient; P4's mailing export
never contains an opted-out, minor or erased customer, and partners see counts only."""

import csv
import io
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from orders.cart import CartLine
from orders.models import Status
from orders.services import order_place, order_transition
from privacy import services
from privacy.campaigns import campaign_send, mailing_export
from privacy.models import CampaignDelivery, EmailCampaign, MailingExport, PostalCampaign, Purpose, Source
from tests.conftest import staff_login
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db


def grant(email, purpose=Purpose.PROMO_EMAIL):
    services.consent_record(
        email=email, purpose=purpose, action="granted", source=Source.CONFIRMATION_LINK, wording="yes"
    )


@pytest.fixture
def campaign():
    return EmailCampaign.objects.create(subject="New Brahms recordings", body_text="Three new Brahms cycles.")


def test_the_chokepoint_sends_only_to_confirmed_current_adult_unsuppressed_opt_ins(campaign, django_user_model):
    grant("yes@example.com")
    services.promo_optin_request(email="pending@example.com", source=Source.CHECKOUT)  # never confirmed
    grant("withdrawn@example.com")
    services.consent_withdraw(
        email="withdrawn@example.com", purpose=Purpose.PROMO_EMAIL, source=Source.UNSUBSCRIBE, wording="no"
    )
    grant("postal-only@example.com", Purpose.POSTAL)
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
    mail.outbox.clear()

    assert campaign_send(campaign) == 1
    assert [m.to for m in mail.outbox] == [["yes@example.com"]]
    assert list(CampaignDelivery.objects.values_list("email", flat=True)) == ["yes@example.com"]


def test_every_promotional_email_has_one_click_unsubscribe_and_our_postal_address(campaign, client):
    grant("yes@example.com")
    campaign_send(campaign)
    message = mail.outbox[-1]
    header = message.extra_headers["List-Unsubscribe"]
    https_url = header.split(">")[0].lstrip("<")
    assert https_url.startswith("https://") and "mailto:service@arkiv.example" in header
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Arkiv Music, 1 Example Street" in message.body and "/offers/unsubscribe/" in message.body
    path = "/" + https_url.split("/", 3)[3]
    client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert not services.consent_granted("yes@example.com", Purpose.PROMO_EMAIL)


def test_sending_twice_never_emails_anyone_twice(campaign, capsys):
    for n in range(3):
        grant(f"p{n}@example.com")
    call_command("send_email_campaign", campaign.pk)
    call_command("send_email_campaign", campaign.pk)
    assert len(mail.outbox) == 3
    assert "Sent 'New Brahms recordings' to 0 recipient(s)" in capsys.readouterr().out
    grant("late@example.com")
    campaign_send(campaign)
    assert [m.to[0] for m in mail.outbox[3:]] == ["late@example.com"]


def test_a_failed_send_gives_the_addresses_back_for_the_next_run(campaign, settings):
    grant("p@example.com")
    settings.EMAIL_BACKEND = "tests.orders.test_emails.FailingBackend"
    with pytest.raises(ConnectionRefusedError):
        campaign_send(campaign)
    assert not CampaignDelivery.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert campaign_send(campaign) == 1


def buy(email, *, adult=True, no_postal=False, line1="1 Wieck Street", postcode="04109", name="Clara Schumann"):
    offer = OfferFactory()
    address = {"name": name, "line1": line1, "line2": "", "city": "Leipzig", "postcode": postcode, "country": "DE"}
    statement = services.CheckoutStatement(
        is_adult=adult,
        guardian_name="" if adult else "Parent",
        guardian_email="" if adult else "parent@example.com",
        no_postal=no_postal,
    )
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=None,
        checkout=checkout_details(email=email, billing=address, shipping=address),
        checkout_token=uuid.uuid4(),
        statement=statement,
    )
    order_transition(order, Status.AUTHORISED)
    return order


def rows(content):
    return list(csv.DictReader(io.StringIO(content)))


def test_mailing_export_excludes_opted_out_minors_erased_incomplete_and_duplicate_households(django_user_model):
    buy("in@example.com", name="Anna In", line1="5 Bach Lane", postcode="04100")
    buy("optout-at-checkout@example.com", no_postal=True, line1="6 Bach Lane")
    buy("wrote-to-service@example.com", line1="7 Bach Lane")
    services.consent_withdraw(
        email="wrote-to-service@example.com",
        purpose=Purpose.POSTAL,
        source=Source.SERVICE_EMAIL,
        wording="no more catalogues",
    )
    buy("minor@example.com", adult=False, line1="8 Bach Lane")
    order_transition(buy("erased@example.com", line1="9 Bach Lane"), Status.SHIPPED)  # done: erasable
    services.account_erase(
        user=django_user_model.objects.create_user(
            email="erased@example.com", password="x" * 12, email_verified_at=timezone.now()
        )
    )
    buy("same-household@example.com", name="Ben In", line1="5  bach lane", postcode="04 100")
    buy("incomplete@example.com", line1="")  # no street line
    campaign = PostalCampaign.objects.create(name="Spring catalogue", key_code="SPR26")
    content, export = mailing_export(campaign)
    exported = rows(content)
    # One piece for the household at 5 Bach Lane (the newest order's spelling), nobody else.
    assert [(" ".join(r["line1"].lower().split()), r["key_code"]) for r in exported] == [("5 bach lane", "SPR26")]
    assert export.rows == 1 and len(export.sha256) == 64


def test_every_export_is_logged_and_the_command_writes_the_file(tmp_path):
    buy("in@example.com")
    campaign = PostalCampaign.objects.create(name="Partner mailing", partner="Concert Hall Leipzig", key_code="CHL1")
    out = tmp_path / "mailing.csv"
    call_command("export_mailing_list", campaign.pk, out=str(out))
    assert rows(out.read_text())[0]["name"] == "Clara Schumann"
    export = MailingExport.objects.get()
    import hashlib

    assert export.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()


def test_partner_liaison_sees_counts_and_key_codes_never_names(client, django_user_model):
    buy("in@example.com")
    campaign = PostalCampaign.objects.create(name="Partner mailing", partner="Concert Hall Leipzig", key_code="CHL1")
    mailing_export(campaign)
    liaison = django_user_model.objects.create_user(email="liaison@arkiv.example", password="x" * 12, is_staff=True)
    liaison.groups.add(Group.objects.get(name="Partner liaison"))
    staff_login(client, liaison)
    page = client.get("/admin/privacy/postalcampaign/").content.decode()
    assert "CHL1" in page and "Clara" not in page and "Wieck" not in page
    assert "Export the mailing file" not in page
    response = client.post("/admin/privacy/postalcampaign/", {"action": "export", "_selected_action": [campaign.pk]})
    assert "Clara" not in response.content.decode()
    assert client.get("/admin/orders/order/").status_code == 403
    assert MailingExport.objects.count() == 1


def test_the_privacy_officer_exports_mailings_and_works_the_service_queue(client, django_user_model):
    buy("in@example.com")
    campaign = PostalCampaign.objects.create(name="Spring catalogue", key_code="SPR27")
    officer = django_user_model.objects.create_user(email="officer@arkiv.example", password="x" * 12, is_staff=True)
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    staff_login(client, officer)
    response = client.post("/admin/privacy/postalcampaign/", {"action": "export", "_selected_action": [campaign.pk]})
    assert response["Content-Type"] == "text/csv" and "Clara Schumann" in response.content.decode()
    assert MailingExport.objects.get().by == officer
    assert client.get("/admin/privacy/optoutrequest/").status_code == 200
    assert client.get("/admin/privacy/consentevent/").status_code == 200
    assert client.get("/admin/orders/order/").status_code == 403
