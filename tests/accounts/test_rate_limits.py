"""Abuse limits hold across processes: failed sign-ins are counted in the database per
(email, client address) with a growing wait, mail-sending forms are rate-limited in a
shared cache, and the client address comes only from a configured trusted proxy."""

import http.client
import http.cookies
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core import mail

from accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"
ROOT = Path(__file__).resolve().parents[2]


def sign_in(client, email, password, **headers):
    return client.post("/account/sign-in/", {"username": email, "password": password}, **headers)


def fail(client, email="clara@example.com", times=1, **headers):
    for _ in range(times):
        response = sign_in(client, email, "wrong-guess", **headers)
    return response


@pytest.fixture
def clara():
    return User.objects.create_user(email="clara@example.com", password=PASSWORD)


# --- Sign-in lockouts ------------------------------------------------------------------


def test_a_locked_sign_in_answers_429_with_the_wait_and_refuses_even_the_right_password(client, clara):
    for _ in range(4):
        assert "Please enter a correct email" in fail(client).content.decode()
    locked = fail(client)
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this email from your connection. Try again in 15 minutes" in (
        locked.content.decode()
    )
    right = sign_in(client, "clara@example.com", PASSWORD)
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_the_wait_grows_while_guessing_goes_on(client, clara):
    assert "Try again in 15 minutes" in fail(client, times=5).content.decode()
    assert "Try again in 30 minutes" in fail(client, times=5).content.decode()
    assert "Try again in 60 minutes" in fail(client, times=5).content.decode()


def test_the_email_is_counted_whatever_its_case(client, clara):
    for email in ["clara@example.com", "CLARA@example.com", "Clara@Example.com", "clara@EXAMPLE.COM"]:
        fail(client, email)
    assert fail(client, "cLaRa@example.com").status_code == 429


def test_a_customer_signs_in_from_home_while_someone_elsewhere_fails_on_their_address(client, clara):
    attacker = fail(client, times=12, REMOTE_ADDR="203.0.113.9")
    assert attacker.status_code == 429
    home = sign_in(client, "clara@example.com", PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert home.status_code == 302 and client.session["_auth_user_id"] == str(clara.pk)


def test_a_forged_x_forwarded_for_changes_nothing_without_a_trusted_proxy(client, clara):
    for n in range(4):
        fail(client, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert fail(client, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    # ...and the customer's own address pretended by the attacker was not locked either.
    home = sign_in(client, "clara@example.com", PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert home.status_code == 302


def test_behind_the_configured_proxy_its_header_names_the_client(client, clara, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # The attacker forges the left part; our proxy appends the address it saw.
    for n in range(5):
        last = fail(client, HTTP_X_FORWARDED_FOR=f"198.51.100.7, 192.0.2.{n}, 203.0.113.9", **proxy)
    assert last.status_code == 429
    home = sign_in(client, "clara@example.com", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert home.status_code == 302


def test_with_two_trusted_proxies_the_second_entry_from_the_right_is_the_client(client, clara, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 2
    for n in range(5):
        last = fail(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9, 10.0.0.1", REMOTE_ADDR="10.0.0.2")
    assert last.status_code == 429
    other = sign_in(
        client, "clara@example.com", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.1", REMOTE_ADDR="10.0.0.2"
    )
    assert other.status_code == 302


# --- Two real server processes share one count -----------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Just enough of a browser for the sign-in form: cookies and the CSRF token."""

    def __init__(self, forwarded_for):
        self.cookies = http.cookies.SimpleCookie()
        self.forwarded_for = forwarded_for

    def request(self, port, method, path, data=None, referer=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"X-Forwarded-For": self.forwarded_for, "Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v.value}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{port}{referer or path}"
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        for value in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(value)
        text = response.read().decode()
        conn.close()
        return response.status, text

    def submit(self, port, path, data):
        """Open the form's page, then post it with its CSRF token."""
        _, page = self.request(port, "GET", path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request(port, "POST", path, {"csrfmiddlewaretoken": token, **data}, referer=path)

    def sign_in(self, port, email, password):
        return self.submit(port, "/account/sign-in/", {"username": email, "password": password})


@contextmanager
def scratch_postgres_database():
    """A PostgreSQL database of its own for the shop processes, beside the test database."""
    import psycopg2
    from django.db import connection

    params = connection.settings_dict
    name = f"{params['NAME']}_processes"
    admin = psycopg2.connect(
        dbname="postgres", user=params["USER"], password=params["PASSWORD"], host=params["HOST"], port=params["PORT"]
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{params['USER']}:{params['PASSWORD']}@{params['HOST']}:{params['PORT']}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shop_processes(request, tmp_path):
    """Start shop processes (`manage.py runserver --noreload`) on one fresh database (a
    SQLite file, or a PostgreSQL database when the tests run on PostgreSQL), behind a
    pretend proxy that sets X-Forwarded-For; yields a function that starts one and
    returns (process, port). All are stopped at the end."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(SQLITE_PATH=str(tmp_path / "shop.sqlite3"), TRUSTED_PROXY_HEADER="X-Forwarded-For", DEBUG="0")
    with ExitStack() as stack:
        if request.param == "postgresql":
            request.getfixturevalue("postgres")  # skips unless the tests run on PostgreSQL
            env["DATABASE_URL"] = stack.enter_context(scratch_postgres_database())
        yield from _shop_processes(env)


def _shop_processes(env):
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from accounts.models import User; "
            f"User.objects.create_user(email='clara@example.com', password='{PASSWORD}')",
        ],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    running = []

    def start():
        port = _free_port()
        process = subprocess.Popen(
            [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        running.append(process)
        deadline = time.monotonic() + 60  # waiting for start-up, not measuring anything
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return process, port
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the shop process did not start") from None
                time.sleep(0.2)

    yield start
    for process in running:
        process.terminate()
        process.wait(timeout=30)


def stop(process):
    process.terminate()
    process.wait(timeout=30)


def test_failed_sign_ins_are_counted_across_two_shop_processes_and_survive_a_restart(shop_processes):
    (first, port_a), (second, port_b) = shop_processes(), shop_processes()
    attacker = Browser(forwarded_for="203.0.113.9")
    for port in [port_a, port_b, port_a, port_b]:
        status, page = attacker.sign_in(port, "clara@example.com", "wrong-guess")
        assert status == 200 and "Please enter a correct email" in page
    status, page = attacker.sign_in(port_a, "clara@example.com", "wrong-guess")
    assert status == 429 and "Too many failed sign-ins" in page
    assert attacker.sign_in(port_b, "clara@example.com", PASSWORD)[0] == 429

    stop(first)
    stop(second)
    _, port_c = shop_processes()
    status, page = attacker.sign_in(port_c, "clara@example.com", PASSWORD)
    assert status == 429 and "Too many failed sign-ins" in page
    # Clara herself, from her own address, was never locked out.
    status, _ = Browser(forwarded_for="198.51.100.7").sign_in(port_c, "clara@example.com", PASSWORD)
    assert status == 302


def test_form_limits_are_counted_across_two_shop_processes_and_survive_a_restart(shop_processes):
    (first, port_a), (second, port_b) = shop_processes(), shop_processes()
    visitor = Browser(forwarded_for="203.0.113.9")
    question = {"name": "Ann Archer", "email": "ann@example.com", "message": "Is K550 in stock?"}
    for port in [port_a, port_b, port_a, port_b, port_a]:
        assert visitor.submit(port, "/contact/", question)[0] == 302
    status, page = visitor.submit(port_b, "/contact/", question)
    assert status == 429 and "You have sent this form too often" in page
    stop(first)
    stop(second)
    _, port_c = shop_processes()
    assert visitor.submit(port_c, "/contact/", question)[0] == 429
    assert Browser(forwarded_for="198.51.100.7").submit(port_c, "/contact/", question)[0] == 302


# --- Forms that send mail --------------------------------------------------------------


def _contact(client, n, **headers):
    return client.post(
        "/contact/", {"name": "Ann Archer", "email": f"ann{n}@example.com", "message": "Is K550 in stock?"}, **headers
    )


def _sign_up(client, n, **headers):
    return client.post(
        "/account/sign-up/",
        {"email": f"new{n}@example.com", "password1": PASSWORD, "password2": PASSWORD},
        **headers,
    )


def _password_reset(client, n, **headers):
    return client.post("/account/password-reset/", {"email": f"someone{n}@example.com"}, **headers)


def assert_limited(response):
    assert response.status_code == 429
    assert "You have sent this form too often" in response.content.decode()


@pytest.mark.parametrize(
    "send, limit",
    [(_contact, 5), (_sign_up, 10), (_password_reset, 5)],
    ids=["contact", "sign_up", "password_reset"],
)
def test_each_mail_sending_form_answers_429_after_its_limit(client, send, limit):
    for n in range(limit):
        client.logout()
        assert send(client, n).status_code in (200, 302)
    sent = len(mail.outbox)
    client.logout()
    assert_limited(send(client, limit))
    assert len(mail.outbox) == sent
    # Another visitor is not affected.
    assert send(client, limit + 1, REMOTE_ADDR="198.51.100.7").status_code in (200, 302)


def test_sign_up_limit_counts_refused_attempts_too(client):
    for _ in range(10):
        client.post("/account/sign-up/", {"email": "x@example.com", "password1": "1", "password2": "1"})
    assert_limited(_sign_up(client, 0))
    assert not User.objects.filter(email="new0@example.com").exists()


def test_resending_the_confirmation_link_is_limited_per_account(client, clara, django_user_model):
    client.force_login(clara)
    for _ in range(5):
        assert client.post("/account/verify-again/").status_code == 302
    assert_limited(client.post("/account/verify-again/", REMOTE_ADDR="198.51.100.7"))
    other = django_user_model.objects.create_user(email="other@example.com", password=PASSWORD)
    client.force_login(other)
    assert client.post("/account/verify-again/").status_code == 302


def test_password_reset_mail_to_one_address_is_limited_from_any_address(client, clara):
    for n in range(5):
        client.post("/account/password-reset/", {"email": "clara@example.com"}, REMOTE_ADDR=f"192.0.2.{n}")
    assert len(mail.outbox) == 5
    assert_limited(client.post("/account/password-reset/", {"email": "CLARA@example.com"}, REMOTE_ADDR="192.0.2.99"))
    assert len(mail.outbox) == 5


def test_a_forged_x_forwarded_for_does_not_escape_a_form_limit(client):
    for n in range(5):
        _contact(client, n, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert_limited(_contact(client, 5, HTTP_X_FORWARDED_FOR="198.51.100.77"))


def test_behind_the_configured_proxy_form_limits_follow_its_header(client, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    for n in range(5):
        _contact(client, n, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9")
    assert_limited(_contact(client, 5, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9"))
    assert _contact(client, 6, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302


def test_a_malformed_proxy_header_falls_back_to_the_socket_address(client, clara, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    for junk in ["not-an-ip", "", ", ,", "1.2.3.4.5", "\x00"]:
        assert fail(client, HTTP_X_FORWARDED_FOR=junk).status_code in (200, 429)
    assert fail(client).status_code == 429


@pytest.mark.postgres
def test_the_rate_limit_counter_loses_no_count_when_workers_count_at_once(transactional_db):
    """Django's DatabaseCache.incr reads, then writes: two workers counting at once lose a
    count. The shop's rate-limit cache holds the row while it adds."""
    from django.core.cache import caches
    from django.db import connection

    from tests.threads import at_once

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL to a PostgreSQL server")
    counter = caches["shared"]
    counter.set("concurrent-posts", 0, 60)
    workers, each = 6, 15

    def count(i):
        for _ in range(each):
            counter.incr("concurrent-posts")

    assert at_once(workers, count) == [None] * workers
    assert counter.get("concurrent-posts") == workers * each


def test_guessing_the_password_through_the_email_and_password_change_forms_is_limited(client, clara):
    client.force_login(clara)
    for _ in range(5):
        wrong = client.post("/account/email/", {"email": "mallory@example.com", "password": "guess"})
        assert "not your current password" in wrong.content.decode()
    assert_limited(client.post("/account/email/", {"email": "mallory@example.com", "password": PASSWORD}))
    for _ in range(10):
        client.post(
            "/account/password/",
            {"old_password": "guess", "new_password1": "x-new-passphrase-1", "new_password2": "x-new-passphrase-1"},
        )
    assert_limited(
        client.post(
            "/account/password/",
            {"old_password": PASSWORD, "new_password1": "x-new-passphrase-1", "new_password2": "x-new-passphrase-1"},
        )
    )
    clara.refresh_from_db()
    assert clara.email == "clara@example.com" and clara.check_password(PASSWORD)


def test_one_address_trying_many_accounts_is_stopped(client, clara):
    for n in range(30):
        assert sign_in(client, f"customer{n}@example.com", "Summer2026!").status_code == 200
    assert_limited(sign_in(client, "clara@example.com", PASSWORD))
    assert "_auth_user_id" not in client.session
    assert sign_in(client, "clara@example.com", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302
