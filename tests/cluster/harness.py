"""The multi-server setup's parts, shared by the cluster test and the soak: the processes
(HAProxy, two gunicorn app servers, Redis, two task workers, the payment sandbox), a real
SMTP server that receives the shop's mail, and a browser that buys through HAProxy."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from email import message_from_bytes
from pathlib import Path

import pytest
import requests

from tests.conftest import _required
from tests.orders.helpers import pay
from tests.orders.test_payments import CHECKOUT

ROOT = Path(__file__).resolve().parents[2]
CONFIRMED = re.compile(r"Your Arkiv order (\S+) is confirmed")
WORKERS = ("worker1", "worker2")
SIGN_IN_LIMIT = 5


def skip(reason):
    if _required("ARKIV_REQUIRE_CLUSTER"):
        pytest.fail(f"ARKIV_REQUIRE_CLUSTER is set but {reason}")
    pytest.skip(reason)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


class Inbox:
    """An SMTP server's receiving end (aiosmtpd). A message counts as received once the
    server has answered its DATA with 250; `data_seconds` makes the server take that long
    over each message, as a busy mail server does, and a client that disconnects
    meanwhile has sent nothing (aiosmtpd cancels the transaction)."""

    def __init__(self):
        self.data_seconds = 0.0
        self.lock = threading.Lock()
        self.received = []  # (Message-ID, subject, to) in the order the server took them
        self.sending = {}  # peer (host, port) -> Message-ID, while the server takes it
        self.aborted = []  # Message-IDs of transactions the client dropped before the 250
        self.holding, self.held, self.held_peer = False, None, None

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        with self.lock:
            self.sending[session.peer] = message["Message-ID"]
        try:
            if self.data_seconds:
                await asyncio.sleep(self.data_seconds)
            if self._take_hold(session.peer):
                # Keep this client waiting for its answer until it goes away.
                for _ in range(1200):
                    await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            with self.lock:
                self.aborted.append(message["Message-ID"])
            raise
        finally:
            with self.lock:
                self.sending.pop(session.peer, None)
        with self.lock:
            self.received.append((message["Message-ID"], message["Subject"], tuple(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def hold_next(self):
        """Answer the next message only once its sender has gone: returns an Event set
        when a sender is waiting (its peer address in `held_peer`)."""
        self.held = threading.Event()
        self.holding = True
        return self.held

    def _take_hold(self, peer):
        with self.lock:
            if not self.holding:
                return False
            self.holding, self.held_peer = False, peer
        self.held.set()
        return True

    def subjects(self):
        with self.lock:
            return [subject for _, subject, _ in self.received]

    def confirmations(self):
        """Order number -> Message-IDs of its confirmations, as received."""
        found = {}
        with self.lock:
            for message_id, subject, _ in self.received:
                match = CONFIRMED.search(subject or "")
                if match:
                    found.setdefault(match.group(1), []).append(message_id)
        return found

    def peers_sending(self):
        with self.lock:
            return list(self.sending)


class Cluster:
    def __init__(self, tmp):
        self.tmp = tmp
        self.processes = {}
        self.ports = {name: free_port() for name in ("redis", "app1", "app2", "haproxy", "stats", "sandbox", "smtp")}
        self.env = {}

    def url(self, name):
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, name, args, env=None):
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = (process, log)
        return process

    def start_worker(self, name):
        return self.start(name, [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--no-reload"])

    def start_app(self, name):
        return self.start(
            name,
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
            + ["--workers", "2", "--bind", f"127.0.0.1:{self.ports[name]}", "--graceful-timeout", "10", "arkiv.wsgi"],
        )

    def pid(self, name):
        return self.processes[name][0].pid

    def log(self, name):
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def kill(self, name):
        """SIGKILL: the process gets no chance to finish or tidy up anything."""
        process, log = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()

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


def database_urls():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        skip("needs DATABASE_URL pointing at PostgreSQL (the app servers share one database)")
    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/')}_cluster_{os.getpid()}"
    return url, parts._replace(path=f"/{name}").geturl(), name


def admin(url, statement):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def server_states(cluster):
    """Each app server's state as HAProxy sees it (its CSV stats page)."""
    rows = requests.get(f"{cluster.url('stats')}/stats;csv", timeout=5).text.splitlines()
    header = rows[0].lstrip("# ").split(",")
    states = {}
    for row in rows[1:]:
        fields = dict(zip(header, row.split(","), strict=False))
        if fields.get("pxname") == "app" and fields.get("svname") in {"app1", "app2"}:
            states[fields["svname"]] = fields["status"].split()[0]
    return states


def shell(cluster, code):
    """Run Django code in a process of its own against the cluster's database and Redis,
    as a staff member's admin edit would; returns what it prints."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def new_offer(cluster, *, price="17.43", stock=20):
    """One record on sale: (offer id, release page path)."""
    # Each shell is a new process whose factory sequences start again: start them past
    # what earlier calls made, so slugs and catalogue numbers stay unique.
    new_offer.calls = getattr(new_offer, "calls", 0) + 1
    start = new_offer.calls * 1000
    printed = shell(
        cluster,
        "import factory; from decimal import Decimal; from tests import factories; "
        f"[f.reset_sequence({start}) for f in vars(factories).values() "
        "if isinstance(f, type) and issubclass(f, factory.django.DjangoModelFactory)]; "
        f"o = factories.OfferFactory(price=Decimal('{price}'), stock={stock}); "
        "print(o.pk, o.release.get_absolute_url())",
    )
    pk, path = printed.splitlines()[-1].split()
    return int(pk), path


def csrf(session, url):
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:2000]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1), page.text


def buy(cluster, offer_pk, path, *, base=None, email=None, quantity=1, session=None):
    """A shopper's whole purchase through real HTTP: the record's page, add to cart,
    checkout, the sandbox's payment page, back to the shop. Returns the order number."""
    base = base or cluster.url("haproxy")
    browser = session or requests.Session()
    token, _ = csrf(browser, base + path)
    added = browser.post(
        base + "/cart/add/",
        {"offer": offer_pk, "quantity": quantity, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert added.status_code == 302, added.status_code
    token, page = csrf(browser, base + "/checkout/")
    checkout_token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
    placed = browser.post(
        base + "/checkout/",
        {**CHECKOUT, "email": email or CHECKOUT["email"], "checkout_token": checkout_token}
        | {"csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert placed.status_code == 302, placed.text[:3000]
    # The sandbox answers once the shop has taken its webhook: as slow as the shop is.
    status, back, _ = pay(placed.headers["Location"], timeout=60)
    assert status == 303, status
    back_path = urllib.parse.urlsplit(back)
    done = browser.get(f"{base}{back_path.path}?{back_path.query}", timeout=30)
    assert done.status_code == 200 and "Thank you! Order" in done.text, done.status_code
    return back_path.path.split("/")[2]
