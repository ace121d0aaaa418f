"""A shopper whose browser prefers German finds a work by its German title, chooses a
recording and puts it in the cart, all in German, in a real browser."""

import re

import pytest
from django.core.management import call_command

from catalog.models import Work
from tests.factories import make_recordings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_catalog():
    call_command("load_demo_catalog", releases=400)
    ninth = Work.objects.get(composer__slug="beethoven", title__startswith="Symphony no. 9")
    make_recordings(ninth, 3)


@pytest.fixture
def german_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_a_german_shopper_finds_a_work_by_its_german_title_and_adds_a_recording_to_the_cart(german_page, demo_catalog):
    page = german_page
    page.goto("/")
    page.wait_for_url(re.compile(r"/de/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Jede Aufnahme der Musik, die Sie lieben"

    page.get_by_label("Katalog durchsuchen").first.fill("Beethoven Sinfonie Nr. 9 d-Moll")
    page.get_by_role("button", name="Suchen").first.click()
    page.wait_for_url(re.compile(r"/de/search/\?q=Beethoven"))
    page.locator("#work-results").get_by_role("link", name=re.compile(r"Sinfonie Nr\. 9 d-Moll op\. 125")).click()

    page.wait_for_url(re.compile(r"/de/composers/beethoven/symphony-no-9"))
    assert page.get_by_role("heading", level=1).inner_text() == "Sinfonie Nr. 9 d-Moll op. 125 „Choral“"
    assert "d-Moll" in page.locator("dl.work-meta").inner_text()
    page.select_option("#f-sort", "price")
    page.get_by_role("button", name="Anwenden").click()
    page.wait_for_url(re.compile(r"/de/.*sort=price"))
    page.locator("li.recording a.fw-semibold").first.click()

    page.wait_for_url(re.compile(r"/de/releases/"))
    offers = page.locator("table.offers").inner_text()
    assert re.search(r"\d+,\d\d\s€", offers), offers
    assert "Auf die Merkliste" in offers
    page.get_by_role("button", name=re.compile("^In den Warenkorb")).first.click()

    page.wait_for_url(re.compile(r"/de/releases/"))
    assert page.locator("#cart-count-badge").inner_text() == "1"
    page.locator("#language-switch").click()
    page.wait_for_url(re.compile(r"^(?!.*/de/).*/releases/"))
    assert page.get_by_role("button", name=re.compile("^Add to cart")).count() >= 1
