"""A German-speaking visitor creates an account in a real browser: the browser's
language leads to the German shop, a first try with mistakes is answered in German, the
verification email is German and links to the German page, whose button signs in, and
the account pages are German."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail

from accounts.models import User
from tests.e2e.conftest import REPORT_VIOLATIONS
from tests.e2e.test_accessibility import WCAG_AA, describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"


def assert_accessible(page):
    violations = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response["violations"]
    assert violations == [], f"{page.url}:\n{describe(violations)}"


@pytest.fixture
def german_page(browser, live_server, csp_violations):
    """A browser set up in German (its Accept-Language says de-DE first)."""
    context = browser.new_context(base_url=live_server.url, locale="de-DE", viewport={"width": 1280, "height": 900})
    context.expose_function("reportCspViolation", lambda text: csp_violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    assert csp_violations == [], "Content-Security-Policy violations: " + "; ".join(csp_violations)


def test_a_german_visitor_signs_up_in_german_and_gets_a_german_email_and_account(german_page):
    page = german_page
    page.goto("/")
    assert page.url.endswith("/de/")
    page.locator("#account-link").click()
    page.get_by_role("heading", name="Anmelden").wait_for()
    page.get_by_role("link", name="Konto anlegen").click()
    page.get_by_role("heading", name="Konto anlegen").wait_for()
    assert "/de/account/sign-up/" in page.url

    page.fill("#id_email", "clara-at-example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", "ein-anderes-passwort")
    page.get_by_role("button", name="Konto anlegen").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert "Bei Ihrer Eingabe gibt es Probleme" in summary.inner_text()
    assert "Bitte gültige E-Mail-Adresse eingeben." in summary.inner_text()
    assert "Die beiden Passwörter sind nicht identisch." in summary.inner_text()
    assert not User.objects.exists()
    assert_accessible(page)

    page.fill("#id_email", "clara@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_label("Senden Sie mir Angebote per E-Mail. (Wir senden Ihnen einen Link zur Bestätigung.)").check()
    page.get_by_role("button", name="Konto anlegen").click()
    page.get_by_role("heading", name="Sehen Sie in Ihren Posteingang").wait_for()

    [verify] = [m for m in mail.outbox if "/account/verify/" in m.body]
    assert verify.subject == "Bestätigen Sie Ihre E-Mail-Adresse für Arkiv"
    assert "Der Link funktioniert einmal, drei Tage lang" in verify.body
    link = re.search(r"https?://[^/\s]+(/\S*/account/verify/\S+)", verify.body).group(1)
    assert link.startswith("/de/account/verify/")
    [offers] = [m for m in mail.outbox if "/offers/confirm/" in m.body]
    assert offers.subject == "Bitte bestätigen Sie: Angebote von Arkiv per E-Mail"

    page.goto(link)
    page.get_by_role("heading", name="Bestätigen Sie Ihre E-Mail-Adresse").wait_for()
    assert User.objects.get().email_verified_at is None  # opening the link changed nothing
    page.get_by_role("button", name="clara@example.com bestätigen").click()
    page.locator(".alert-success").filter(has_text="clara@example.com ist bestätigt.").wait_for()
    assert User.objects.get().email_verified_at is not None

    page.goto("/de/account/")
    page.get_by_role("heading", name="Ihr Konto").wait_for()
    assert "Angemeldet als clara@example.com" in page.locator("main").inner_text()
    assert page.locator("#id_language").input_value() == "de"
    assert_accessible(page)
    page.get_by_role("link", name="Datenschutz und Angebote").click()
    page.get_by_role("heading", name="Datenschutz und Angebote").wait_for()
    assert page.get_by_label("Angebote per Post").is_visible()
    assert page.locator("html").get_attribute("lang") == "de"
    assert_accessible(page)
