import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

from catalog.openopus import load_composers_and_works
from catalog.services import rebuild_search_terms


def _required(name):
    # CI sets these so that a missing PostgreSQL or browser fails instead of skipping.
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the real composers and works (Open Opus), as the
    shop itself does; releases and performers are made by each test's factories."""
    with django_db_blocker.unblock():
        load_composers_and_works()
        rebuild_search_terms()


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        if _required("ARKIV_REQUIRE_POSTGRES"):
            pytest.fail("ARKIV_REQUIRE_POSTGRES is set but the tests are not running on PostgreSQL")
        pytest.skip("needs PostgreSQL: set DATABASE_URL to a PostgreSQL server")


def chromium_path():
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        if _required("ARKIV_REQUIRE_BROWSER"):
            pytest.fail(f"ARKIV_REQUIRE_BROWSER is set but no Chromium at {path}")
        pytest.skip("needs Chromium (apt-get install chromium) for browser journeys")
    return path


@pytest.fixture(autouse=True)
def _default_language():
    """A request to a German page leaves German active in the thread, as in a server;
    each test starts in the shop's default language, as a new request would."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Cached pages, rate-limit counts and the mail retry marker must not leak from one
    test into another."""
    from django.core.cache import cache, caches

    cache.clear()
    names = set(request.fixturenames)
    if not request.node.get_closest_marker("django_db"):
        if not {"db", "transactional_db"} & names:
            return  # no database for this test, so nothing shared to clear
        request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    caches["shared"].clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request, django_db_blocker):
    """Rate-limit counts live in a database table that tests on a real transaction (the
    browser journeys) do not roll back: clear them after each of those."""
    yield
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        from django.core.cache import caches

        with django_db_blocker.unblock():
            caches["shared"].clear()


@pytest.fixture(autouse=True)
def _shipping_zones(request):
    """The default shipping zones come from a data migration; a test on a real transaction
    (the browser journeys) empties every table after it, so put them back for the next."""
    if not {"transactional_db", "live_server"} & set(request.fixturenames) and not (
        (marker := request.node.get_closest_marker("django_db")) and marker.kwargs.get("transaction")
    ):
        return
    from django.conf import settings

    from orders.models import ShippingRate, ShippingZone
    from orders.shipping_defaults import create_default_zones

    request.getfixturevalue("transactional_db")  # the test database, set up first
    if not ShippingZone.objects.exists():
        create_default_zones(ShippingZone, ShippingRate, settings.ARKIV_SHOP_COUNTRY)


@pytest.fixture
def payment_sandbox(settings):
    """The local payment sandbox on a free port, with the shop's settings pointing at it.
    Webhooks are not sent by itself here: tests deliver sandbox.events to the shop."""
    import threading

    from orders.sandbox import PaymentSandbox, serve

    server = serve(None, "127.0.0.1", 0)
    host, port = server.server_address
    app = PaymentSandbox(public_url=f"http://{host}:{port}", webhook_secret="whsec_test_secret")
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_API_BASE = f"http://{host}:{port}"
    settings.STRIPE_SECRET_KEY = "sk_test_arkiv"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
    yield app
    server.shutdown()
    server.server_close()


def staff_login(client, user):
    """Sign a staff member in to the admin as a real admin login leaves them: password
    session plus a verified TOTP device (what django_otp.login() stores). Returns the device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, through the admin's second factor."""
    staff_login(client, admin_user)
    return client
