"""/healthz and /readyz as a load balancer sees them: /healthz answers while the process
runs, /readyz answers 200 only when the database, the caches and the task queue answer,
and 503 naming what failed - quickly, even when a server accepts a connection and then
never says a word."""

import json

import pytest
from django.contrib.sessions.models import Session
from django.db import connections

from tests.servers import SilentServer, closed_port

PROBES = ["/healthz", "/readyz"]
# The checks run in threads of their own, with connections of their own: the tests' data
# is committed so that those connections see the same database as a server would.


@pytest.fixture
def extra_database(django_db_blocker):
    """Adds a PostgreSQL database alias at a given port, as a second database in
    DATABASES would be, and removes it afterwards. The test database is opened as a
    server opens its database (no test transaction, whose guard would refuse an alias
    added after it started); the probe writes nothing that outlives it."""
    added = []
    django_db_blocker.unblock()

    def add(port):
        alias = "reporting"
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "arkiv",
            "USER": "arkiv",
            "PASSWORD": "arkiv",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "OPTIONS": {"connect_timeout": 5},
        }
        connections.settings[alias] = connections.configure_settings({"default": {}, alias: config})[alias]
        added.append(alias)
        return alias

    yield add
    django_db_blocker.restore()
    for alias in added:
        del connections.settings[alias]
        if hasattr(connections._connections, alias):
            delattr(connections._connections, alias)


def test_healthz_answers_while_the_process_runs_without_touching_the_database(client):
    # No database fixture: any query here would fail the request.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_200_naming_every_check(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database:default": "ok", "cache:default": "ok", "cache:shared": "ok", "tasks": "ok"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", PROBES)
def test_probes_set_no_cookie_start_no_session_and_carry_the_security_headers(client, path):
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200
        assert not response.cookies
        assert "Set-Cookie" not in response.headers

    assert Session.objects.count() == 0
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", PROBES)
def test_probes_answer_over_plain_http_where_every_page_redirects_to_https(client, settings, path):
    # A load balancer probes the app server's own port without TLS.
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/composers/").status_code == 301
    assert client.get(path).status_code == 200


def test_readyz_says_503_and_names_a_database_that_refuses_connections(client, extra_database):
    extra_database(closed_port())

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["database:reporting"]
    assert body["checks"]["database:default"] == "ok"


def test_readyz_gives_up_on_a_database_that_never_answers(client, settings, extra_database):
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5
    silent = SilentServer()
    try:
        extra_database(silent.port)

        response = client.get("/readyz")
    finally:
        silent.close()

    assert response.status_code == 503
    assert response.json()["checks"]["database:reporting"] == "timeout"
    assert response.json()["failed"] == ["database:reporting"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", PROBES)
def test_probes_by_the_servers_own_address_are_answered_where_pages_are_refused(client, path):
    # A load balancer or orchestrator probes 10.0.0.7:8000, not the shop's host name.
    assert client.get("/composers/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    assert client.get(path, HTTP_HOST="10.0.0.7:8000").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_readyz_says_503_and_names_a_shared_cache_that_cannot_be_reached(client, settings):
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["failed"] == ["cache:shared"]
    assert body["checks"]["database:default"] == "ok"
    assert body["checks"]["cache:default"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readyz_gives_up_on_a_redis_that_never_answers(client, settings):
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5
    silent = SilentServer()
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent.port}/0",
        },
    }
    try:
        response = client.get("/readyz")
    finally:
        silent.close()

    assert response.status_code == 503
    assert response.json()["checks"]["cache:shared"] == "timeout"


def test_probes_refuse_to_change_anything(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_an_outage_seen_by_readyz_is_a_warning_and_mails_no_error_report(client, settings, caplog, mailoutbox):
    settings.ADMINS = [("", "ops@example.org")]
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        },
    }

    for _ in range(3):
        assert client.get("/readyz").status_code == 503

    assert mailoutbox == []
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert [r.levelname for r in logged] == ["WARNING"] * 3
