"""The shop as it runs on several servers, on one machine: HAProxy (deploy/haproxy.cfg)
in front of two gunicorn app servers sharing one PostgreSQL database and one Redis, two
task workers, the payment sandbox and an SMTP server, all real processes or servers on
loopback ports, spoken to over real HTTP and SMTP. Run with `make cluster-test` (needs
DATABASE_URL on PostgreSQL, redis-server and haproxy)."""

import re
import threading
import urllib.parse

import psutil
import pytest
import requests

from tests.cluster.harness import (
    SIGN_IN_LIMIT,
    WORKERS,
    buy,
    csrf,
    new_offer,
    server_states,
    shell,
    wait_for,
)
from tests.orders.helpers import pay
from tests.orders.test_payments import CHECKOUT

pytestmark = pytest.mark.cluster

OLD_PRICE, NEW_PRICE = "17.43", "23.61"


@pytest.fixture(scope="module")
def offer(cluster):
    """One record on sale: (offer id, release page path)."""
    return new_offer(cluster, price=OLD_PRICE, stock=20)


def test_a_cart_started_on_one_server_is_seen_and_paid_on_the_other(cluster, offer):
    pk, path = offer
    browser = requests.Session()  # one cookie jar: the same session cookie for both servers
    app1, app2 = cluster.url("app1"), cluster.url("app2")
    token, _ = csrf(browser, app1 + path)
    added = browser.post(
        app1 + "/cart/add/", {"offer": pk, "quantity": 2, "csrfmiddlewaretoken": token}, allow_redirects=False
    )
    assert added.status_code == 302

    cart = browser.get(app2 + "/cart/", timeout=10)
    assert cart.status_code == 200 and "cart-line" in cart.text

    token, page = csrf(browser, app2 + "/checkout/")
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
    wait_for(lambda: subject in cluster.inbox.subjects(), "a task worker to send the order confirmation")


def test_a_staff_price_change_shows_on_both_servers_at_once(cluster, offer):
    pk, path = offer
    for server in ("app1", "app2", "haproxy"):
        page = requests.get(cluster.url(server) + path, timeout=10)
        assert page.status_code == 200 and OLD_PRICE in page.text  # now in the shared page cache

    shell(
        cluster,
        "from decimal import Decimal; from catalog.models import Offer; "
        f"o = Offer.objects.get(pk={pk}); o.price = Decimal('{NEW_PRICE}'); o.save()",
    )

    for server in ("app1", "app2", "haproxy", "app1", "app2"):
        page = requests.get(cluster.url(server) + path, timeout=10)
        assert page.status_code == 200 and NEW_PRICE in page.text and OLD_PRICE not in page.text


def test_failed_sign_ins_count_across_both_servers(cluster):
    shell(
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
    token, _ = csrf(browser, server + "/account/sign-in/")
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
        wait_for(lambda: results["ok"] >= 20, "the first answers through HAProxy")
        cluster.stop("app1")
        wait_for(lambda: server_states(cluster).get("app1") == "DOWN", "HAProxy to mark app1 down")
        served_after_stop = results["ok"]
        wait_for(lambda: results["ok"] >= served_after_stop + 20, "answers from the remaining server")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    print(f"through HAProxy: {results['ok']} answered 200, {len(results['failed'])} failed {results['failed']}")
    assert results["ok"] >= 40
    assert len(results["failed"]) <= threads_count, results["failed"]
    assert server_states(cluster) == {"app1": "DOWN", "app2": "UP"}


def _worker_at(cluster, peer):
    """The task worker whose connection comes from `peer` (its local address)."""
    pids = {cluster.pid(name): name for name in WORKERS}
    for connection in psutil.net_connections(kind="tcp"):
        if connection.pid in pids and connection.laddr and (connection.laddr.ip, connection.laddr.port) == peer:
            return pids[connection.pid]
    return None


def test_killing_a_task_worker_while_it_sends_order_emails_loses_none_and_sends_none_twice(cluster):
    orders = 20
    pk, path = new_offer(cluster, price="9.99", stock=orders * 2)
    inbox = cluster.inbox
    inbox.data_seconds = 0.3  # a slow mail server: each message takes 0.3 s to hand over
    aborted_before = len(inbox.aborted)
    numbers, failures = [], []
    lock = threading.Lock()

    def shopper(count):
        for _ in range(count):
            try:
                number = buy(cluster, pk, path)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                failures.append(repr(exc))
                continue
            with lock:
                numbers.append(number)

    shoppers = [threading.Thread(target=shopper, args=(orders // 4,)) for _ in range(4)]
    for thread in shoppers:
        thread.start()
    try:
        # Once mail is flowing, kill a worker in the middle of handing over a message:
        # the server has its DATA but has not answered yet.
        wait_for(lambda: len(inbox.confirmations()) >= 3, "the first confirmations", seconds=120)
        held = inbox.hold_next()
        assert held.wait(timeout=60), "no message was being sent"
        victim = _worker_at(cluster, inbox.held_peer)
        assert victim, "the message being sent was not a task worker's"
        cluster.kill(victim)
        cluster.start_worker(victim)
    finally:
        for thread in shoppers:
            thread.join(timeout=300)

    assert not failures, failures
    assert len(numbers) == orders
    wait_for(
        lambda: set(numbers) <= set(inbox.confirmations()),
        f"every confirmation to arrive (see {cluster.tmp})",
        seconds=180,
    )
    # Nothing is left in the outbox that could still go out a second time.
    outbox = "from mailer.models import Message; print([(m.subject, m.priority) for m in Message.objects.all()])"
    try:
        wait_for(lambda: shell(cluster, outbox) == "[]", "the outbox to empty")
    except AssertionError:
        raise AssertionError(f"the outbox keeps {shell(cluster, outbox)} (see {cluster.tmp})") from None
    inbox.data_seconds = 0.0

    confirmations = inbox.confirmations()
    # The kill cut a hand-over short; that message came again with the same Message-ID.
    (cut_short,) = inbox.aborted[aborted_before:]
    assert cut_short in {message_id for ids in confirmations.values() for message_id in ids}
    assert {number: len(ids) for number, ids in confirmations.items() if number in numbers} == dict.fromkeys(numbers, 1)
    message_ids = [message_id for ids in confirmations.values() for message_id in ids]
    assert len(message_ids) == len(set(message_ids))
