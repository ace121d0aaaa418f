"""On PostgreSQL, search runs on GIN indexes (full text and trigrams), which is what
keeps it fast on a catalog of a million releases."""

import pytest
from django.db import connection

from catalog.models import Release
from catalog.search import _search_works, _term_q, _with_vector, find_composers
from catalog.text import parse_query

pytestmark = pytest.mark.postgres


def plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_search_indexes_exist(postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'catalog_%%_fts' OR indexname LIKE 'catalog_%%_trgm'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {"catalog_work_fts", "catalog_release_fts", "catalog_searchterm_trgm", "catalog_artist_trgm"} <= names


def test_release_word_search_uses_the_full_text_index(postgres):
    queryset = _with_vector(Release.objects.order_by()).filter(_term_q("brahms")).filter(_term_q("symphony"))
    assert "catalog_release_fts" in plan(queryset)


def test_work_search_uses_the_full_text_index(postgres):
    from catalog.models import Work

    queryset = _with_vector(Work.objects.all()).filter(_term_q("bwv1007", exact=True))
    assert "catalog_work_fts" in plan(queryset)


def test_typo_suggestions_come_from_trigram_similarity(postgres):
    from catalog.search import _closest_term

    assert _closest_term("symphonie") in {"symphony", "symphonie"}
    assert _closest_term("brandenburgg") == "brandenburg"


def test_full_text_prefix_matching_finds_works(postgres):
    matches, words = find_composers(parse_query("dvorak").words)
    works = _search_works(matches, words, parse_query("dvorak"), limit=5)
    assert works and all(w.composer.slug == "dvorak" for w in works)


def test_typo_shortlist_uses_the_trigram_index(postgres):
    # A word that matches nothing is the case that used to read the whole vocabulary:
    # a `similarity(...) > x` filter cannot use the index, even with sequential scans off.
    from catalog.search import trigram_shortlist

    assert "catalog_searchterm_trgm" in plan(trigram_shortlist("qqqzzzxxx"))
