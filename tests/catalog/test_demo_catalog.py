"""The demo catalog: real composers and works, generated releases marked as demo data."""

import pytest
from django.core.management import call_command

from catalog.models import Composer, ComposerAlias, Offer, Recording, Release, Track, Work
from catalog.openopus import load_composers_and_works
from catalog.text import fold

pytestmark = pytest.mark.django_db


def test_every_composer_is_loaded_with_dates_period_and_works():
    assert Composer.objects.count() == 220
    beethoven = Composer.objects.get(slug="beethoven")
    assert (beethoven.full_name, beethoven.birth_year, beethoven.death_year, beethoven.period) == (
        "Ludwig van Beethoven",
        1770,
        1827,
        "early-romantic",
    )
    assert not Composer.objects.filter(works__isnull=True).exists()
    assert Work.objects.filter(composer=beethoven).count() >= 15


def test_titles_are_read_into_number_key_catalogue_numbers_and_nickname():
    work = Work.objects.get(composer__slug="beethoven", title__startswith="Piano Sonata no. 14")
    assert (work.form, work.number, work.key, work.nickname) == ("Piano Sonata", "14", "C sharp minor", "Moonlight")
    assert [str(c) for c in work.catalogue_numbers.all()] == ["op. 27 no. 2"]
    bach = Work.objects.get(composer__slug="bach", title__startswith="Cello Suite no. 1")
    assert [(c.system, c.number, c.token) for c in bach.catalogue_numbers.all()] == [("BWV", "1007", "bwv1007")]


def test_name_variants_become_aliases():
    aliases = set(ComposerAlias.objects.filter(composer__slug="tchaikovsky").values_list("folded", flat=True))
    assert {"tchaikovsky", "tschaikowsky", "czajkowski"} <= aliases
    assert all(a == fold(a) for a in aliases)


def test_loading_composers_again_changes_nothing():
    before = (Composer.objects.count(), Work.objects.count(), ComposerAlias.objects.count())
    load_composers_and_works()
    assert (Composer.objects.count(), Work.objects.count(), ComposerAlias.objects.count()) == before


def test_demo_command_builds_a_shop_and_running_it_twice_duplicates_nothing(capsys):
    call_command("load_demo_catalog", releases=300)
    counts = [m.objects.count() for m in (Release, Recording, Track, Offer, Work, Composer)]
    assert counts[0] == 300
    call_command("load_demo_catalog", releases=300)
    assert [m.objects.count() for m in (Release, Recording, Track, Offer, Work, Composer)] == counts
    assert "0 new releases" in capsys.readouterr().out


def test_demo_releases_are_marked_priced_and_mostly_available():
    call_command("load_demo_catalog", releases=200)
    assert not Release.objects.filter(is_demo=False).exists()
    assert all("Demo data" in notes for notes in Release.objects.values_list("notes", flat=True))
    assert not Release.objects.filter(min_price__isnull=True).exists()
    assert Offer.objects.filter(made_to_order=True, lead_time_days__gt=0).exists()
    in_stock = Offer.objects.filter(made_to_order=False, stock__gt=0).count()
    assert in_stock / Offer.objects.count() > 0.7
    # Work pages count what they list.
    work = Work.objects.filter(recording_count__gt=0).first()
    assert work.recording_count == Recording.objects.filter(work=work).count()


def test_demo_generation_resumes_where_it_stopped():
    call_command("load_demo_catalog", releases=100)
    first = list(Release.objects.order_by("pk").values_list("catalog_number", flat=True))
    call_command("load_demo_catalog", releases=150)
    again = list(Release.objects.order_by("pk").values_list("catalog_number", flat=True))
    assert again[:100] == first and len(again) == 150 == len(set(again))
