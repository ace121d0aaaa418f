"""Absolute links into the shop for what is read away from it (emails), built from
ARKIV_SITE_URL rather than from a request's Host header."""

from django.conf import settings
from django.urls import reverse


def site_url(viewname, *args):
    """The absolute URL of a named view, e.g. site_url("privacy:unsubscribe", token)."""
    return settings.ARKIV_SITE_URL.rstrip("/") + reverse(viewname, args=args)
