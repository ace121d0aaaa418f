import os

import pytest

from tests.conftest import chromium_path


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; the test's own
    # database calls are still synchronous, so Django's async-safety guard does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


# Reports every Content-Security-Policy violation of every document the journey opens
# (the event fires on the document; the binding outlives navigations).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportCspViolation(
    event.effectiveDirective + " blocked " + (event.blockedURI || "inline") + " on " + event.documentURI
  );
});
"""


@pytest.fixture
def csp_violations():
    """What the browser refused under the Content-Security-Policy during one journey."""
    return []


@pytest.fixture
def page(browser, live_server, csp_violations):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.expose_function("reportCspViolation", lambda text: csp_violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15000)
    # Chromium also logs violations it reports nowhere else (a form sent to a forbidden
    # origin, a blocked redirect) on the console.
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text),
    )
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _no_csp_violations(request, csp_violations):
    """Every journey fails if the browser blocked anything the shop's pages asked for."""
    yield
    if "page" in request.fixturenames:
        assert csp_violations == [], "Content-Security-Policy violations: " + "; ".join(csp_violations)
