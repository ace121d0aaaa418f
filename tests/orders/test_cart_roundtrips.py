"""The cart page and add to cart ask the database less and still show what is true: the
shipping rates are kept between views until staff change one, the offers' prices and
stock are read on every view, a session is written by one statement, and a connection
the database dropped between two requests is replaced without the shopper noticing."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from orders.models import ShippingRate, ShippingZone
from privacy.models import AccountSession
from tests.factories import OfferFactory
from tests.orders.test_shipping_zones import cart_shipping

SHARED_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cart-roundtrips"}


@pytest.fixture
def shared_cache(settings):
    """A shared cache that is not the database (Redis in production): sessions and the
    shipping rates' version live in it."""
    from django.core.cache import caches

    settings.CACHES = {**settings.CACHES, "shared": SHARED_CACHE}
    caches["shared"].clear()
    yield
    caches["shared"].clear()


def tables_read(queries):
    return " ".join(query["sql"] for query in queries)


@pytest.mark.django_db
def test_a_repeated_cart_view_reads_the_offers_afresh_but_not_the_shipping_rates(shared_cache, client):
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    client.get("/cart/?country=GB")

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/cart/?country=GB").content.decode()

    assert "catalog_offer" in tables_read(captured)
    assert "orders_shippingzone" not in tables_read(captured)
    assert cart_shipping(page)[0].startswith("Standard (3-5 working days) to United Kingdom")


@pytest.mark.django_db
def test_a_rate_staff_change_shows_on_the_next_cart_page(shared_cache, client):
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 4})
    before = cart_shipping(client.get("/cart/?country=GB").content.decode())
    standard = ShippingRate.objects.get(zone__name="Domestic", method="standard")
    standard.price, standard.free_from = Decimal("3.50"), None
    standard.save()

    after = cart_shipping(client.get("/cart/?country=GB").content.decode())

    assert before[1] != "€3.50"
    assert after[1:] == ("€3.50", "€63.50")


@pytest.mark.django_db
def test_a_deleted_zone_is_not_offered_on_the_next_cart_page(shared_cache, client):
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    assert cart_shipping(client.get("/cart/?country=US").content.decode())[1] != "–"

    ShippingZone.objects.filter(rest_of_world=True).delete()

    assert cart_shipping(client.get("/cart/?country=US").content.decode())[1] == "–"


@pytest.mark.django_db
def test_a_stock_change_shows_on_the_next_cart_page_while_the_rates_are_kept(shared_cache, client):
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 3})
    client.get("/cart/")
    type(offer).objects.filter(pk=offer.pk).update(stock=2, price=Decimal("17.00"))

    page = client.get("/cart/").content.decode()

    assert "Only 2 left." in page
    assert "17.00" in page


# -- PostgreSQL: what each request costs in round trips ------------------------------------


def _skip_unless_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL to a PostgreSQL server")


def _backend_pid():
    return connection.connection.get_backend_pid()


def _terminate(pid):
    """Ends a server process from another connection, as an administrator or a restart
    would, and waits until it is gone."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(10_000):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    return
        raise AssertionError(f"server process {pid} did not end")
    finally:
        other.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_dropped_between_requests_does_not_fail_the_next_cart_page(client):
    _skip_unless_postgres()
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    assert client.post("/cart/add/", {"offer": offer.pk, "quantity": 1}).status_code == 302
    dropped = _backend_pid()

    _terminate(dropped)
    response = client.get("/cart/")

    assert response.status_code == 200
    assert offer.release.title in response.content.decode()
    assert _backend_pid() != dropped


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_serves_the_next_request_without_being_reopened(client):
    _skip_unless_postgres()
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    kept = _backend_pid()

    assert client.get("/cart/").status_code == 200
    assert _backend_pid() == kept


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_add_to_cart_writes_the_session_in_one_statement_and_it_is_kept(client):
    _skip_unless_postgres()
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})

    with CaptureQueriesContext(connection) as captured:
        client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})

    statements = [query["sql"].upper() for query in captured]
    assert not [sql for sql in statements if sql.startswith(("BEGIN", "SAVEPOINT"))]
    assert len([sql for sql in statements if "UPDATE" in sql]) == 1
    stored = AccountSession.objects.get(session_key=client.session.session_key)
    assert stored.get_decoded()["cart"][str(offer.pk)]["q"] == 2


REDIS_URL = os.environ.get("ARKIV_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_shared_cache(settings):
    """The shared cache in a real Redis, as every server of the shop shares it."""
    import redis
    from django.core.cache import caches

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {REDIS_URL} (ARKIV_TEST_REDIS_URL)")
    settings.CACHES = {**settings.CACHES, "shared": {"BACKEND": "arkiv.cache.RedisCache", "LOCATION": REDIS_URL}}
    caches["shared"].clear()
    yield
    caches["shared"].clear()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rate_changed_by_another_process_shows_on_this_process_next_cart_page(redis_shared_cache, client):
    _skip_unless_postgres()
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 4})
    assert cart_shipping(client.get("/cart/?country=GB").content.decode())[1] != "€3.50"
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
    change = (
        "from decimal import Decimal; from orders.models import ShippingRate;"
        "r = ShippingRate.objects.get(zone__name='Domestic', method='standard');"
        "r.price, r.free_from = Decimal('3.50'), None; r.save()"
    )
    other = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", change],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DEBUG": "1", "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "PAGE_CACHE": "locmem"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr

    assert cart_shipping(client.get("/cart/?country=GB").content.decode())[1:] == ("€3.50", "€63.50")


def test_a_deployer_behind_a_connection_pooler_can_turn_djangos_health_checks_back_on():
    code = "from django.conf import settings as s; print(s.DATABASES['default']['CONN_HEALTH_CHECKS'])"

    def health_checks(**env):
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, "DEBUG": "1", "DATABASE_URL": "postgres://u:p@db.example:5432/arkiv", **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result.stdout.strip().splitlines()[-1]

    assert health_checks() == "False"
    assert health_checks(CONN_HEALTH_CHECKS="1") == "True"
