"""Mail to service@: a corpus of realistic messages, each with the outcome a privacy
officer would expect, through the same processor every inbound path uses.

The customer in the corpus has a proven account and wants both kinds of offers (a
confirmed email opt-in among them), so each case shows exactly what a message stops."""

import hashlib
import hmac
import mailbox
import time
from email.message import EmailMessage

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from privacy import services
from privacy.models import Consent, ConsentEvent, OptOutRequest, Purpose, Source
from privacy.servicemail import process_message
from tests.accounts.helpers import guest_order

pytestmark = pytest.mark.django_db
CUSTOMER = "clara@example.com"
APPLIED, QUEUED, IGNORED = "applied", "queued", "ignored"
POST, EMAIL = {"postal"}, {"promo_email"}
NOTHING = set()


def message(
    body="", *, sender=CUSTOMER, subject="Offers", headers=None, html=None, message_id=None, charset=None, name=None
):
    msg = EmailMessage()
    msg["From"] = f"{name or 'Clara Schumann'} <{sender}>"
    msg["To"] = "service@arkiv.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{abs(hash((body, sender, subject, str(headers), html)))}@mail.example>"
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is not None:
        msg.set_content(html, subtype="html")
    elif charset:
        msg.set_content(body, charset=charset)
    else:
        msg.set_content(body)
    return msg.as_bytes()


def attachment_only(filename="invoice.pdf", subject="Invoice", message_id="<attachment-only@mail.example>"):
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = CUSTOMER, subject, message_id
    msg.add_attachment(b"%PDF-1.4 binary", maintype="application", subtype="pdf", filename=filename)
    return msg.as_bytes()


def scanned_letter():
    """A customer who scanned a handwritten letter: an image and no text at all."""
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Clara Schumann <{CUSTOMER}>", "service@arkiv.example"
    msg["Subject"], msg["Message-ID"] = "", "<scan-0042@mail.example>"
    msg.add_attachment(b"\x89PNG\r\n\x1a\n fake image", maintype="image", subtype="png", filename="letter.png")
    return msg.as_bytes()


def odd_charset():
    return (
        b"From: clara@example.com\r\nSubject: please\r\nMessage-ID: <odd@mail.example>\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Stop sending me e-mails \xff\xfe please\r\n"
    )


CORPUS = [
    ("plain postal", message("Please stop sending me your catalogue."), APPLIED, POST),
    # No channel named: post stops at once, the confirmed email opt-in waits for a person.
    ("subject only", message("", subject="Unsubscribe"), QUEUED, POST),
    ("html only", message(html="<p>No more <b>catalogues</b> please.</p><p>Thanks</p>"), APPLIED, POST),
    (
        "quoted reply",
        message(
            "Stop the emails please.\n\nOn Mon, 2 Nov 2026 at 10:00, Arkiv <offers@arkiv.example> "
            "wrote:\n> Do not stop reading! Our catalogue is here.\n> keep sending"
        ),
        APPLIED,
        EMAIL,
    ),
    (
        "forwarded",
        message(
            "Please take me off this list.\n\n---------- Forwarded message ---------\nFrom: Arkiv\n"
            "Subject: New catalogue\nKeep sending love"
        ),
        QUEUED,
        POST,
    ),
    ("german", message("Bitte keine Kataloge mehr schicken. Danke!"), APPLIED, POST),
    ("german, short", message("Bitte keine Kataloge mehr", subject="Kataloge"), APPLIED, POST),
    ("french", message("Bonjour, merci de ne plus m'envoyer de courrier publicitaire."), APPLIED, POST),
    ("spanish", message("Quiero darme de baja de los correos electrónicos."), APPLIED, EMAIL),
    ("latin-1 german", message("Bitte abbestellen, für immer.", charset="iso-8859-1"), QUEUED, POST),
    ("just stop", message("STOP"), QUEUED, POST),
    ("newsletter", message("No more newsletters, thank you."), APPLIED, EMAIL),
    ("phone signature", message("Unsubscribe me from the post please\n\nSent from my iPhone"), APPLIED, POST),
    # "Mail", letters, catalogues and "our address" mean post, never the email opt-in.
    ("letters", message("Please stop sending letters.", subject="Letters"), APPLIED, POST),
    ("mail means post", message("Please stop sending me mail, I never read it."), APPLIED, POST),
    ("all your mail", message("No more of all your mail, thank you.", subject="Mail"), APPLIED, POST),
    (
        "to our address",
        message("We moved in last year. Please don't send anything more to our address.", subject="Moving"),
        APPLIED,
        POST,
    ),
    (
        "email address in passing",
        message("Please stop the catalogues. My e-mail address stays the same for my orders."),
        APPLIED,
        POST,
    ),
    (
        "reply to a catalogue email",
        message("Unsubscribe me please.", subject="Re: Our new catalogue is out"),
        QUEUED,
        POST,
    ),
    ("letters but emails fine", message("Please stop the letters, emails are fine."), QUEUED, NOTHING),
    ("negation", message("Please keep sending the catalog, I love it!"), QUEUED, NOTHING),
    ("negated unsubscribe", message("Please do not unsubscribe me, I got your email by mistake"), QUEUED, NOTHING),
    ("mixed", message("Don't stop the catalogue, but unsubscribe me from the emails."), QUEUED, NOTHING),
    # About someone else: a person checks whose data it is; the sender's own choices stay.
    (
        "remove my mother",
        message("Hello, please remove my mother from your list, she is 91 and the catalogues confuse her."),
        QUEUED,
        NOTHING,
    ),
    (
        "late father, german",
        message("Mein Vater ist im Mai verstorben. Bitte schicken Sie keine Post mehr an ihn.", subject="Abmelden"),
        QUEUED,
        NOTHING,
    ),
    ("previous tenant", message("Stop sending catalogues for the previous tenant, he moved out."), QUEUED, NOTHING),
    ("unknown sender", message("Unsubscribe me from the catalogue", sender="stranger@example.net"), QUEUED, NOTHING),
    ("mixed case sender", message("No more catalogues please.", sender="Clara@Example.COM"), APPLIED, POST),
    (
        "spoofed",
        message(
            "Please stop the catalogue",
            headers={
                "Authentication-Results": "mx.arkiv.example; spf=fail smtp.mailfrom=example.com; dkim=fail; dmarc=fail"
            },
        ),
        QUEUED,
        NOTHING,
    ),
    ("other address", message("Stop posting catalogues to 12 Baker Street, my old flat."), QUEUED, NOTHING),
    ("opt-in", message("Please subscribe me to your newsletter."), QUEUED, NOTHING),
    (
        "auto-reply",
        message("I am out of the office until Monday. Unsubscribe", headers={"Auto-Submitted": "auto-replied"}),
        IGNORED,
        NOTHING,
    ),
    ("vacation", message("Away: stop", headers={"X-Autoreply": "yes"}), IGNORED, NOTHING),
    ("bounce", message("Delivery failed: unsubscribe", sender="MAILER-DAEMON@mx.example.net"), IGNORED, NOTHING),
    ("mailing list", message("Unsubscribe", headers={"List-Id": "<music.lists.example>"}), IGNORED, NOTHING),
    ("bulk", message("stop sending", headers={"Precedence": "bulk"}), IGNORED, NOTHING),
    ("noreply", message("unsubscribe", sender="no-reply@shop.example"), IGNORED, NOTHING),
    # Only automatic mail is ignored: whatever else a person writes reaches a person.
    (
        "signature only",
        message("Thanks for the fast delivery!\n-- \nClara\nTo unsubscribe from my newsletter, reply STOP"),
        QUEUED,
        NOTHING,
    ),
    ("thanks", message("The Brahms arrived today, thank you."), QUEUED, NOTHING),
    ("attachment only", attachment_only(), QUEUED, NOTHING),
    ("scanned letter", scanned_letter(), QUEUED, NOTHING),
    (
        "unknown language",
        message("Hei, en halua enää teidän luetteloitanne. Kiitos!", subject="Luettelot"),
        QUEUED,
        NOTHING,
    ),
    ("polish", message("Proszę o usunięcie moich danych z bazy wysyłkowej.", subject="Prośba"), QUEUED, NOTHING),
    ("odd charset", odd_charset(), APPLIED, EMAIL),
    ("garbage", b"\x00\xff\xfe this is not an email at all", QUEUED, NOTHING),
]


@pytest.fixture(autouse=True)
def customer():
    user = User.objects.create_user(email=CUSTOMER, password="a-long-passphrase", email_verified_at=timezone.now())
    for purpose in Purpose.values:
        services.consent_record(email=CUSTOMER, purpose=purpose, action="granted", source=Source.DEFAULT, wording="x")
    return user


@pytest.mark.parametrize(("name", "raw", "state", "stopped"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_message_gets_the_expected_outcome(name, raw, state, stopped, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = process_message(raw)
    assert request.state == state, request.reason
    granted = dict(Consent.objects.filter(email=CUSTOMER).values_list("purpose", "granted"))
    assert {p for p, g in granted.items() if not g} == stopped, request.reason
    if stopped:
        (confirmation,) = mail.outbox
        assert confirmation.to == [CUSTOMER] and "/offers/preferences/" in confirmation.body  # a way to undo
        assert ("left those on for now" in confirmation.body) == (state == QUEUED)
        event = ConsentEvent.objects.filter(source=Source.SERVICE_EMAIL).first()
        assert event.reference == request.message_id and event.action == "withdrawn"
    else:
        assert mail.outbox == [], "nothing changed, so nothing is confirmed"


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 40


def test_a_message_is_acted_on_once():
    raw = message("Please stop sending me your catalogue.", message_id="<once@mail.example>")
    assert process_message(raw).state == APPLIED
    assert process_message(raw) is None
    assert OptOutRequest.objects.count() == 1
    assert ConsentEvent.objects.filter(source=Source.SERVICE_EMAIL).count() == 1


def test_opt_ins_are_never_taken_by_email(customer):
    services.consent_withdraw(email=CUSTOMER, purpose=Purpose.PROMO_EMAIL, source=Source.ACCOUNT, wording="no")
    process_message(message("Please subscribe me to your newsletter again."))
    assert not services.consent_granted(CUSTOMER, Purpose.PROMO_EMAIL)


def test_guest_customers_are_matched_through_their_orders():
    import uuid

    from orders.cart import CartLine
    from orders.services import order_place
    from tests.factories import OfferFactory, checkout_details

    offer = OfferFactory()
    order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=None,
        checkout=checkout_details(email="guest@example.com"),
        checkout_token=uuid.uuid4(),
    )
    assert process_message(message("No more catalogues please", sender="guest@example.com")).state == APPLIED


def test_a_huge_message_is_handled(django_capture_on_commit_callbacks):
    raw = message("Please stop sending me your catalogue.\n" + "la " * 1_500_000)
    request = process_message(raw)
    assert request.state == APPLIED and len(request.raw) <= 200_000


def test_staff_apply_or_dismiss_queued_requests_in_one_click(admin_client, django_capture_on_commit_callbacks):
    queued = process_message(message("Don't stop the catalogue, but unsubscribe me from the emails."))
    other = process_message(message("Unsubscribe me from the catalogue", sender="stranger@example.net"))
    page = admin_client.get(f"/admin/privacy/optoutrequest/{queued.pk}/change/").content.decode()
    assert "unsubscribe me from the emails" in page
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/privacy/optoutrequest/", {"action": "apply_email", "_selected_action": [queued.pk]})
    admin_client.post("/admin/privacy/optoutrequest/", {"action": "dismiss", "_selected_action": [other.pk]})
    queued.refresh_from_db()
    other.refresh_from_db()
    assert queued.state == APPLIED and queued.handled_by.is_superuser
    assert not services.consent_granted(CUSTOMER, Purpose.PROMO_EMAIL)
    assert services.consent_granted(CUSTOMER, Purpose.POSTAL)
    assert other.state == "dismissed"


def test_command_reads_stdin_mbox_and_maildir(tmp_path, monkeypatch, capsys):
    import io
    import sys

    box = mailbox.mbox(tmp_path / "service.mbox")
    box.add(message("No more catalogues please", message_id="<mbox-1@mail.example>"))
    box.add(message("Thanks!", message_id="<mbox-2@mail.example>"))
    box.flush()
    call_command("process_service_mail", mbox=str(tmp_path / "service.mbox"))
    assert "Processed 2 message(s)" in capsys.readouterr().out
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(message("Unsubscribe", message_id="<maildir-1@mail.example>"))
    call_command("process_service_mail", maildir=str(tmp_path / "Maildir"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(message("STOP", message_id="<stdin@mail.example>"))))
    call_command("process_service_mail")
    assert OptOutRequest.objects.count() == 4


def mailgun_post(client, raw, *, timestamp=None, signature=None):
    """POST a message to the inbound route as Mailgun does, signed with the test key."""
    timestamp, token = str(int(time.time()) if timestamp is None else timestamp), "a" * 50
    expected = hmac.new(b"test-only-mailgun-signing-key", f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return client.post(
        "/inbound/mailgun/inbound_mime/",
        {
            "body-mime": raw.decode(),
            "timestamp": timestamp,
            "token": token,
            "signature": signature or expected,
            "recipient": "service@arkiv.example",
            "sender": CUSTOMER,
        },
    )


def test_mail_arriving_through_the_mailgun_inbound_webhook(client, django_capture_on_commit_callbacks):
    raw = message("Please stop sending me your catalogue.", message_id="<mailgun-1@mail.example>")
    with django_capture_on_commit_callbacks(execute=True):
        response = mailgun_post(client, raw)
    assert response.status_code == 200
    assert OptOutRequest.objects.get().state == APPLIED
    assert mailgun_post(client, raw, signature="0" * 64).status_code == 400


@pytest.mark.parametrize("age", [3600, 301, -3600], ids=["an hour old", "just over five minutes", "from the future"])
def test_a_correctly_signed_but_stale_inbound_post_is_refused(client, age):
    raw = message("Please stop sending me your catalogue.", message_id=f"<replayed-{age}@mail.example>")
    response = mailgun_post(client, raw, timestamp=int(time.time()) - age)
    assert response.status_code == 400
    assert not OptOutRequest.objects.exists()
    assert services.consent_granted(CUSTOMER, Purpose.POSTAL)


def test_an_inbound_post_with_a_malformed_timestamp_is_refused_not_a_server_error(client):
    raw = message("Please stop sending me your catalogue.")
    for timestamp in ["yesterday", "", "1e9"]:
        assert mailgun_post(client, raw, timestamp=timestamp).status_code == 400
    assert not OptOutRequest.objects.exists()


def test_a_signed_post_that_carries_no_readable_message_is_refused_not_a_server_error(client):
    timestamp, token = str(int(time.time())), "b" * 50
    signed = {
        "timestamp": timestamp,
        "token": token,
        "signature": hmac.new(
            b"test-only-mailgun-signing-key", f"{timestamp}{token}".encode(), hashlib.sha256
        ).hexdigest(),
    }
    for url, extra in [
        ("/inbound/mailgun/inbound_mime/", {}),  # no message at all
        ("/inbound/mailgun/inbound_mime/", {"event": "delivered"}),  # a tracking event on the inbound route
        ("/inbound/mailgun/inbound/", {"attachment-count": "two", "from": CUSTOMER, "subject": "stop"}),
        ("/inbound/mailgun/inbound/", {"attachment-count": "1", "content-id-map": "{not json"}),
    ]:
        assert client.post(url, {**signed, **extra}).status_code == 400, extra
    assert not OptOutRequest.objects.exists()


def test_only_the_inbound_route_of_the_mail_provider_is_exposed(client):
    for url in ["/inbound/mailgun/tracking/", "/inbound/sendgrid/inbound/", "/inbound/postmark/tracking/"]:
        assert client.post(url, {}).status_code == 404


def test_nul_characters_anywhere_are_stored_safely(django_capture_on_commit_callbacks):
    raw = (
        b"From: clara@example.com\r\nSubject: stop\x00it\r\nMessage-ID: <nul\x00@mail.example>\r\n\r\n"
        b"Please stop sending me your catalogue.\x00\r\n"
    )
    request = process_message(raw)
    assert request.state == APPLIED and "\x00" not in request.raw + request.subject + request.message_id


class _FakeImapHandler:
    """Just enough of IMAP4rev1 (RFC 3501) for imaplib: one mailbox of unseen messages."""

    def __init__(self, messages):
        self.messages = messages
        self.seen = set()
        self.logins = []

    def serve(self, sock):
        stream = sock.makefile("rwb")

        def send(line):
            stream.write(line if isinstance(line, bytes) else line.encode())
            stream.write(b"\r\n")
            stream.flush()

        send("* OK fake IMAP ready")
        while True:
            line = stream.readline().decode().strip()
            if not line:
                return
            tag, command, *rest = line.split(" ")
            command = command.upper()
            if command == "CAPABILITY":
                send("* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                self.logins.append([part.strip('"') for part in rest])
            elif command == "SELECT":
                send(f"* {len(self.messages)} EXISTS")
            elif command == "SEARCH":
                unseen = [str(n) for n in range(1, len(self.messages) + 1) if n not in self.seen]
                send("* SEARCH " + " ".join(unseen))
            elif command == "FETCH":
                number = int(rest[0])
                body = self.messages[number - 1]
                stream.write(f"* {number} FETCH (RFC822 {{{len(body)}}}\r\n".encode() + body + b")\r\n")
                stream.flush()
            elif command == "STORE":
                self.seen.add(int(rest[0]))
            elif command == "LOGOUT":
                send("* BYE")
                send(f"{tag} OK LOGOUT completed")
                return
            send(f"{tag} OK {command} completed")


def test_command_reads_unseen_mail_over_imap(capsys):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    fake = _FakeImapHandler(
        [
            message("No more catalogues please", message_id="<imap-1@mail.example>"),
            message("Unsubscribe", message_id="<imap-2@mail.example>"),
        ]
    )

    def accept():
        connection, _ = server.accept()
        with connection:
            fake.serve(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    call_command("process_service_mail", imap=f"imap://service%40arkiv.example:s3cret@127.0.0.1:{port}/INBOX")
    thread.join(timeout=10)
    server.close()
    assert "Processed 2 message(s)" in capsys.readouterr().out
    assert set(OptOutRequest.objects.values_list("message_id", flat=True)) == {
        "<imap-1@mail.example>",
        "<imap-2@mail.example>",
    }
    assert fake.seen == {1, 2} and fake.logins == [["service@arkiv.example", "s3cret"]]


def test_the_confirmation_is_an_automatic_reply_that_answers_to_service(django_capture_on_commit_callbacks):
    raw = message("Please stop sending me your catalogue.", message_id="<ask-1@mail.example>")
    with django_capture_on_commit_callbacks(execute=True):
        process_message(raw)
    (reply,) = mail.outbox
    headers = reply.message()
    assert headers["Auto-Submitted"] == "auto-replied"  # RFC 3834: their autoresponder must not answer it
    assert reply.reply_to == ["service@arkiv.example"]
    assert headers["In-Reply-To"] == "<ask-1@mail.example>"
    assert "stopped offers by post" in reply.body


def test_a_second_identical_opt_out_gets_no_second_reply(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = process_message(message("No more catalogues please.", message_id="<first@mail.example>"))
        second = process_message(message("No more catalogues please.", message_id="<second@mail.example>"))
    assert (first.state, second.state) == (APPLIED, APPLIED)
    assert len(mail.outbox) == 1
    assert "nothing changed" in second.reason
    assert ConsentEvent.objects.filter(source=Source.SERVICE_EMAIL).count() == 1


def test_staff_applying_a_request_that_changes_nothing_send_no_reply(admin_client, django_capture_on_commit_callbacks):
    services.consent_withdraw(email=CUSTOMER, purpose=Purpose.PROMO_EMAIL, source=Source.ACCOUNT, wording="no")
    queued = process_message(message("Don't stop the catalogue, but unsubscribe me from the emails."))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/privacy/optoutrequest/", {"action": "apply_email", "_selected_action": [queued.pk]})
    queued.refresh_from_db()
    assert queued.state == APPLIED and mail.outbox == []


def test_a_bare_unsubscribe_stops_everything_when_no_email_opt_in_was_confirmed(django_capture_on_commit_callbacks):
    services.consent_withdraw(email=CUSTOMER, purpose=Purpose.PROMO_EMAIL, source=Source.ACCOUNT, wording="no")
    services.promo_optin_request(email=CUSTOMER, source=Source.ACCOUNT)  # asked again, never confirmed
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = process_message(message("", subject="Unsubscribe"))
    assert request.state == APPLIED
    assert not services.consent_granted(CUSTOMER, Purpose.POSTAL)
    assert not Consent.objects.get(email=CUSTOMER, purpose=Purpose.PROMO_EMAIL).pending_confirmation
    (reply,) = mail.outbox
    assert "left those on" not in reply.body


def test_staff_finish_a_request_whose_channel_was_unclear(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = process_message(message("STOP"))
    assert request.state == QUEUED and not services.consent_granted(CUSTOMER, Purpose.POSTAL)
    assert services.consent_granted(CUSTOMER, Purpose.PROMO_EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/privacy/optoutrequest/", {"action": "apply_both", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.state == APPLIED and not services.consent_granted(CUSTOMER, Purpose.PROMO_EMAIL)
    assert [m.subject for m in mail.outbox] == ["We have stopped the offers you asked about"] * 2
    assert "stopped offers by email." in mail.outbox[1].body


def test_an_account_that_never_proved_its_address_is_not_a_known_sender():
    """Anyone can sign up with someone else's address; until it is proven, mail from that
    address must not change that person's offers."""
    victim = "ann.archer@example.com"
    User.objects.create_user(email=victim, password="a-long-passphrase")
    services.consent_record(email=victim, purpose=Purpose.POSTAL, action="granted", source=Source.DEFAULT, wording="x")
    request = process_message(message("No more catalogues please.", sender=victim))
    assert request.state == QUEUED and "not a known customer" in request.reason
    assert services.consent_granted(victim, Purpose.POSTAL)


def test_a_guest_whose_order_kept_the_capitals_they_typed_is_recognised(django_capture_on_commit_callbacks):
    guest_order("Ann.Archer@Example.COM")  # as older orders were stored
    services.consent_record(
        email="ann.archer@example.com", purpose=Purpose.POSTAL, action="granted", source=Source.DEFAULT, wording="x"
    )
    with django_capture_on_commit_callbacks(execute=True):
        request = process_message(message("No more catalogues please.", sender="ANN.ARCHER@example.com"))
    assert request.state == APPLIED and request.sender == "ann.archer@example.com"
    assert not services.consent_granted("Ann.Archer@Example.COM", Purpose.POSTAL)
    assert mail.outbox[-1].to == ["ann.archer@example.com"]


def test_older_order_emails_are_lower_cased_by_the_data_migration():
    import importlib

    from django.apps import apps

    from orders.models import Order

    order = guest_order("Ann.Archer@Example.COM")
    migration = importlib.import_module("orders.migrations.0005_lower_case_order_emails")
    migration.lower_case_order_emails(apps, None)
    order.refresh_from_db()
    assert order.email == "ann.archer@example.com"
    assert Order.objects.filter(email="ann.archer@example.com").count() == 1


def test_checkout_stores_the_email_as_lower_case(client, payment_sandbox):
    from decimal import Decimal

    from orders.models import Order
    from tests.factories import OfferFactory

    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    details = {
        "email": " Ann.Archer@Example.COM ",
        "phone": "+44 20 7946 0000",
        "billing_name": "Ann Archer",
        "billing_line1": "4 Ambridge Road",
        "billing_city": "Borchester",
        "billing_postcode": "B1 1AA",
        "billing_country": "GB",
        "same_address": "on",
        "shipping_method": "standard",
        "age": "adult",
    }
    response = client.post("/checkout/", {**details, "checkout_token": token})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Order.objects.get().email == "ann.archer@example.com"


def test_command_gives_up_on_an_imap_server_that_never_answers(settings):
    import socket

    from django.core.management.base import CommandError

    settings.SERVICE_MAIL_IMAP_TIMEOUT_SECONDS = 0.5
    silent = socket.socket()  # accepts the connection (backlog) and never sends a greeting
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    port = silent.getsockname()[1]
    try:
        with pytest.raises(CommandError, match="Could not reach the IMAP server"):
            call_command("process_service_mail", imap=f"imap://service:s3cret@127.0.0.1:{port}/INBOX")
    finally:
        silent.close()
    assert not OptOutRequest.objects.exists()


def test_command_reports_a_refused_imap_login_clearly():
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def refuse_login():
        connection, _ = server.accept()
        with connection, connection.makefile("rwb") as stream:
            stream.write(b"* OK ready\r\n")
            stream.flush()
            while line := stream.readline():
                tag, command = line.decode().split(" ")[:2]
                if command.upper().strip() == "CAPABILITY":
                    stream.write(f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n".encode())
                elif command.upper().strip() == "LOGIN":
                    stream.write(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n".encode())
                else:
                    stream.write(f"{tag} OK done\r\n".encode())
                stream.flush()

    thread = threading.Thread(target=refuse_login, daemon=True)
    thread.start()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Invalid credentials"):
        call_command("process_service_mail", imap=f"imap://service:wrong@127.0.0.1:{server.getsockname()[1]}/INBOX")
    server.close()
