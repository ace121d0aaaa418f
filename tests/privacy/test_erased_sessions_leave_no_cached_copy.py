"""Sessions are read from the shared cache (cached_db) when it is not the database:
erasing an account must end its sessions there too, not only in the database, or a device still signed in would go on
with the erased account's cart from the cached copy."""

import pytest
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from accounts.models import User
from tests.catalog.test_shared_page_cache import redis_url  # noqa: F401  (a real redis-server)
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"
EMAIL = "clara@example.com"


def _erase_while_a_phone_holds_a_cart(client):
    """Clara has a cart on her phone, then deletes her account from her laptop. Returns
    the phone and its session key."""
    user = User.objects.create_user(email=EMAIL, password=PASSWORD, email_verified_at=timezone.now())
    phone = Client()
    phone.force_login(user)
    assert phone.post("/cart/add/", {"offer": OfferFactory(release__title="Kinderszenen").pk, "quantity": 1})
    key = phone.cookies["sessionid"].value
    # The phone's session is served from its cached copy.
    assert caches["shared"].get(KEY_PREFIX + key)["cart_count"] == 1
    assert "Kinderszenen" in phone.get("/cart/").content.decode()

    client.force_login(user)
    assert client.post("/account/privacy/delete/", {"password": PASSWORD}).status_code == 302
    return phone, key


def test_an_erased_accounts_session_cookie_no_longer_works_though_it_was_cached(client, settings):
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sessions"},
    }
    phone, key = _erase_while_a_phone_holds_a_cart(client)

    assert caches["shared"].get(KEY_PREFIX + key) is None
    page = phone.get("/cart/").content.decode()
    assert "Kinderszenen" not in page and "Your cart is empty" in page
    assert phone.get("/account/").status_code == 302  # signed out


def test_with_the_database_cache_sessions_are_read_from_the_session_table_alone(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    phone = Client()
    phone.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    with CaptureQueriesContext(connection) as ctx:
        phone.get("/cart/")
    assert not any("arkiv_rate_limits" in query["sql"] for query in ctx.captured_queries)


def test_an_erased_accounts_session_is_gone_from_redis_too(client, settings, redis_url):  # noqa: F811
    import redis

    settings.CACHES = {**settings.CACHES, "shared": {"BACKEND": "arkiv.cache.RedisCache", "LOCATION": redis_url}}
    phone, key = _erase_while_a_phone_holds_a_cart(client)

    assert not [k for k in redis.Redis.from_url(redis_url).scan_iter() if key.encode() in k]
    page = phone.get("/cart/").content.decode()
    assert "Kinderszenen" not in page and "Your cart is empty" in page
