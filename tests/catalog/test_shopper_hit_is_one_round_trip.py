"""With one Redis for pages and sessions, a shopper's cached page is one round trip to
Redis: the page, its versions and the shopper's session are read together, and the
shopper still sees their own cart."""

import pytest

from tests.catalog.test_shared_page_cache import redis_url  # noqa: F401  (a real redis-server)
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


def redis_commands(server):
    """Commands the server ran since its statistics were reset, but for our own looking."""
    stats = server.info("commandstats")
    ours = {"cmdstat_info", "cmdstat_config|resetstat"}
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items() if name not in ours}


def test_a_shoppers_cached_page_and_session_come_in_one_round_trip(client, settings, redis_url):  # noqa: F811
    import redis

    one_redis = {"BACKEND": "arkiv.cache.RedisCache", "LOCATION": redis_url}
    settings.CACHES = {**settings.CACHES, "default": one_redis, "shared": one_redis}
    offer = OfferFactory(stock=5)
    url = offer.release.get_absolute_url()
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 2})
    client.get(url)  # the page is cached, and the "added" message read
    server = redis.Redis.from_url(redis_url)
    server.config_resetstat()

    page = client.get(url).content.decode()

    assert 'id="cart-count-badge">2<' in page
    assert redis_commands(server) == {"mget": 1}
