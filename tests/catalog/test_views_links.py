"""The rows of work, performer and release-list pages link to each release, cover,
work and composer by URLs filled in from one reversed path per list: each must be the
object's own URL, in the page's language."""

import pytest
from django.core.cache import cache
from django.utils import translation

from catalog.models import Role
from tests.factories import CreditFactory, RecordingFactory, ReleaseFactory, WorkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def recordings():
    work = WorkFactory(title="Cello Suite No. 1")
    return [
        CreditFactory(
            role=Role.CONDUCTOR, recording=RecordingFactory(work=work, release=ReleaseFactory(slug=f"suites-{n}"))
        ).recording
        for n in range(3)
    ]


@pytest.mark.parametrize("language, prefix", [(None, ""), ("de", "/de")])
def test_a_work_page_links_each_release_and_its_cover_in_the_page_language(client, recordings, language, prefix):
    cache.clear()
    work = recordings[0].work
    with translation.override(language):
        expected = [(r.release.get_absolute_url(), r.release.get_cover_url()) for r in recordings]
        url = prefix + work.get_absolute_url().removeprefix(prefix)
    body = client.get(url).content.decode()

    for release_url, cover_url in expected:
        assert f'href="{release_url}"' in body
        assert f'src="{cover_url}"' in body
    if prefix:
        assert all(release_url.startswith("/de/releases/") for release_url, _ in expected)


@pytest.mark.parametrize("language, prefix", [(None, ""), ("de", "/de")])
def test_a_performer_page_links_each_composer_work_and_release(client, recordings, language, prefix):
    cache.clear()
    artist = recordings[0].credits.get().artist
    for recording in recordings[1:]:
        CreditFactory(artist=artist, recording=recording, role=Role.SOLOIST)
    with translation.override(language):
        work = recordings[0].work
        expected = {work.composer.get_absolute_url(), work.get_absolute_url()}
        expected |= {r.release.get_absolute_url() for r in recordings}
        url = artist.get_absolute_url()
    body = client.get(url).content.decode()

    for link in expected:
        assert f'href="{link}"' in body


def test_the_new_releases_list_links_each_card_and_cover(client, recordings):
    cache.clear()
    body = client.get("/de/releases/").content.decode()

    with translation.override("de"):
        for recording in recordings:
            assert f'href="{recording.release.get_absolute_url()}"' in body
            assert f'src="{recording.release.get_cover_url()}"' in body
