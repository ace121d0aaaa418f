"""Abuse limits shared by every process: who the client is (the one trusted-proxy rule
that sign-in lockouts and form rate limits both use), the form rate limits, and the
page a limited visitor sees."""

import ipaddress

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.decorators import ratelimit

from arkiv.addresses import normalise_email


def _valid_ip(value):
    """The client an address stands for: an IPv4 address as written (also when it comes
    IPv4-mapped), an IPv6 address as its network of CLIENT_IPV6_PREFIX_LENGTH bits, since
    one host may hop between the addresses of its network at will."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(
            ipaddress.ip_network(f"{address}/{settings.CLIENT_IPV6_PREFIX_LENGTH}", strict=False).network_address
        )
    return str(address)


def client_ip(request):
    """The visitor's address. Only the proxy header named in TRUSTED_PROXY_HEADER is read,
    and in it only the entry our own proxies added (TRUSTED_PROXY_COUNT from the right):
    anything further left was written by the client and may be forged. Without the
    setting, or when the header is missing or malformed, the socket address counts.
    An IPv6 client counts as its network (see _valid_ip)."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"
    header = settings.TRUSTED_PROXY_HEADER
    if not header:
        return remote
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    entries = [entry for entry in value.split(",") if entry.strip()]
    if len(entries) < settings.TRUSTED_PROXY_COUNT:
        return remote
    return _valid_ip(entries[-settings.TRUSTED_PROXY_COUNT]) or remote


def client_ip_key(group, request):
    """django-ratelimit key: the client address under the trusted-proxy rule."""
    return client_ip(request)


def post_email_key(group, request):
    """django-ratelimit key: the address a form would send mail to, so one inbox is not flooded."""
    return normalise_email(request.POST.get("email"))


def user_key(group, request):
    """django-ratelimit key: the signed-in account (its address for anyone else)."""
    return f"user:{request.user.pk}" if request.user.is_authenticated else client_ip(request)


def limited(name, key=client_ip_key):
    """Limit POSTs of one form (RATE_LIMITS[name], e.g. "5/h") per key in the shared
    rate-limit cache; over the limit the visitor gets `rate_limited` (429)."""

    def rate(group, request):
        return settings.RATE_LIMITS[name]

    return ratelimit(group=f"arkiv.{name}.{key.__name__}", key=key, rate=rate, method="POST", block=True)


def rate_limited(request, exception=None):
    """What a visitor sees after sending a form too often (RATELIMIT_VIEW)."""
    return render(request, "429.html", status=429)


def sign_in_locked(request, original_response=None, credentials=None):
    """What a sign-in gets while its (email, address) pair is cooling off
    (AXES_LOCKOUT_CALLABLE): the shop's page with the wait and a way forward, status 429."""
    from accounts.services import sign_in_cool_off

    minutes = max(1, int(sign_in_cool_off(request).total_seconds() // 60))
    return render(request, "accounts/sign_in_locked.html", {"minutes": minutes}, status=429)
