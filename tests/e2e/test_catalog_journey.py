"""A shopper finds a work and a recording of it in a real browser."""

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


def test_shopper_searches_opens_a_work_and_a_release(page, demo_catalog):
    page.goto("/")
    page.get_by_label("Search the catalog").first.fill("beethoven 9")
    page.get_by_role("button", name="Search").first.click()
    page.wait_for_url(re.compile(r"/search/\?q=beethoven"))

    page.locator("#work-results").get_by_role("link", name=re.compile(r"Symphony no\. 9 in D minor")).click()
    page.wait_for_url(re.compile(r"/composers/beethoven/symphony-no-9"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Symphony no. 9 in D minor")
    recordings = page.locator("li.recording")
    assert recordings.count() >= 3
    assert page.locator("text=Allegro ma non troppo").count() == 1  # movements shown on the work page

    page.select_option("#f-sort", "price")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"sort=price"))
    title = recordings.first.locator("a.fw-semibold").inner_text()
    recordings.first.locator("a.fw-semibold").click()

    page.wait_for_url(re.compile(r"/releases/"))
    assert page.get_by_role("heading", level=1).inner_text().startswith(title)
    assert page.locator("ol.tracks li").count() >= 2
    assert page.locator("tr.offer").count() >= 1
    assert re.search(r"€\d+\.\d\d", page.locator("table.offers").inner_text())
    assert page.get_by_role("button", name="Add to cart").count() >= 1


def test_misspelt_search_shows_corrected_results(page, demo_catalog):
    page.goto("/search/?q=tschaikowsky+pathetique")
    assert "Pathétique" in page.locator("#work-results").inner_text()
    page.goto("/search/?q=bethoven")
    assert "beethoven" in page.locator("#did-you-mean").inner_text()
    page.locator("#composer-results a").first.click()
    page.wait_for_url(re.compile(r"/composers/beethoven/"))
    assert "Ludwig van Beethoven" in page.get_by_role("heading", level=1).inner_text()
