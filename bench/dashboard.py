"""The admin's front page (the shop's dashboard) with many orders, and what the audit
trail costs, on a fresh SQLite database (or DATABASE_URL):

- render time of /admin/ for a signed-in staff member with 100,000 orders spread over
  120 days (two lines each) on the demo catalog, and its query count (fixed);
- the cost of the audit trail: extra time per staff save of an offer (recorded) against
  the same save unrecorded. (The shop's own writes record nothing: tests/test_audit.py.)

A PostgreSQL database from an earlier run is topped up to --orders, not doubled.

    python bench/dashboard.py [--orders 100000] [--renders 7]"""

import argparse
import datetime
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.inprocess import prepare  # noqa: E402  (after ROOT is on the path)

# Static files as collected names, without a collectstatic run first.
WORK = prepare("dashboard.sqlite3", STATIC_MANIFEST="0")


def make_orders(count, offers, *, days=120, batch=5000):
    """`count` orders with two lines each, placed over the last `days` days, mostly paid
    (as a real shop's mix: shipped, awaiting shipment, a few refunded, some unpaid)."""
    from django.utils import timezone

    from orders.models import Order, OrderLine, Status

    created_at = Order._meta.get_field("created_at")
    created_at.auto_now_add = False  # the bench sets each order's date itself
    rng = random.Random(10)
    statuses = [Status.SHIPPED] * 70 + [Status.AUTHORISED] * 10 + [Status.REFUNDED] * 3
    statuses += [Status.PARTIALLY_REFUNDED] * 2 + [Status.EXPIRED] * 10 + [Status.PENDING_PAYMENT] * 5
    now = timezone.now()
    address = {
        f"{kind}_{name}": value
        for kind in ("billing", "shipping")
        for name, value in [
            ("name", "Demo Customer"),
            ("line1", "1 Demo Street"),
            ("city", "Leipzig"),
            ("postcode", "04109"),
            ("country", "DE"),
        ]
    }
    made = 0
    while made < count:
        size = min(batch, count - made)
        orders, chosen = [], []
        for _ in range(size):
            picked = rng.sample(offers, 2)
            subtotal = sum((offer.price for offer in picked), Decimal("0.00"))
            status = rng.choice(statuses)
            placed = now - datetime.timedelta(seconds=rng.randrange(days * 86400))
            paid = status not in (Status.PENDING_PAYMENT, Status.EXPIRED)
            captured = subtotal if status not in (Status.AUTHORISED,) and paid else Decimal("0.00")
            refunded = {Status.REFUNDED: captured, Status.PARTIALLY_REFUNDED: picked[0].price}.get(status, 0)
            orders.append(
                Order(
                    email=f"customer{made}@example.com",
                    phone="+49 341 000000",
                    shipping_method="standard",
                    subtotal=subtotal,
                    shipping_cost=Decimal("0.00"),
                    total=subtotal,
                    status=status,
                    created_at=placed,
                    expires_at=placed + datetime.timedelta(hours=1),
                    authorised_at=placed if paid else None,
                    amount_authorised=subtotal if paid else 0,
                    amount_captured=captured,
                    amount_refunded=refunded,
                    **address,
                )
            )
            chosen.append(picked)
        Order.objects.bulk_create(orders)
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                offer=offer,
                sku=offer.sku,
                title=offer.release.title,
                format_label="CD",
                unit_price=offer.price,
                quantity=1,
            )
            for order, picked in zip(orders, chosen, strict=True)
            for offer in picked
        )
        made += size
        print(f"  orders: {made:,}", flush=True)


def staff_client(user):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def audit_cost(offers, saves=300):
    """Seconds per staff save of an offer's price, recorded and not recorded."""
    from auditlog.context import disable_auditlog, set_actor
    from auditlog.models import LogEntry
    from django.db import transaction

    from accounts.models import User
    from arkiv import audit

    clara = User.objects.filter(email="clara@arkiv.example").first() or User.objects.create_user(
        email="clara@arkiv.example", password="a-long-passphrase", is_staff=True
    )

    def run(recorded):
        started = time.perf_counter()
        for number in range(saves):
            offer = offers[number % len(offers)]
            offer.price += Decimal("0.01")
            with transaction.atomic():
                offer.save()
        return (time.perf_counter() - started) / saves

    with disable_auditlog():
        plain = run(False)
    token = audit._staff_actor.set(clara)
    try:
        with set_actor(clara):
            before = LogEntry.objects.count()
            recorded = run(True)
            rows = LogEntry.objects.count() - before
    finally:
        audit._staff_actor.reset(token)
    return plain, recorded, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from catalog.models import Offer
    from orders.models import Order

    call_command("migrate", verbosity=0)
    if not Offer.objects.exists():
        call_command("load_demo_catalog", verbosity=0)
    offers = list(Offer.objects.select_related("release").order_by("pk")[:2000])
    have = Order.objects.count()
    if have < args.orders:  # a database kept from an earlier run is topped up, not doubled
        started = time.perf_counter()
        make_orders(args.orders - have, offers)
        print(f"{args.orders - have:,} orders made in {time.perf_counter() - started:.1f} s")

    staff = User.objects.filter(email="bench@arkiv.example").first() or User.objects.create_superuser(
        email="bench@arkiv.example", password="a-long-passphrase"
    )
    client = staff_client(staff)
    client.get("/admin/")  # templates compiled, connections open

    def render(fresh):
        times = []
        for _ in range(args.renders):
            if fresh:
                caches["shared"].clear()
            started = time.perf_counter()
            response = client.get("/admin/")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200 and b"shop-dashboard" in response.content
        if fresh:
            caches["shared"].clear()
        with CaptureQueriesContext(connection) as queries:
            client.get("/admin/")
        return statistics.median(times) * 1000, min(times) * 1000, len(queries)

    for fresh, what in [(True, "every figure computed"), (False, "sales figures from the shared cache")]:
        median, best, queries = render(fresh)
        print(
            f"dashboard render with {args.orders:,} orders ({connection.vendor}), {what}: "
            f"median {median:.0f} ms, best {best:.0f} ms, {queries} queries per page"
        )

    plain, recorded, rows = audit_cost(offers)
    print(
        f"staff save of an offer: {plain * 1000:.2f} ms unrecorded, {recorded * 1000:.2f} ms recorded "
        f"(+{(recorded - plain) * 1000:.2f} ms, {rows} audit rows for {300} saves)"
    )


if __name__ == "__main__":
    main()
