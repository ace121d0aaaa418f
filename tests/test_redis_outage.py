"""Redis down or hung never costs a shopper a page: the catalog is rendered afresh,
sessions come from the database, catalog changes still save, and a Redis that does not
answer is waited on once, not on every request. Real sockets: a port where nothing
listens and a server that accepts and never answers."""

from decimal import Decimal

import pytest

from accounts.models import User
from tests.factories import OfferFactory
from tests.servers import SilentServer, closed_port

pytestmark = pytest.mark.django_db


def _redis_at(settings, port):
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    redis = {"BACKEND": "arkiv.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0", "OPTIONS": options}
    settings.CACHES = {"default": redis, "shared": dict(redis)}
    settings.REDIS_RETRY_SECONDS = 60


@pytest.fixture
def redis_refusing(settings):
    _redis_at(settings, closed_port())


@pytest.fixture
def redis_silent(settings):
    server = SilentServer()
    _redis_at(settings, server.port)
    yield server
    server.close()


def test_catalog_pages_are_served_and_prices_change_while_redis_refuses(client, redis_refusing):
    offer = OfferFactory(price=Decimal("19.99"))
    url = offer.release.get_absolute_url()

    first = client.get(url)
    assert first.status_code == 200 and "€19.99" in first.content.decode()

    # A staff price change saves (its invalidation cannot reach Redis) and shows at once.
    offer.price = Decimal("12.50")
    offer.save()
    second = client.get(url)
    assert second.status_code == 200
    assert "€12.50" in second.content.decode() and "€19.99" not in second.content.decode()


def test_a_signed_in_customer_stays_signed_in_while_redis_refuses(client, redis_refusing):
    customer = User.objects.create_user(email="clara@example.com", password="a-long-passphrase")
    client.force_login(customer)

    response = client.get("/account/")

    assert response.status_code == 200
    assert "clara@example.com" in response.content.decode()


def test_a_redis_that_never_answers_is_waited_on_once_not_on_every_request(client, redis_silent):
    offer = OfferFactory()
    url = offer.release.get_absolute_url()

    assert client.get(url).status_code == 200
    asked = len(redis_silent.connections)
    assert asked >= 1  # the first request did try Redis

    for _ in range(3):
        assert client.get(url).status_code == 200
    assert client.get("/").status_code == 200
    # Within REDIS_RETRY_SECONDS no request went back to the server that hung.
    assert len(redis_silent.connections) == asked
