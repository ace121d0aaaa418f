"""Queries and time of each step of a purchase, in-process, through the payment sandbox.

    python bench/checkout_steps.py [--rounds 20]

Runs on a copy of var/arkiv.sqlite3 (loaded by `make run`), or on DATABASE_URL. Prints
figures; passes or fails nothing."""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "arkiv.settings",
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "STATIC_MANIFEST": "0",
        "SECRET_KEY": "benchmark-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "testserver",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
)
if not os.environ.get("DATABASE_URL"):
    copy = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    shutil.copy(ROOT / "var" / "arkiv.sqlite3", copy)
    os.environ["SQLITE_PATH"] = str(copy)

STEPS = ["add to cart", "view cart", "checkout form", "place order", "return from payment", "order page"]
FORM = {
    "email": "bench@example.com",
    "phone": "+44 20 7946 0000",
    "billing_name": "Bench Buyer",
    "billing_line1": "1 Test Road",
    "billing_city": "London",
    "billing_postcode": "N1 1AA",
    "billing_country": "GB",
    "same_address": "on",
    "shipping_method": "standard",
    "age": "adult",
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Offer
    from orders.sandbox import PaymentSandbox, serve
    from tests.orders.helpers import pay

    server = serve(None, "127.0.0.1", 0)
    host, port = server.server_address
    server.set_app(PaymentSandbox(public_url=f"http://{host}:{port}"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = f"http://{host}:{port}", "sk_test_bench"

    offers = list(Offer.objects.filter(made_to_order=False, stock__gt=20, is_active=True)[: args.rounds])
    timings = {step: [] for step in STEPS}
    queries = {step: 0 for step in STEPS}

    def step(name, method, *args):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = method(*args)
            timings[name].append((time.perf_counter() - start) * 1000)
        queries[name] = len(ctx.captured_queries)
        return response

    for offer in offers:
        client = Client()
        step("add to cart", client.post, "/cart/add/", {"offer": offer.pk, "quantity": 1})
        step("view cart", client.get, "/cart/")
        page = step("checkout form", client.get, "/checkout/").content.decode()
        token = re.search(r'name="checkout_token" value="([^"]+)"', page).group(1)
        payment_url = step("place order", client.post, "/checkout/", {**FORM, "checkout_token": token})["Location"]
        _, back, _ = pay(payment_url)
        order_url = step("return from payment", client.get, back.removeprefix("http://testserver"))["Location"]
        step("order page", client.get, order_url)
    server.shutdown()

    print(f"Database: {connection.vendor}; {len(offers)} purchases; the processor's own page is not timed.")
    print(f"\n{'step':22} {'queries':>8} {'median ms':>10} {'p90 ms':>8}")
    for name in STEPS:
        values = sorted(timings[name])
        p90 = values[int(len(values) * 0.9) - 1] if values else 0
        print(f"{name:22} {queries[name]:8d} {statistics.median(values):10.1f} {p90:8.1f}")


if __name__ == "__main__":
    main()
