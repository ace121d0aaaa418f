"""Mail to service@ posted by Mailgun's inbound route (django-anymail). Anymail checks
the signature; this view also refuses posts whose signed timestamp is stale, so a
captured post cannot be replayed later to act on someone's offers again."""

import time

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.core.exceptions import BadRequest


class ServiceMailInboundView(MailgunInboundWebhookView):
    def validate_request(self, request):
        # Anymail runs every validate_request in the class chain (signature first), so
        # this only adds the freshness rule.
        try:
            timestamp = int(request.POST["timestamp"])
        except (KeyError, ValueError):
            raise AnymailWebhookValidationFailure("Mailgun inbound post without a valid timestamp") from None
        if abs(time.time() - timestamp) > settings.INBOUND_MAX_AGE_SECONDS:
            raise AnymailWebhookValidationFailure("Mailgun inbound post is stale (timestamp too old or in the future)")

    def parse_events(self, request):
        # A correctly signed post we cannot read (no message, a tracking event, a store()
        # route) is answered 400, so the provider reports it instead of retrying forever;
        # failures while acting on a readable message stay 5xx and are retried.
        try:
            return super().parse_events(request)
        except (AnymailConfigurationError, KeyError, ValueError, TypeError) as exc:
            raise BadRequest(f"Not an inbound message this route can read: {exc.__class__.__name__}") from exc
