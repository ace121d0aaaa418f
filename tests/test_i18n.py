"""The shop in English and German: the address names the language, the browser's
Accept-Language chooses on arrival at the home page, and no cookie ever does (P7)."""

from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.utils import translation

from tests.factories import OfferFactory

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"

pytestmark = pytest.mark.django_db


def test_german_pages_live_under_de_and_say_so(client):
    response = client.get("/de/composers/")

    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    page = response.content.decode()
    assert '<html lang="de">' in page
    assert ">Komponisten</a>" in page
    assert "Zum Inhalt springen" in page


def test_english_stays_at_the_root_without_a_prefix(client):
    response = client.get("/composers/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="en-gb">' in page
    assert ">Composers</a>" in page


def test_a_browser_preferring_german_arriving_at_the_home_page_gets_the_german_one(client):
    response = client.get("/", headers={"accept-language": "de-DE,de;q=0.9,en;q=0.5"})

    assert response.status_code == 302
    assert response["Location"] == "/de/"
    assert "Accept-Language" in response["Vary"]


def test_choosing_english_on_a_german_page_sticks_though_the_browser_prefers_german(client):
    response = client.get(
        "/",
        headers={"accept-language": "de", "referer": "http://testserver/de/"},
    )

    assert response.status_code == 200
    assert '<html lang="en-gb">' in response.content.decode()


@pytest.mark.parametrize("accept", ["", "en-GB,en;q=0.9", "fr-FR,fr;q=0.9", "*"])
def test_other_browsers_get_the_english_home_page(client, accept):
    response = client.get("/", headers={"accept-language": accept} if accept else {})

    assert response.status_code == 200
    assert '<html lang="en-gb">' in response.content.decode()


def test_only_the_home_page_follows_the_browser(client):
    response = client.get("/composers/", headers={"accept-language": "de"})

    assert response.status_code == 200
    assert '<html lang="en-gb">' in response.content.decode()


def test_no_language_is_ever_kept_in_a_cookie(client):
    for path, headers in [("/", {"accept-language": "de"}), ("/de/", {}), ("/de/cart/", {}), ("/composers/", {})]:
        response = client.get(path, headers=headers)
        assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
        assert set(response.cookies) <= {django_settings.SESSION_COOKIE_NAME, django_settings.CSRF_COOKIE_NAME}


def test_a_language_cookie_a_visitor_brings_changes_nothing(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "de"

    response = client.get("/composers/")

    assert '<html lang="en-gb">' in response.content.decode()


def test_every_page_links_its_other_language_with_the_same_query(client, settings):
    settings.ARKIV_SITE_URL = "https://shop.example"
    page = client.get("/composers/?page=1").content.decode()

    assert '<link rel="alternate" hreflang="de" href="https://shop.example/de/composers/?page=1">' in page
    assert '<link rel="alternate" hreflang="en-gb" href="https://shop.example/composers/?page=1">' in page
    assert '<link rel="alternate" hreflang="x-default" href="https://shop.example/composers/?page=1">' in page
    assert 'href="/de/composers/?page=1" hreflang="de" lang="de" id="language-switch">Deutsch</a>' in page


def test_the_german_page_switches_back_to_english(client):
    page = client.get("/de/composers/").content.decode()

    assert 'href="/composers/" hreflang="en-gb" lang="en-gb" id="language-switch">English</a>' in page


def test_a_cached_page_is_kept_per_language_with_each_visitors_parts_in_it(client):
    offer = OfferFactory()
    url = offer.release.get_absolute_url()
    client.get(url)  # the English page, now cached
    client.get("/de" + url)  # the German page, cached on its own

    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    english = client.get(url).content.decode()
    german = client.get("/de" + url).content.decode()

    assert '<html lang="en-gb">' in english and ">Cart <" in english
    assert '<html lang="de">' in german and ">Warenkorb <" in german
    assert 'href="/de/cart/"' in german


def test_the_admin_and_the_probes_have_no_german_copy(client):
    assert client.get("/de/admin/").status_code == 404
    assert client.get("/de/healthz").status_code == 404


def test_every_message_has_its_german_translation():
    catalogue = polib.pofile(str(CATALOGUE))

    assert not catalogue.metadata_is_fuzzy
    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []


def test_the_compiled_catalogue_the_shop_loads_is_in_step_with_its_source():
    catalogue = polib.pofile(str(CATALOGUE))

    with translation.override("de"):
        for entry in catalogue.translated_entries():
            if entry.msgid_plural:
                for n, index in ((1, 0), (2, 1)):
                    if entry.msgctxt:
                        found = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    else:
                        found = translation.ngettext(entry.msgid, entry.msgid_plural, n)
                    assert found == entry.msgstr_plural[index]
            elif entry.msgctxt:
                assert translation.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr
            else:
                assert translation.gettext(entry.msgid) == entry.msgstr


def test_the_carts_country_list_is_in_the_pages_language_with_the_buyers_choice_marked(client):
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    client.get("/cart/?country=AT")
    german = client.get("/de/cart/").content.decode()
    english = client.get("/cart/").content.decode()

    assert '<option value="AT" selected>Österreich</option>' in german
    assert '<option value="DE">Deutschland</option>' in german
    assert '<option value="AT" selected>Austria</option>' in english
    assert '<option value="DE">Germany</option>' in english
    assert german.index(">Oman<") < german.index(">Österreich<") < german.index(">Pakistan<")


def test_the_navigation_and_footer_follow_the_pages_language(client):
    english = client.get("/cart/").content.decode()
    german = client.get("/de/cart/").content.decode()
    english_again = client.get("/composers/").content.decode()

    assert 'href="/de/composers/">Komponisten</a>' in german and ">Versandkosten</a>" in german
    assert 'href="/composers/">Composers</a>' in english and ">Shipping costs</a>" in english
    assert 'href="/composers/">Composers</a>' in english_again


def test_the_shipping_page_names_each_zone_in_the_pages_language(client):
    english = client.get("/shipping/").content.decode()
    german = client.get("/de/shipping/").content.decode()

    assert ">European Union</h2>" in english and ">Rest of the world</h2>" in english
    assert ">Europäische Union</h2>" in german and ">Übrige Welt</h2>" in german
