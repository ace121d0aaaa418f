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


def test_a_newest_first_word_search_checks_rows_without_parsing_their_text_again(postgres):
    # Common words make the planner walk the release-date index and check each row: the
    # vector it checks is stored with the row (migration 0005), not parsed from its text.
    queryset = _with_vector(Release.objects.all()).filter(_term_q("sonata")).filter(_term_q("da"))
    sql = str(queryset.order_by("-release_date", "-pk")[:10].query)
    assert "search_vector" in sql and "to_tsvector" not in sql


def test_a_release_renamed_is_found_by_its_new_title_at_once(postgres):
    from catalog.search import search_catalog
    from tests.factories import ReleaseFactory

    release = ReleaseFactory(title="Quietly Forgotten", search_text=" quietly forgotten ")
    release.title, release.search_text = "Zauberhafte Abende", " zauberhafte abende "
    release.save()

    assert [r.pk for r in search_catalog("zauberhafte abende").releases] == [release.pk]
    assert search_catalog("forgotten").releases == []


def _release(title, day):
    import datetime

    from tests.factories import ReleaseFactory

    return ReleaseFactory(
        title=title,
        search_text=f" {title.lower()} ",
        release_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=day),
    )


def test_a_two_letter_word_is_checked_on_the_releases_the_longer_words_find(postgres):
    from django.test.utils import CaptureQueriesContext

    from catalog.search import search_catalog

    older = _release("Messe de Nostre Dame", 1)
    newer = _release("Messe de Nostre Dame", 5)
    debut = _release("Nostre Dame Messe: a debut", 3)  # "de" starts "debut"
    _release("Messe Nostre Dame", 9)  # no word starting with "de"
    _release("De profundis", 10)  # "de", but not the other words

    with CaptureQueriesContext(connection) as queries:
        found = search_catalog("Messe de Nostre Dame").releases

    assert [r.pk for r in found] == [newer.pk, debut.pk, older.pk]
    # The rows the longer words found were fenced off: the short word was never
    # gathered from the whole index.
    assert any("MATERIALIZED" in q["sql"] for q in queries.captured_queries)


def test_a_two_letter_word_with_common_longer_words_finds_the_same_newest_releases(postgres, monkeypatch):
    from catalog import search

    # Fewer releases than the longer words find count as "few" here: the search
    # falls back to asking the index for every word at once, with the same answer.
    monkeypatch.setattr(search, "FEW_RELEASES", 2)
    matching = [_release(f"Concerto in {key} major", day) for day, key in enumerate("CDEFGAB")]
    _release("Concerto grosso", 20)
    _release("In the mist", 21)

    found = search.search_catalog("concerto in").releases

    assert [r.pk for r in found] == [r.pk for r in reversed(matching)]


def test_a_query_of_short_words_only_still_finds_its_releases(postgres):
    from catalog.search import search_catalog

    release = _release("La la de da", 1)
    _release("La mer", 2)

    assert [r.pk for r in search_catalog("de la").releases] == [release.pk]


def test_three_letter_words_are_checked_on_the_releases_the_longer_words_find(postgres):
    from catalog.search import search_catalog

    quartet = _release("Death and the Maiden", 1)
    theme = _release("Death and Theme for a Maiden", 2)  # "the" starts "theme"
    _release("Death of a Maiden", 3)  # neither "and" nor "the"

    assert [r.pk for r in search_catalog("death and the maiden").releases] == [theme.pk, quartet.pk]


def test_a_word_common_in_the_catalog_is_checked_on_the_releases_a_rare_word_finds(postgres, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    from catalog import search

    for n in range(1, 41):
        _release(f"Sonata No. {n}", n)
    moonlight = [_release("Moonlight Sonata", 50), _release("Moonlight Sonata", 60)]
    _release("Moonlight Serenade", 70)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_release")
    monkeypatch.setattr(search, "_statistics", {})
    monkeypatch.setattr(search, "FEW_RELEASES", 5)

    with CaptureQueriesContext(connection) as queries:
        found = search.search_catalog("moonlight sonata").releases

    assert [r.pk for r in found] == [moonlight[1].pk, moonlight[0].pk]
    fenced = [q["sql"] for q in queries.captured_queries if "MATERIALIZED" in q["sql"]]
    # Only the rare word was looked up in the index; "sonata", on 42 releases, was not.
    assert fenced and "'moonlight:*') LIMIT" in fenced[0] and "'sonata:*') LIMIT" not in fenced[0]
