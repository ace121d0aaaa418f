"""Mail to service@ posted by Mailgun's inbound route (django-anymail). Anymail checks
the signature; this view also refuses posts whose signed timestamp is stale, so a
captured post cannot be replayed later to act on someone's offers again."""

import time

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings


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
