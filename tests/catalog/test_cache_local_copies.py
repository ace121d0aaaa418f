"""Each server process keeps copies of the shared cache's pages it served last: a hit then
reads only the page's versions from Redis, and a copy is never staler than the shared
entry (a real redis-server)."""

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.caching import local_pages
from catalog.models import Offer
from tests.catalog.test_shared_page_cache import redis_url  # noqa: F401  (a real redis-server)
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_pages(settings, redis_url):  # noqa: F811
    import redis

    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "arkiv.cache.RedisCache", "LOCATION": redis_url}}
    settings.PAGE_CACHE_STATUS_HEADER = True
    local_pages.clear()
    yield redis.Redis.from_url(redis_url)
    local_pages.clear()


def sent_by_redis(server):
    return server.info("stats")["total_net_output_bytes"]


def test_a_hit_from_the_process_copy_reads_the_versions_but_not_the_page_from_redis(client, redis_pages):
    offer = OfferFactory(price=Decimal("19.99"))
    url = offer.release.get_absolute_url()
    page = client.get(url).content
    client.get(url)

    before = sent_by_redis(redis_pages)
    with CaptureQueriesContext(connection) as queries:
        hit = client.get(url)
    sent = sent_by_redis(redis_pages) - before

    assert hit["X-Page-Cache"] == "hit" and "€19.99" in hit.content.decode()
    assert not queries.captured_queries
    assert sent < len(page) / 4, f"Redis sent {sent} bytes for a page of {len(page)}"


def test_a_process_copy_is_not_served_after_a_change_another_server_has_rendered(client, redis_pages):
    offer = OfferFactory(price=Decimal("19.99"))
    url = offer.release.get_absolute_url()
    assert "€19.99" in client.get(url).content.decode()
    client.get(url)  # this process now serves its own copy
    this_servers_copies = dict(local_pages._entries)

    offer.price = Decimal("9.99")
    offer.save()
    local_pages.clear()  # another server, without copies, renders the new page for everyone
    assert "€9.99" in Client().get(url).content.decode()
    for key, entry in this_servers_copies.items():  # back on this server, with its old copy
        local_pages.put(key, entry)

    again = client.get(url)
    body = again.content.decode()
    assert "€9.99" in body and "€19.99" not in body
    assert again["X-Page-Cache"] == "hit"  # the other server's page, not a third render


def test_a_process_copy_expires_with_the_shared_entry(client, redis_pages, monkeypatch):
    monkeypatch.setattr("catalog.caching.PAGE_TTL", 1)
    offer = OfferFactory(price=Decimal("19.99"))
    url = offer.release.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    # A change no signal reports (as a raw SQL update would): only the entry's expiry
    # brings it to the page.
    Offer.objects.filter(pk=offer.pk).update(price=Decimal("9.99"))
    time.sleep(1.1)

    body = client.get(url).content.decode()
    assert "€9.99" in body and "€19.99" not in body


def test_a_visitors_own_parts_are_filled_in_on_the_process_copy_for_each_visitor(client, redis_pages):
    offer = OfferFactory(stock=5)
    url = offer.release.get_absolute_url()
    client.get(url)
    shopper = Client()
    shopper.post("/cart/add/", {"offer": offer.pk, "quantity": 3})
    shopper.get(url)  # the "added" message is read

    theirs, anonymous = shopper.get(url), client.get(url)

    assert theirs["X-Page-Cache"] == anonymous["X-Page-Cache"] == "hit"
    assert 'id="cart-count-badge">3<' in theirs.content.decode()
    assert 'id="cart-count-badge">0<' in anonymous.content.decode()


def _start_redis(port, folder):
    import shutil
    import subprocess

    import redis

    server = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):  # until it answers, not for a fixed time
        try:
            client.ping()
            return server
        except redis.ConnectionError:
            time.sleep(0.05)
    return server


def test_pages_are_cached_again_right_after_redis_restarts(client, settings, tmp_path):
    import shutil

    from tests.catalog.test_shared_page_cache import _free_port

    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")
    port = _free_port()
    location = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "arkiv.cache.RedisCache", "LOCATION": location}}
    settings.PAGE_CACHE_STATUS_HEADER = True
    server = _start_redis(port, tmp_path)
    try:
        url = OfferFactory().release.get_absolute_url()
        client.get(url)
        assert client.get(url)["X-Page-Cache"] == "hit"
        server.terminate()
        server.wait(timeout=10)
        server = _start_redis(port, tmp_path)  # empty, and every connection to the old one closed

        assert client.get(url)["X-Page-Cache"] == "miss"  # nothing cached in the new Redis yet
        assert client.get(url)["X-Page-Cache"] == "hit"  # cached there at once, not after an outage
    finally:
        server.terminate()
        server.wait(timeout=10)
