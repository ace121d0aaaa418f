"""On SQLite, search runs on FTS5 indexes (words of the folded search text, trigrams of
the vocabulary), not on LIKE scans that read every row: what keeps the embedded default
fast on a catalog of 100,000 releases."""

import pytest
from django.db import connection

from catalog.models import Artist, Composer, Release, Work
from catalog.search import _name_q, _term_q, _with_vector, sqlite_trigram_candidates


@pytest.fixture
def sqlite(db):
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 indexes exist on SQLite only")


def plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def test_release_word_search_uses_the_full_text_index(sqlite):
    queryset = _with_vector(Release.objects.order_by()).filter(_term_q("brahms", model=Release))
    queryset = queryset.filter(_term_q("symphony", model=Release))
    found = plan(queryset)
    assert "catalog_release_fts VIRTUAL TABLE" in found
    assert "LIKE" not in str(queryset.query)


def test_work_catalogue_number_search_uses_the_full_text_index(sqlite):
    queryset = _with_vector(Work.objects.all()).filter(_term_q("bwv1007", exact=True))
    assert "catalog_work_fts VIRTUAL TABLE" in plan(queryset)


def test_composer_and_performer_name_search_use_the_full_text_index(sqlite):
    assert "catalog_composer_fts VIRTUAL TABLE" in plan(Composer.objects.filter(_name_q(Composer, "schub")))
    assert "catalog_artist_fts VIRTUAL TABLE" in plan(Artist.objects.filter(_name_q(Artist, "karaj")))


def test_typo_shortlist_uses_the_trigram_index(sqlite):
    assert "catalog_searchterm_fts VIRTUAL TABLE" in plan(sqlite_trigram_candidates("qqqzzzxxx"))


def test_full_text_index_finds_only_whole_word_prefixes(sqlite):
    # " op27no2 " answers to "op27no2" exactly, never to the middle of a word.
    works = Work.objects.filter(_term_q("27no2", exact=True))
    assert not works.exists()
    assert Work.objects.filter(_term_q("op27no2", exact=True), composer__slug="beethoven").exists()
