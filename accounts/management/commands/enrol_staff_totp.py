"""Enrol a staff member's authenticator app: the second factor the admin asks for."""

import io

import segno
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Give a staff member a TOTP secret for the admin's second factor; prints the otpauth:// "
        "URI and a QR code to scan. Refuses customers. --replace retires the old device."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--replace", action="store_true", help="Retire the staff member's existing authenticator (lost phone)."
        )

    @transaction.atomic
    def handle(self, *args, email, replace, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with the email {email}.")
        if not (user.is_staff and user.is_active):
            raise CommandError(f"{email} is not an active staff account; customers do not use the admin.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists() and not replace:
            raise CommandError(f"{email} already has an authenticator. Use --replace to retire it and enrol a new one.")
        existing.delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        uri = device.config_url
        qr = io.StringIO()
        segno.make(uri, error="m").terminal(out=qr, compact=True)
        self.stdout.write(f"Scan this with the authenticator app of {user.email}, or enter the URI by hand:\n")
        self.stdout.write(qr.getvalue())
        self.stdout.write(uri)
        self.stdout.write("The admin now asks for the six-digit code it shows. This secret is not shown again.")
