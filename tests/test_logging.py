"""Logs as an operator reads them: with LOG_FORMAT=json one JSON object per line, each
record of a request carrying that request's id (the load balancer's X-Request-ID when
it is well formed), and still no email address or emailed-link token."""

import copy
import io
import json
import logging
import logging.config
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command

from arkiv.logjson import JsonFormatter, use_json

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def json_logs():
    """The shop's LOGGING switched to JSON as LOG_FORMAT=json switches it, writing to a
    buffer the test reads; the configuration in force is put back afterwards."""
    logging.config.dictConfig(use_json(copy.deepcopy(django_settings.LOGGING)))
    stream = io.StringIO()
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, JsonFormatter):
            handler.setStream(stream)

    def records():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield records
    logging.config.dictConfig(django_settings.LOGGING)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_every_record_of_a_request_is_a_json_line_with_the_load_balancers_request_id(client, settings, json_logs):
    # The shared cache is down: the probe logs from its check thread, from the view and
    # from Django's request logger - three records of one request.
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        },
    }

    response = client.get("/readyz", headers={"X-Request-ID": "lb-7f3a9c21"})

    assert response.status_code == 503
    assert response.headers["X-Request-ID"] == "lb-7f3a9c21"
    records = json_logs()
    assert {r["logger"] for r in records} >= {"arkiv.health", "django.request"}
    assert len(records) >= 3
    for record in records:
        assert set(record) >= {"time", "level", "logger", "message", "request_id"}
        assert record["request_id"] == "lb-7f3a9c21"
    assert any(r["level"] == "WARNING" and "cache:shared" in r["message"] for r in records)


@pytest.mark.django_db
def test_a_request_without_a_usable_request_id_gets_a_new_one_in_its_logs_and_response(client, json_logs):
    response = client.get(
        "/offers/confirm/s3cret-token-for-buyer/", headers={"X-Request-ID": 'forged"}\n{"level": "INFO'}
    )

    assert response.status_code == 400  # an unknown confirmation link
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    (record,) = [r for r in json_logs() if r["logger"] == "django.request"]
    assert record["request_id"] == request_id
    assert record["level"] == "WARNING"
    assert "s3cret-token-for-buyer" not in record["message"]
    assert "[redacted]" in record["message"]


def test_two_requests_have_different_ids(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]

    assert first != second


def test_log_format_json_from_the_environment_writes_redacted_json_lines():
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request')"
        ".warning('Not Found: %s', '/account/verify/abc123token/ for ana@example.org')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "arkiv.settings", "DEBUG": "1", "LOG_FORMAT": "json"}

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "django.request"
    assert record["request_id"] is None
    assert "ana@example.org" not in line and "abc123token" not in line
    assert record["message"] == "Not Found: /account/verify/[redacted] for [redacted]"


def test_an_unknown_log_format_stops_the_shop_with_a_clear_message():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "arkiv.settings", "DEBUG": "1", "LOG_FORMAT": "xml"}

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "LOG_FORMAT is plain or json." in result.stderr


@pytest.mark.django_db(transaction=True)
def test_mail_queued_during_a_request_is_delivered_by_the_worker_under_that_requests_id(client, settings, json_logs):
    settings.EMAIL_BACKEND = "arkiv.mail.QueueBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    response = client.post(
        "/contact/",
        {"name": "Ann Archer", "email": "ann@example.com", "message": "Is the Gould box back in stock?"},
        headers={"X-Request-ID": "lb-5d2e8a10"},
    )
    assert response.status_code in (200, 302)
    assert not mail.outbox  # waiting in the outbox for the worker

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)

    assert len(mail.outbox) == 1
    (delivery,) = [r for r in json_logs() if r["logger"] == "arkiv.mail"]
    assert delivery["message"].startswith("Delivering the outbox")
    assert delivery["request_id"] == "lb-5d2e8a10"


def test_gunicorn_writes_json_lines_without_query_strings_addresses_or_link_tokens(tmp_path):
    port = closed_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "arkiv.settings",
        "DEBUG": "1",
        "LOG_FORMAT": "json",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    out, err = (tmp_path / "stdout").open("w+"), (tmp_path / "stderr").open("w+")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "arkiv.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=err,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "stderr").read_text()
                time.sleep(0.1)
        probe = requests.get(
            f"{base}/healthz?email=ann%40example.org&token=s3cret-query-token",
            headers={"X-Request-ID": "lb-0c1d"},
            timeout=30,
        )
        link = requests.get(f"{base}/account/password-reset/MQ/s3cret-link-token/no/such/page/", timeout=30)
        assert probe.status_code == 200 and link.status_code == 404
    finally:
        server.terminate()  # SIGTERM: gunicorn's graceful shutdown
        server.wait(timeout=60)

    assert server.returncode == 0
    lines = [line for path in ("stdout", "stderr") for line in (tmp_path / path).read_text().splitlines()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    text = "\n".join(lines)
    assert "s3cret" not in text and "ann" not in text and "example.org" not in text
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    (healthz,) = [r for r in access if r["path"] == "/healthz"]
    assert healthz["method"] == "GET" and healthz["status"] == 200
    assert healthz["request_id"] == "lb-0c1d" and healthz["duration_ms"] >= 0
    assert any(r["path"] == "/account/password-reset/[redacted]" for r in access)
    assert any(r["logger"] == "gunicorn.error" and "Shutting down" in r["message"] for r in records)


@pytest.mark.django_db(transaction=True)
def test_an_order_email_and_its_delivery_are_logged_by_the_worker_under_the_id_of_the_request_that_caused_them(
    settings, json_logs
):
    """The email task, then the outbox delivery it asks for: one id follows the request
    through both worker runs."""
    import uuid
    from decimal import Decimal

    from arkiv import logjson
    from orders.cart import CartLine
    from orders.models import OrderEmail, Status
    from orders.services import order_place, order_transition
    from tests.factories import OfferFactory, checkout_details

    settings.EMAIL_BACKEND = "arkiv.mail.QueueBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    offer = OfferFactory(price=Decimal("19.99"), stock=3)
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    with logjson.bound_request_id("lb-77c1f00d"):  # the request in which the payment is confirmed
        order_transition(order, Status.AUTHORISED)
    assert not mail.outbox

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)

    (sent,) = mail.outbox
    assert sent.subject == f"Your Arkiv order {order.number} is confirmed"
    assert OrderEmail.objects.get().state == OrderEmail.State.SENT
    (delivery,) = [r for r in json_logs() if r["logger"] == "arkiv.mail"]
    assert delivery["message"].startswith("Delivering the outbox")
    assert delivery["request_id"] == "lb-77c1f00d"


@pytest.mark.django_db(transaction=True)
def test_a_catalog_preview_prepared_by_the_worker_is_logged_under_the_id_of_the_upload_request(
    admin_client, settings, json_logs
):
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalog.models import ImportRun

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    response = admin_client.post(
        "/admin/catalog/importrun/import/",
        {"file": SimpleUploadedFile("prices.csv", b"sku,price\nARK-123,12.50\n")},
        headers={"X-Request-ID": "lb-0a1b2c3d"},
    )
    assert response.status_code == 302

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)

    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.PREVIEWED
    (ready,) = [r for r in json_logs() if r["logger"] == "catalog.tasks"]
    assert ready["message"] == f"Preview of import run {run.pk} ready: 1 rows read"
    assert ready["request_id"] == "lb-0a1b2c3d"
    default_storage.delete(run.stored)  # the upload, never confirmed
