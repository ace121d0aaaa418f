"""The one page whose form may lead off-site: checkout posts to us, and we answer with a
redirect to the payment processor's hosted page. Browsers apply the page's form-action
to that redirect, so the page must name the processor's origin."""

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings

STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


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
