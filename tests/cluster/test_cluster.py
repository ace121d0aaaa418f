"""The shop as it runs on several servers, on one machine: HAProxy (deploy/haproxy.cfg)
in front of two gunicorn app servers sharing one PostgreSQL database and one Redis, a
task worker and the payment sandbox, all real processes on loopback ports, spoken to
over real HTTP. Run with `make cluster-test` (needs DATABASE_URL on PostgreSQL,
redis-server and haproxy)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.conftest import _required
from tests.orders.helpers import pay
from tests.orders.test_payments import CHECKOUT

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
SIGN_IN_LIMIT = 5
OLD_PRICE, NEW_PRICE = "17.43", "23.61"


def _skip(reason):
    if _required("ARKIV_REQUIRE_CLUSTER"):
        pytest.fail(f"ARKIV_REQUIRE_CLUSTER is set but {reason}")
    pytest.skip(reason)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


class Cluster:
    def __init__(self, tmp):
        self.tmp = tmp
        self.processes = {}
        self.ports = {name: _free_port() for name in ("redis", "app1", "app2", "haproxy", "stats", "sandbox")}

    def url(self, name):
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, name, args, env):
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = (process, log)
        return process

    def log(self, name):
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def stop(self, name):
        process, log = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()

    def stop_all(self):
        for name in reversed(list(self.processes)):
            self.stop(name)


def _database_urls():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        _skip("needs DATABASE_URL pointing at PostgreSQL (the app servers share one database)")
    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/')}_cluster_{os.getpid()}"
    return url, parts._replace(path=f"/{name}").geturl(), name


def _admin(url, statement):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # Runs only when asked for (make cluster-test); ARKIV_REQUIRE_CLUSTER then turns a
    # missing haproxy, redis-server or PostgreSQL into a failure.
    if not _required("ARKIV_CLUSTER"):
        pytest.skip("the multi-server test runs with `make cluster-test` (ARKIV_CLUSTER=1)")
    for program in ("redis-server", "haproxy"):
        if not shutil.which(program):
            _skip(f"needs {program} (apt-get install {program})")
    base_url, db_url, db_name = _database_urls()
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PAGE_CACHE", "TASKS_BACKEND", "EMAIL_BACKEND", "ALLOWED_HOSTS", "MEDIA_ROOT"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="cluster-test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_HTTPS="0",
        DATABASE_URL=db_url,
        REDIS_URL=f"redis://127.0.0.1:{cluster.ports['redis']}/0",
        TRUSTED_PROXY_HEADER="X-Forwarded-For",
        STRIPE_API_BASE=cluster.url("sandbox"),
        STRIPE_SECRET_KEY="sk_test_cluster",
        STRIPE_WEBHOOK_SECRET="whsec_cluster",
        ARKIV_SITE_URL=cluster.url("haproxy"),
        EMAIL_DELIVERY_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(cluster.tmp / "mail"),
        MEDIA_ROOT=str(cluster.tmp / "media"),
        STATIC_MANIFEST="0",
        WHITENOISE_USE_FINDERS="1",
        RATE_LIMIT_SIGN_IN="1000/15m",
        SIGN_IN_FAILURE_LIMIT=str(SIGN_IN_LIMIT),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cluster.env = env
    _admin(base_url, f'CREATE DATABASE "{db_name}"')
    try:
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        cluster.start(
            "redis",
            ["redis-server", "--port", str(cluster.ports["redis"]), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            env,
        )
        for name in ("app1", "app2"):
            cluster.start(
                name,
                [str(Path(sys.executable).parent / "gunicorn"), "arkiv.wsgi", "--workers", "2"]
                + ["--bind", f"127.0.0.1:{cluster.ports[name]}", "--graceful-timeout", "10"],
                env,
            )
        cluster.start("worker", [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--no-reload"], env)
        cluster.start(
            "sandbox",
            [sys.executable, "manage.py", "run_payment_sandbox", "--port", str(cluster.ports["sandbox"])]
            + ["--webhook-url", f"{cluster.url('haproxy')}/orders/webhooks/stripe/"],
            env,
        )
        haproxy_env = {
            **env,
            "ARKIV_LISTEN": f"127.0.0.1:{cluster.ports['haproxy']}",
            "ARKIV_STATS": f"127.0.0.1:{cluster.ports['stats']}",
            "ARKIV_APP1": f"127.0.0.1:{cluster.ports['app1']}",
            "ARKIV_APP2": f"127.0.0.1:{cluster.ports['app2']}",
            "ARKIV_HOST": "127.0.0.1",
            "ARKIV_CHECK_INTER": "300ms",
            "ARKIV_LOG_LEVEL": "info",
        }
        cluster.start("haproxy", ["haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], haproxy_env)
        for name in ("app1", "app2"):
            _wait_for(
                lambda n=name: requests.get(f"{cluster.url(n)}/readyz", timeout=5).ok,
                f"{name} ready (see {cluster.tmp})",
            )
        _wait_for(
            lambda: _server_states(cluster) == {"app1": "UP", "app2": "UP"},
            f"HAProxy to see both servers (see {cluster.tmp})",
        )
        _wait_for(lambda: requests.get(cluster.url("sandbox"), timeout=5) is not None, "the payment sandbox")
        yield cluster
    finally:
        cluster.stop_all()
        _admin(base_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _server_states(cluster):
    """Each app server's state as HAProxy sees it (its CSV stats page)."""
    rows = requests.get(f"{cluster.url('stats')}/stats;csv", timeout=5).text.splitlines()
    header = rows[0].lstrip("# ").split(",")
    states = {}
    for row in rows[1:]:
        fields = dict(zip(header, row.split(","), strict=False))
        if fields.get("pxname") == "app" and fields.get("svname") in {"app1", "app2"}:
            states[fields["svname"]] = fields["status"].split()[0]
    return states


def _shell(cluster, code):
    """Run Django code in a process of its own against the cluster's database and Redis,
    as a staff member's admin edit would; returns what it prints."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


@pytest.fixture(scope="module")
def offer(cluster):
    """One record on sale: (offer id, release page path)."""
    printed = _shell(
        cluster,
        "from decimal import Decimal; from tests.factories import OfferFactory; "
        f"o = OfferFactory(price=Decimal('{OLD_PRICE}'), stock=20); "
        "print(o.pk, o.release.get_absolute_url())",
    )
    pk, path = printed.splitlines()[-1].split()
    return int(pk), path


def _csrf(session, url):
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text[:2000]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1), page.text


def test_a_cart_started_on_one_server_is_seen_and_paid_on_the_other(cluster, offer):
    pk, path = offer
    browser = requests.Session()  # one cookie jar: the same session cookie for both servers
    app1, app2 = cluster.url("app1"), cluster.url("app2")
    token, _ = _csrf(browser, app1 + path)
    added = browser.post(
        app1 + "/cart/add/", {"offer": pk, "quantity": 2, "csrfmiddlewaretoken": token}, allow_redirects=False
    )
    assert added.status_code == 302

    cart = browser.get(app2 + "/cart/", timeout=10)
    assert cart.status_code == 200 and "cart-line" in cart.text

    token, page = _csrf(browser, app2 + "/checkout/")
    checkout_token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
    placed = browser.post(
        app2 + "/checkout/",
        {**CHECKOUT, "checkout_token": checkout_token, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert placed.status_code == 302, placed.text[:3000]
    payment_url = placed.headers["Location"]
    assert payment_url.startswith(cluster.url("sandbox") + "/pay/")

    status, back, _ = pay(payment_url)
    assert status == 303
    back_path = urllib.parse.urlsplit(back)
    done = browser.get(f"{app1}{back_path.path}?{back_path.query}", timeout=30)
    assert done.status_code == 200 and "Thank you! Order" in done.text
    assert "cart-line" not in browser.get(app2 + "/cart/", timeout=10).text

    # The task worker, a process of its own, delivers the confirmation from the outbox.
    number = back_path.path.split("/")[2]
    subject = f"Your Arkiv order {number} is confirmed"
    _wait_for(
        lambda: any(subject in path.read_text(errors="replace") for path in (cluster.tmp / "mail").glob("*")),
        "the task worker to send the order confirmation",
    )


def test_a_staff_price_change_shows_on_both_servers_at_once(cluster, offer):
    pk, path = offer
    for server in ("app1", "app2", "haproxy"):
        page = requests.get(cluster.url(server) + path, timeout=10)
        assert page.status_code == 200 and OLD_PRICE in page.text  # now in the shared page cache

    _shell(
        cluster,
        "from decimal import Decimal; from catalog.models import Offer; "
        f"o = Offer.objects.get(pk={pk}); o.price = Decimal('{NEW_PRICE}'); o.save()",
    )

    for server in ("app1", "app2", "haproxy", "app1", "app2"):
        page = requests.get(cluster.url(server) + path, timeout=10)
        assert page.status_code == 200 and NEW_PRICE in page.text and OLD_PRICE not in page.text


def test_failed_sign_ins_count_across_both_servers(cluster):
    _shell(
        cluster,
        "from accounts.models import User; "
        "User.objects.create_user(email='robert@example.com', password='the-right-password-1853')",
    )
    browser = requests.Session()
    servers = [cluster.url("app1"), cluster.url("app2")]
    for attempt in range(SIGN_IN_LIMIT - 1):
        server = servers[attempt % 2]
        answer = _sign_in(browser, server, f"wrong-{attempt}")
        assert answer.status_code == 200 and "sign-in-locked" not in answer.text, attempt

    # No server has seen five failures by itself, yet the fifth, on either server, makes
    # the pair wait, and the wait holds on both, even for the right password.
    locked = _sign_in(browser, servers[(SIGN_IN_LIMIT - 1) % 2], "wrong-again")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    for server in servers:
        answer = _sign_in(browser, server, "the-right-password-1853")
        assert answer.status_code == 429 and "Too many failed sign-ins" in answer.text


def _sign_in(browser, server, password):
    token, _ = _csrf(browser, server + "/account/sign-in/")
    return browser.post(
        server + "/account/sign-in/",
        {"username": "robert@example.com", "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )


def test_stopping_one_app_server_under_load_loses_no_request_beyond_those_in_flight(cluster, offer):
    _, path = offer
    threads_count = 4
    results = {"ok": 0, "failed": []}
    lock = threading.Lock()
    stop = threading.Event()

    def shopper():
        session = requests.Session()
        while not stop.is_set():
            try:
                status = session.get(cluster.url("haproxy") + path, timeout=15).status_code
            except requests.RequestException as exc:
                status = repr(exc)
            with lock:
                if status == 200:
                    results["ok"] += 1
                else:
                    results["failed"].append(status)

    threads = [threading.Thread(target=shopper) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: results["ok"] >= 20, "the first answers through HAProxy")
        cluster.stop("app1")
        _wait_for(lambda: _server_states(cluster).get("app1") == "DOWN", "HAProxy to mark app1 down")
        served_after_stop = results["ok"]
        _wait_for(lambda: results["ok"] >= served_after_stop + 20, "answers from the remaining server")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    print(f"through HAProxy: {results['ok']} answered 200, {len(results['failed'])} failed {results['failed']}")
    assert results["ok"] >= 40
    assert len(results["failed"]) <= threads_count, results["failed"]
    assert _server_states(cluster) == {"app1": "DOWN", "app2": "UP"}
