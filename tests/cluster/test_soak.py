"""The soak: mixed traffic on the multi-server setup for SOAK_SECONDS (600 by default),
all real HTTP through HAProxy: anonymous visitors browsing the catalog, shoppers with
carts, two orders a second paid on the payment sandbox, staff shipping and refunding in
the admin. At the end it compares the shop's orders with the sandbox's payments and the
SMTP server's messages, and prints each gunicorn worker's memory (sampled every 10 s).

Run with `make soak` (not in CI: it takes the whole time it is given)."""

import json
import os
import random
import re
import threading
import time
from collections import Counter
from html.parser import HTMLParser

import psutil
import pytest
import requests

from tests.cluster.harness import buy, csrf, new_offer, shell, wait_for
from tests.conftest import _required

pytestmark = pytest.mark.soak

ORDERS_PER_SECOND = 2
SHOPPING_OFFERS = 8
SAMPLE_SECONDS = 10
SHIPPED = re.compile(r"Your Arkiv order (\S+) is on its way")
REFUNDED = re.compile(r"A refund for your Arkiv order (\S+)")
CONFIRMED = re.compile(r"Your Arkiv order (\S+) is confirmed")


@pytest.fixture(scope="module", autouse=True)
def asked_for():
    if not _required("ARKIV_SOAK"):
        pytest.skip("the soak runs with `make soak` (ARKIV_SOAK=1)")


class FormFields(HTMLParser):
    """The fields a form sends as shown: its inputs' and textareas' names and values."""

    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"input", "textarea"} and attrs.get("name") and attrs.get("type") != "submit":
            self.fields[attrs["name"]] = attrs.get("value") or ""


def form_fields(html):
    parser = FormFields()
    parser.feed(html)
    return parser.fields


class Traffic:
    """Counts every answer by status; remembers what went wrong."""

    def __init__(self, base):
        self.base = base
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.errors = []
        self.stop = threading.Event()

    def count(self, response):
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.errors.append(f"{response.status_code} {response.request.method} {response.url}")
        return response

    def get(self, session, path, **kwargs):
        return self.count(session.get(self.base + path, timeout=60, **kwargs))

    def post(self, session, path, data, **kwargs):
        return self.count(session.post(self.base + path, data, timeout=60, **kwargs))

    def failed(self, what, exc):
        with self.lock:
            self.errors.append(f"{what}: {exc!r}")


def catalog_paths(traffic):
    """The catalog's pages, as links found on its list pages and release pages."""
    session = requests.Session()
    paths = {"/", "/composers/", "/artists/", "/labels/", "/releases/", "/search/?q=bach", "/search/?q=bethoven"}
    for start in ("/", "/releases/", "/composers/", "/artists/", "/labels/"):
        page = traffic.get(session, start).text
        paths |= set(re.findall(r'href="(/(?:composers|artists|labels|releases|genres)/[^"#?]+)"', page))
    releases = [p for p in paths if p.startswith("/releases/") and p.count("/") == 3][:40]
    for release in releases:
        page = traffic.get(session, release).text
        paths |= set(re.findall(r'href="(/(?:composers|artists|labels|genres)/[^"#?]+)"', page))
    return sorted(p for p in paths if not p.endswith("cover.svg"))


def browse(traffic, paths):
    session = requests.Session()
    weights = [1 / (rank + 1) for rank in range(len(paths))]  # a few pages are popular, most are not
    while not traffic.stop.is_set():
        try:
            traffic.get(requests.Session() if random.random() < 0.2 else session, random.choices(paths, weights)[0])
        except requests.RequestException as exc:
            traffic.failed("browse", exc)


def shop_with_a_cart(traffic, paths, offers):
    """A visitor who keeps a cart: adds a record, browses, looks at the cart, never pays."""
    while not traffic.stop.is_set():
        session = requests.Session()
        try:
            pk, path = random.choice(offers)
            token, _ = csrf(session, traffic.base + path)
            traffic.post(session, "/cart/add/", {"offer": pk, "quantity": 1, "csrfmiddlewaretoken": token})
            for _ in range(8):
                traffic.get(session, random.choice(paths))
            traffic.get(session, "/cart/")
        except (requests.RequestException, AssertionError) as exc:
            traffic.failed("cart", exc)


def place_orders(traffic, cluster, offers, placed, slot, slots):
    """One of `slots` buyers; together they start ORDERS_PER_SECOND orders a second."""
    interval = slots / ORDERS_PER_SECOND
    next_start = time.monotonic() + slot / ORDERS_PER_SECOND
    while not traffic.stop.is_set():
        delay = next_start - time.monotonic()
        if delay > 0:
            traffic.stop.wait(delay)
            continue
        next_start += interval
        pk, path = random.choice(offers)
        try:
            number = buy(cluster, pk, path, email=f"soak-{slot}@example.com")
        except Exception as exc:  # noqa: BLE001 - every failure is reported at the end
            traffic.failed("order", exc)
            continue
        with traffic.lock:
            placed.append(number)


def staff_session(cluster):
    """A signed-in staff member's browser: password and second factor, as the admin's
    login leaves them."""
    printed = shell(
        cluster,
        "from django.conf import settings; from django.test import Client; "
        "from accounts.models import User; from tests.conftest import staff_login; "
        "u = User.objects.create_superuser(email='fulfilment@arkiv.example', password='soak-staff-pw-1853'); "
        "c = Client(); staff_login(c, u); "
        "print(settings.SESSION_COOKIE_NAME, c.cookies[settings.SESSION_COOKIE_NAME].value)",
    )
    name, value = printed.splitlines()[-1].split()
    session = requests.Session()
    session.cookies.set(name, value)
    return session


def order_pk(traffic, session, number):
    page = traffic.get(session, f"/admin/orders/order/?q={number}").text
    return re.search(r'href="/admin/orders/order/(\d+)/change/', page).group(1)


def admin_action(traffic, session, url, changes, done):
    page = traffic.get(session, url)
    assert page.status_code == 200, page.status_code
    data = {**form_fields(page.text), **changes}
    answer = traffic.post(session, url, data, headers={"Referer": traffic.base + url})
    if done in answer.text:
        return True
    said = re.findall(r'<li class="(?:error|warning|success|info)[^"]*">(.*?)</li>', answer.text, re.S)
    raise AssertionError(f"{url} not done: {answer.url} {said[:2] or answer.text[:300]!r}")


def staff(traffic, cluster, placed, actions):
    """Ships the oldest paid orders and refunds part of every third shipped one."""
    session = staff_session(cluster)
    while True:
        if traffic.stop.wait(1):
            return
        with traffic.lock:
            waiting = [number for number in placed if number not in actions["shipped"]]
        for number in waiting[:5]:
            try:
                pk = order_pk(traffic, session, number)
                url = f"/admin/orders/order/{pk}/ship/"
                if admin_action(traffic, session, url, {"tracking_number": f"SOAK{pk}"}, "shipped; payment captured"):
                    actions["shipped"].append(number)
                if len(actions["shipped"]) % 3 == 0 and number in actions["shipped"]:
                    url = f"/admin/orders/order/{pk}/refund/"
                    if admin_action(traffic, session, url, {"amount": "1.00", "note": "soak"}, "Refunded 1.00"):
                        actions["refunded"].append(number)
            except (requests.RequestException, AssertionError, AttributeError) as exc:
                traffic.failed(f"staff {number}", exc)


def sample_memory(cluster, samples, stop):
    """RSS in MB of every gunicorn worker of both app servers, every SAMPLE_SECONDS."""
    while True:
        for server in ("app1", "app2"):
            for worker in psutil.Process(cluster.pid(server)).children():
                try:
                    rss = worker.memory_info().rss / 2**20
                except psutil.NoSuchProcess:
                    continue
                samples.setdefault(f"{server} worker {worker.pid}", []).append(rss)
        if stop.wait(SAMPLE_SECONDS):
            return


def test_soak(cluster):
    seconds = int(os.environ.get("SOAK_SECONDS", "600"))
    loaded = shell(cluster, "from django.core.management import call_command; call_command('load_demo_catalog')")
    print(loaded.splitlines()[-1:] if loaded else "")
    offers = [new_offer(cluster, price=f"{12 + i}.50", stock=100_000) for i in range(SHOPPING_OFFERS)]
    traffic = Traffic(cluster.url("haproxy"))
    paths = catalog_paths(traffic)
    placed, actions, samples = [], {"shipped": [], "refunded": []}, {}
    memory_stop = threading.Event()
    buyers = 10  # each purchase takes a few seconds; enough of them start two a second
    threads = (
        [threading.Thread(target=browse, args=(traffic, paths)) for _ in range(3)]
        + [threading.Thread(target=shop_with_a_cart, args=(traffic, paths, offers)) for _ in range(2)]
        + [
            threading.Thread(target=place_orders, args=(traffic, cluster, offers, placed, slot, buyers))
            for slot in range(buyers)
        ]
        + [threading.Thread(target=staff, args=(traffic, cluster, placed, actions))]
    )
    sampler = threading.Thread(target=sample_memory, args=(cluster, samples, memory_stop))
    sampler.start()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    traffic.stop.wait(seconds)
    traffic.stop.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started
    memory_stop.set()
    sampler.join()

    # The workers finish the outbox; then the shop, the processor and the mail server
    # must tell the same story.
    wait_for(
        lambda: shell(cluster, "from mailer.models import Message; print(Message.objects.count())") == "0",
        "the outbox to empty",
        seconds=600,
    )
    shop = json.loads(
        shell(
            cluster,
            "import json; from orders.models import Order; print(json.dumps([[o.number, o.status, "
            "o.payment_intent_id, str(o.amount_captured), str(o.amount_refunded)] for o in Order.objects.all()]))",
        ).splitlines()[-1]
    )
    intents = {}
    for _, _, intent_id, _, _ in shop:
        answer = requests.get(
            f"{cluster.url('sandbox')}/v1/payment_intents/{intent_id}", auth=("sk_test_cluster", ""), timeout=30
        )
        intents[intent_id] = answer.json()
    events = requests.get(f"{cluster.url('sandbox')}/v1/events", auth=("sk_test_cluster", ""), timeout=60).json()
    paid_intents = {
        event["data"]["object"].get("payment_intent") or event["data"]["object"].get("id")
        for event in events["data"]
        if event["type"] == "checkout.session.completed"
    }
    subjects = cluster.inbox.subjects()

    def per_order(pattern):
        return Counter(m.group(1) for m in map(pattern.search, subjects) if m)

    confirmed, shipped, refunded = per_order(CONFIRMED), per_order(SHIPPED), per_order(REFUNDED)
    numbers = [number for number, *_ in shop]
    print(f"\nsoak: {elapsed:.0f} s through HAProxy")
    print(f"  answers by status: {dict(sorted(traffic.statuses.items()))}, {sum(traffic.statuses.values())} in all")
    print(f"  orders placed and paid: {len(placed)} ({len(placed) / elapsed:.2f}/s), in the shop: {len(shop)}")
    print(f"  shipped in the admin: {len(actions['shipped'])}, refunded in part: {len(actions['refunded'])}")
    print(f"  payments at the sandbox: {len(paid_intents)} completed checkouts")
    print(
        f"  emails at the SMTP server: {len(subjects)} ({sum(confirmed.values())} confirmations, "
        f"{sum(shipped.values())} shipped, {sum(refunded.values())} refunds)"
    )
    print("  gunicorn worker RSS, MB (first / after a minute / last / max):")
    for worker, rss in sorted(samples.items()):
        warm = rss[min(6, len(rss) - 1)]
        print(f"    {worker}: {rss[0]:.1f} / {warm:.1f} / {rss[-1]:.1f} / {max(rss):.1f} ({len(rss)} samples)")
    if traffic.errors:
        print("  problems:", *traffic.errors[:30], sep="\n    ")

    assert not [status for status in traffic.statuses if status >= 500], traffic.errors[:30]
    assert not traffic.errors, traffic.errors[:30]
    # No lost or doubled order: every purchase a shopper finished is one order, and no other.
    assert sorted(placed) == sorted(numbers)
    # No lost or doubled payment: one completed checkout per order, and the processor's
    # amounts are the shop's.
    assert paid_intents == {intent_id for _, _, intent_id, _, _ in shop}
    for number, status, intent_id, captured, refunded_amount in shop:
        intent = intents[intent_id]
        assert intent["amount_received"] == round(float(captured) * 100), (number, status, intent)
        assert intent["amount_refunded"] == round(float(refunded_amount) * 100), (number, status, intent)
    # No lost or doubled email: one confirmation per order, one shipping notice per
    # shipped order, one refund notice per refund.
    assert confirmed == Counter(numbers)
    assert shipped == Counter(actions["shipped"])
    assert refunded == Counter(actions["refunded"])
    # Memory stays flat once the workers are warm (the first minute fills caches).
    for worker, rss in samples.items():
        warm = rss[min(6, len(rss) - 1)]
        assert rss[-1] - warm < 50, (worker, rss)
