"""Throughput of the privacy jobs, on a fresh SQLite database (or DATABASE_URL):
messages per second through process_service_mail on an mbox of 10,000 messages, and the
time to send an email campaign to 10,000 opted-in customers with the locmem backend.

    python bench/privacy_figures.py [--messages 10000] [--recipients 10000]"""

import argparse
import mailbox
import sys
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.inprocess import prepare  # noqa: E402  (after ROOT is on the path)

WORK = prepare("privacy.sqlite3", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")

BODIES = [
    "Please stop sending me your catalogue.",
    "No more newsletters, thank you.",
    "Unsubscribe",
    "Please keep sending the catalog, I love it!",
    "The Brahms arrived today, thank you.",
    "Bitte keine Kataloge mehr schicken.",
    "Don't stop the catalogue, but unsubscribe me from the emails.",
    "Stop the emails please.\n\nOn Mon, 2 Nov 2026, Arkiv wrote:\n> Spring offers\n> keep sending",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=10_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from privacy.campaigns import campaign_send
    from privacy.models import Consent, EmailCampaign, Purpose

    customers = [f"customer{n}@example.com" for n in range(2_000)]
    User.objects.bulk_create([User(email=e) for e in customers], ignore_conflicts=True)
    box = mailbox.mbox(WORK / "service.mbox")
    box.lock()
    for n in range(args.messages):
        msg = EmailMessage()
        known = n % 3 != 0
        msg["From"] = customers[n % len(customers)] if known else f"stranger{n}@example.net"
        msg["Subject"] = "Offers"
        msg["Message-ID"] = f"<bench-{n}@mail.example>"
        if n % 10 == 0:
            msg["Auto-Submitted"] = "auto-replied"
        msg.set_content(BODIES[n % len(BODIES)])
        box.add(msg)
    box.flush()
    box.unlock()
    started = time.perf_counter()
    call_command("process_service_mail", mbox=str(WORK / "service.mbox"))
    elapsed = time.perf_counter() - started
    rate = args.messages / elapsed
    print(f"process_service_mail: {args.messages:,} messages in {elapsed:.1f} s = {rate:,.0f} messages/s")

    Consent.objects.bulk_create(
        [
            Consent(email=f"subscriber{n}@example.com", purpose=Purpose.PROMO_EMAIL, granted=True)
            for n in range(args.recipients)
        ],
        batch_size=2_000,
    )
    campaign = EmailCampaign.objects.create(subject="New releases", body_text="This month's new recordings.")
    started = time.perf_counter()
    sent = campaign_send(campaign)
    elapsed = time.perf_counter() - started
    print(
        f"send_email_campaign: {sent:,} recipients in {elapsed:.1f} s = {sent / elapsed:,.0f} emails/s "
        f"({len(mail.outbox):,} in the locmem outbox)"
    )
    started = time.perf_counter()
    again = campaign_send(campaign)
    print(f"sending it again: {again} sent in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
