"""No log line carries an email address or an emailed-link token: the request and
server logs (Django's and gunicorn's) are filtered before any handler writes them."""

import io
import logging
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from wsgiref.simple_server import make_server

import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

from privacy import services

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
TOKEN_URLS = [
    "/offers/preferences/{token}/nope/",
    "/offers/unsubscribe/{token}/nope/",
    "/offers/confirm/{token}/nope/",
    "/account/verify/MQ/{token}/nope/",
    "/account/password-reset/{token}/set-password/nope/",
    "/de/offers/preferences/{token}/nope/",
]


@pytest.fixture
def captured():
    """What the log handlers write, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    loggers = [logging.getLogger(name) for name in ("django.request", "django.server")]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.mark.parametrize("url", TOKEN_URLS)
def test_a_404_on_an_emailed_link_logs_no_token(client, captured, url):
    token = services.preferences_token("clara@example.com")
    assert client.get(url.format(token=token)).status_code == 404
    logged = captured.getvalue()
    assert "Not Found" in logged and "[redacted]" in logged
    assert token not in logged and token.split(":")[0] not in logged


def test_a_404_logs_no_email_address(client, captured):
    assert client.get("/search/clara@example.com/x/").status_code == 404
    assert client.get("/search/ann.archer%40example.com/x/").status_code == 404
    logged = captured.getvalue()
    assert logged.count("Not Found") == 2
    assert "clara" not in logged and "archer" not in logged


def test_the_development_servers_access_log_has_no_token_or_address(captured):
    token = services.preferences_token("clara@example.com")

    def not_found(environ, start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    server = make_server("127.0.0.1", 0, not_found, server_class=WSGIServer, handler_class=WSGIRequestHandler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(
            f"http://127.0.0.1:{server.server_port}/offers/unsubscribe/{token}/?to=clara@example.com"
        )
    thread.join()
    server.server_close()
    logged = captured.getvalue()
    assert "/offers/unsubscribe/[redacted]" in logged and "404" in logged
    assert token not in logged and "clara" not in logged


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorns_access_log_has_no_token_or_address(tmp_path):
    token = services.preferences_token("clara@example.com")
    port = free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "arkiv.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "DEBUG": "0",
        "SECRET_KEY": "test-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "arkiv.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
        + ["--access-logfile", str(log), "--error-logfile", str(tmp_path / "error.log")],
        cwd=ROOT,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}/offers/confirm/{token}/nope/?from=clara@example.com"
        for _ in range(200):  # until gunicorn has booted and answered
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                threading.Event().wait(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = log.read_text()
    assert "/offers/confirm/[redacted]" in logged
    assert token not in logged and "clara" not in logged
