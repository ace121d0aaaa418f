"""Keep email addresses and emailed-link tokens out of the logs.

The links we email carry a token in their path (offers preferences, unsubscribe and
confirmation, account verification, password reset). Anyone who reads an access or
error log could follow them, so every record of the request and server loggers
(Django's and gunicorn's) is rewritten before a handler sees it."""

import logging
import re

# The path segments after these prefixes are secrets; an optional /<lang>/ prefix first.
_TOKEN_PATH = re.compile(
    r"(/(?:[a-z]{2}(?:-[a-z]+)?/)?(?:offers/(?:confirm|preferences|unsubscribe)|account/verify|account/password-reset))"
    r"/(?!sent/(?:[\s\"'?#]|$))[^\s\"'?#]+",
    re.IGNORECASE,
)
# Raw or percent-encoded '@' (%40) between plausible address parts.
_EMAIL = re.compile(r"[\w.!#$%'*+^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)

REDACTED = "[redacted]"
LOGGERS = ("django.request", "django.server", "gunicorn.access", "gunicorn.error")


def redact(text):
    """The text with link tokens and email addresses replaced."""
    text = _TOKEN_PATH.sub(lambda m: f"{m.group(1)}/{REDACTED}", text)
    return _EMAIL.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message (with its arguments merged in) without the secrets."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a badly formed record is logged as it is
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            # Handlers that describe the request (e.g. an error email) read it from here.
            record.request = None
        return True


def install(loggers=LOGGERS):
    """Attach the filter to loggers that are configured outside Django's LOGGING (gunicorn
    sets up its own); idempotent."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
