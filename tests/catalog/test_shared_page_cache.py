"""The page cache every server shares: Redis (a real redis-server) or the database, and
production refuses a cache each process keeps for itself."""

import os
import shutil
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import OfferFactory

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("ARKIV_REQUIRE_REDIS", "").lower() in {"1", "true", "yes"}:
            pytest.fail("ARKIV_REQUIRE_REDIS is set but redis-server is not installed")
        pytest.skip("needs redis-server (apt-get install redis-server)")
    import redis

    port = _free_port()
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):  # wait until it answers, not for a fixed time
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def redis_page_cache(settings, redis_url):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url},
    }
    return redis_url


@pytest.mark.django_db
def test_pages_are_cached_in_redis_and_a_price_change_expires_them(client, redis_page_cache):
    import redis

    offer = OfferFactory(price=Decimal("19.99"))
    url = offer.release.get_absolute_url()
    assert "€19.99" in client.get(url).content.decode()
    assert any(b"catalog:page:" in key for key in redis.Redis.from_url(redis_page_cache).scan_iter())
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    assert not ctx.captured_queries
    offer.price = Decimal("9.99")
    offer.save()
    body = client.get(url).content.decode()
    assert "€9.99" in body and "€19.99" not in body


def _other_process(code, **env):
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "arkiv.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.postgres
def test_a_price_change_made_in_another_process_is_seen_on_the_next_request(
    postgres, transactional_db, client, redis_page_cache
):
    """Two server processes, one shared cache: the page is stale for no request after
    the other process commits its change."""
    offer = OfferFactory(price=Decimal("19.99"))
    url = offer.release.get_absolute_url()
    assert "€19.99" in client.get(url).content.decode()
    db = connection.settings_dict
    result = _other_process(
        f"from catalog.models import Offer\no = Offer.objects.get(pk={offer.pk})\no.price = '9.99'\no.save()",
        PAGE_CACHE="redis",
        REDIS_URL=redis_page_cache,
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    assert result.returncode == 0, result.stderr
    body = client.get(url).content.decode()
    assert "€9.99" in body and "€19.99" not in body


def manage(*args, **env):
    # The browser tests allow async-unsafe calls in this process; a deployment check must not inherit that.
    dropped = {"DEBUG", "PAGE_CACHE", "REDIS_URL", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "ALLOWED_HOSTS": "shop.example", "DATABASE_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_a_page_cache_kept_per_process():
    result = manage("check", "--deploy", PAGE_CACHE="locmem")
    assert result.returncode != 0
    assert "catalog.E001" in result.stderr + result.stdout


def test_production_pages_are_cached_in_the_database_without_redis_and_in_redis_with_it():
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    database = manage("shell", "-c", show)
    assert "DatabaseCache" in database.stdout, database.stdout + database.stderr
    redis = manage("shell", "-c", show, REDIS_URL="redis://127.0.0.1:1/0")
    assert "RedisCache" in redis.stdout, redis.stdout + redis.stderr
    check = manage("check", "--deploy", "--fail-level", "ERROR")
    assert check.returncode == 0, check.stdout + check.stderr
