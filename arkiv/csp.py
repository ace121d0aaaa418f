"""The Content-Security-Policy of every response (settings.CONTENT_SECURITY_POLICY), and
the one page whose form may lead off-site: checkout posts to us, and we answer with a
redirect to the payment processor's hosted page. Browsers apply the page's form-action
to that redirect, so the page must name the processor's origin."""

from functools import cache, wraps
from urllib.parse import urlsplit

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# What a view sets on its response to change or drop the policy (django-csp's decorators).
_PER_RESPONSE = [f"_csp_{part}{suffix}" for part in ("config", "update", "replace", "exempt") for suffix in ("", "_ro")]


def payment_page_origin():
    """Where the hosted payment page is served: configured, the sandbox, or Stripe."""
    if settings.PAYMENT_PAGE_ORIGIN:
        return settings.PAYMENT_PAGE_ORIGIN
    if settings.STRIPE_API_BASE:
        parts = urlsplit(settings.STRIPE_API_BASE)
        return f"{parts.scheme}://{parts.netloc}"
    return STRIPE_CHECKOUT_ORIGIN


def posts_to_payment_page(view):
    """Let the view's form be redirected to the payment page, and nowhere else."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._csp_update = {"form-action": [payment_page_origin()]}
        return response

    return wrapped


@cache
def _site_policy():
    """The headers every unadjusted response gets, built from the settings once; None
    when a setting excludes URL prefixes (then django-csp decides per request)."""
    settings_names = {HEADER: "CONTENT_SECURITY_POLICY", HEADER_REPORT_ONLY: "CONTENT_SECURITY_POLICY_REPORT_ONLY"}
    if any((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") for name in settings_names.values()):
        return None
    headers = {HEADER: build_policy(), HEADER_REPORT_ONLY: build_policy(report_only=True)}
    return {header: value for header, value in headers.items() if value}


@receiver(setting_changed)
def _forget_site_policy(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policy.cache_clear()


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, but the shop-wide policy is built once rather than for
    every response: building it cost more than the rest of the middleware stack on a
    cached catalog page. Responses a view adjusts (checkout's form-action) or exempts,
    and pages that used a nonce, are left to django-csp as before."""

    def process_response(self, request, response):
        policy = _site_policy()
        adjusted = getattr(request, "_csp_nonce", None) or any(hasattr(response, name) for name in _PER_RESPONSE)
        if policy is None or adjusted or settings.DEBUG or HEADER in response or HEADER_REPORT_ONLY in response:
            return super().process_response(request, response)
        for header, value in policy.items():
            response[header] = value
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
