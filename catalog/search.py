"""Catalog search that understands how classical buyers type: name variants and
transliterations, missing accents, catalogue numbers written any way, nicknames,
"composer + number", and small typos (with a "did you mean").

On PostgreSQL words are matched with full-text search (GIN-indexed tsvector) and typos
shortlisted by trigram similarity (GIN trigram index); on SQLite the same rules run on
FTS5 indexes (migration 0004): word tables for the folded search text, a trigram table
for the vocabulary. Both then rank typo candidates with difflib."""

import difflib
import math
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import BooleanField, Case, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL

from .models import Artist, Composer, ComposerAlias, Release, SearchTerm, Work
from .text import fold, from_german, name_skeleton, parse_query

MAX_QUERY_LENGTH = 200
# How alike (pg_trgm similarity, 0-1) a catalog word must be to a misspelt one to be
# considered as its correction.
TYPO_SIMILARITY = 0.2
TYPO_SHORTLIST = 30


@dataclass
class SearchResults:
    query: str
    composers: list = field(default_factory=list)
    works: list = field(default_factory=list)
    artists: list = field(default_factory=list)
    releases: list = field(default_factory=list)
    suggestion: str = ""  # a corrected query to offer ("did you mean")
    corrected: bool = False  # the results shown are for the suggestion

    @property
    def empty(self):
        return not (self.composers or self.works or self.artists or self.releases)


def is_postgres():
    return connection.vendor == "postgresql"


# -- matching one term against a folded search_text column -----------------------------


def _term_q(term, *, exact=False, model=Work):
    """Rows of model (Work or Release) whose search text has a word starting with term
    (or equal to it, when exact)."""
    if is_postgres():
        from django.contrib.postgres.search import SearchQuery

        raw = term if exact else f"{term}:*"
        return Q(search_text_vector=SearchQuery(raw, search_type="raw", config="simple"))
    return _fts_q(model, _fts_term(term, exact=exact))


def _all_words_q(words, *, model):
    """Rows with a word starting with each of words. SQLite asks its index once for all
    of them, which intersects their lists far faster than one subquery per word."""
    if is_postgres():
        combined = Q()
        for word in words:
            combined &= _term_q(word)
        return combined
    return _fts_q(model, " AND ".join(_fts_term(word) for word in words))


def _name_q(model, word):
    """Composers or artists with a name word starting with word."""
    if is_postgres():
        return Q(search_text__contains=f" {word}")
    return _fts_q(model, _fts_term(word))


def _fts_term(term, *, exact=False):
    quoted = '"' + term.replace('"', '""') + '"'
    return quoted if exact else quoted + "*"


def _fts_q(model, match):
    """SQLite: rows of model that its FTS5 index (migration 0004) finds for an FTS5
    MATCH expression."""
    table = f"{model._meta.db_table}_fts"
    return Q(pk__in=RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [match]))


def _with_vector(queryset):
    if is_postgres():
        from django.contrib.postgres.search import SearchVector, SearchVectorField

        if queryset.model is Release:
            # The stored vector (migration 0005): a newest-first walk of the releases
            # checks each row without parsing its text again.
            table = Release._meta.db_table
            vector = RawSQL(f'"{table}"."search_vector"', [], output_field=SearchVectorField())
        else:
            vector = SearchVector("search_text", config="simple")
        return queryset.alias(search_text_vector=vector)
    return queryset


def _number_q(number):
    # "beethoven 9": the ninth ("no9"), or a catalogue-less 9 in a title.
    return _term_q(f"no{number}", exact=True) | _term_q(number, exact=True)


# -- composers named in the query -----------------------------------------------------


@dataclass
class ComposerMatch:
    words: list  # the query words that named a composer
    composer_ids: set
    typed_exactly: bool  # False when found through the spelling-blind key
    canonical: str  # how the shop spells it, for "did you mean"


def _surname(names_by_id):
    return fold(sorted(names_by_id.values())[0]).split()[-1]


def find_composers(words):
    """Take the longest runs of words that name a composer (any spelling), left to right."""
    if not words:
        return [], list(words)
    ngrams = {" ".join(words[i : i + n]) for n in range(1, 5) for i in range(len(words) - n + 1)}
    skeletons = {name_skeleton(w) for w in words if len(w) >= 4}
    rows = ComposerAlias.objects.filter(Q(folded__in=ngrams) | Q(skeleton__in=skeletons)).values_list(
        "folded", "skeleton", "composer_id", "composer__name"
    )
    by_folded, by_skeleton = {}, {}
    for folded, skeleton, composer_id, name in rows:
        by_folded.setdefault(folded, {})[composer_id] = name
        by_skeleton.setdefault(skeleton, {})[composer_id] = name
    matches, rest, i = [], [], 0
    while i < len(words):
        for n in range(min(4, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + n])
            if phrase in by_folded:
                found = by_folded[phrase]
                canonical = _surname(found)
                # Known misspellings ("bethoven") are aliases too, but deserve a "did you mean".
                typo = (
                    n == 1 and phrase != canonical and difflib.SequenceMatcher(None, phrase, canonical).ratio() >= 0.9
                )
                matches.append(ComposerMatch(words[i : i + n], set(found), not typo, canonical))
                i += n
                break
        else:
            word = words[i]
            found = by_skeleton.get(name_skeleton(word)) if len(word) >= 4 else None
            if found:
                matches.append(ComposerMatch([word], set(found), False, _surname(found)))
            else:
                rest.append(word)
            i += 1
    return _merged(matches), rest


def _merged(matches):
    """Neighbouring matches of one composer are one name typed in parts ("rimsky korsakof")."""
    merged = []
    for match in matches:
        last = merged[-1] if merged else None
        if last and last.composer_ids & match.composer_ids:
            last.words = last.words + match.words
            last.composer_ids &= match.composer_ids
            last.typed_exactly = last.typed_exactly and match.typed_exactly
        else:
            merged.append(match)
    return merged


# -- the search itself ----------------------------------------------------------------


def search_catalog(query, *, limit=10):
    """Search composers, works, artists and releases; fall back to a corrected query
    when a word is misspelled."""
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    # German forms, titles, nicknames and keys: the catalog's own words first, and the
    # words as typed when those find no work ("Messe de Nostre Dame" is French).
    english = from_german(query)
    if english:
        results = _search(english, limit=limit)
        if results.works:
            results.query = query
            return results
    results = _search(query, limit=limit)
    if results.suggestion or not query:
        return results
    if results.empty:
        corrected = correct_spelling(query)
        if corrected and corrected != fold(query):
            retry = _search(corrected, limit=limit)
            if not retry.empty:
                retry.query, retry.suggestion, retry.corrected = query, corrected, True
                return retry
    return results


def _search(query, *, limit):
    results = SearchResults(query=query)
    parsed = parse_query(query)
    if not (parsed.words or parsed.catalogue or parsed.numbers):
        return results
    matches, words = find_composers(parsed.words)
    if any(not m.typed_exactly for m in matches):
        # Found through the spelling-blind key: say how the shop spells it.
        # Each name found through it becomes the shop's spelling, once ("rimsky
        # korsakof" -> "korsakov"); the other words stay as typed.
        respelled = {m.words[0]: m for m in matches if not m.typed_exactly}
        out, i = [], 0
        while i < len(parsed.words):
            match = respelled.get(parsed.words[i])
            if match and parsed.words[i : i + len(match.words)] == match.words:
                out.append(match.canonical)
                i += len(match.words)
            else:
                out.append(parsed.words[i])
                i += 1
        results.suggestion = " ".join(out + parsed.numbers + parsed.catalogue)
        results.corrected = True

    composer_ids = set().union(*(m.composer_ids for m in matches)) if matches else set()
    results.works = _search_works(matches, words, parsed, limit=limit)
    results.composers = _search_composers(composer_ids, words, parsed, limit=limit)
    if not parsed.catalogue and not parsed.numbers:
        results.artists = _search_artists(parsed.words, limit=limit)
    results.releases = _search_releases(matches, words, parsed, results.works, limit=limit)
    return results


def _points(condition, points):
    return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())


def _search_works(matches, words, parsed, *, limit):
    works = _with_vector(Work.objects.all())
    for match in matches:
        # A word that names a composer may also be a word of a title ("Field", "Glass").
        text_q = Q()
        for word in match.words:
            text_q &= _term_q(word)
        works = works.filter(Q(composer_id__in=match.composer_ids) | text_q)
    if words:
        works = works.filter(_all_words_q(words, model=Work))
    for token in parsed.catalogue:
        works = works.filter(_term_q(token, exact=True))
    for number in parsed.numbers:
        works = works.filter(_number_q(number))
    score = _points(Q(popular=True), 3) + _points(Q(recommended=True), 2)
    if parsed.numbers:
        score += _points(Q(number=parsed.numbers[0]), 6)
        if not words:
            # "Beethoven 9" means the Ninth Symphony to a classical buyer.
            score += _points(Q(number=parsed.numbers[0], form__iexact="Symphony"), 2)
    if words:
        nickname_words = Q()
        for word in words:
            nickname_words &= Q(nickname__icontains=word)
        score += _points(nickname_words, 4)
    works = works.annotate(score=score).select_related("composer")
    return list(works.order_by("-score", "-recording_count", "title")[:limit])


def _search_composers(composer_ids, words, parsed, *, limit):
    if composer_ids:
        composers = Composer.objects.filter(pk__in=composer_ids)
    elif words and not parsed.catalogue and not parsed.numbers:
        composers = Composer.objects.all()
        for word in words:
            composers = composers.filter(_name_q(Composer, word))
    else:
        return []
    return list(composers.order_by("-popular", "-recommended", "sort_name")[:limit])


def _search_artists(words, *, limit):
    if not words:
        return []
    artists = Artist.objects.all()
    for word in words:
        artists = artists.filter(_name_q(Artist, word))
    return list(artists.order_by("sort_name")[:limit])


def _search_releases(matches, words, parsed, works, *, limit):
    releases = Release.objects.select_related("label")
    if not parsed.catalogue and not parsed.numbers and not matches:
        # Titles, performers, labels, catalogue numbers and barcodes.
        ids = _newest_release_ids_common_words_last(words, limit=limit) if is_postgres() else None
        if ids is not None:
            found = list(releases.filter(pk__in=ids).order_by("-release_date", "-pk")) if ids else []
        else:
            text = _with_vector(releases)
            if words:
                text = text.filter(_all_words_q(words, model=Release))
            found = list(text.order_by("-release_date", "-pk")[:limit])
        if found:
            return found
    if works:
        return list(releases.filter(recordings__work=works[0]).order_by("-release_date", "-pk").distinct()[:limit])
    return []


# A word this short ("de", "an", "the", "und") starts thousands of different words: a
# prefix match on it in the GIN index gathers every entry of each (30-150 ms at a
# million releases) before the other words narrow them down. So does a common word
# ("concerto", "sonata"): tens of thousands of releases each.
SHORT_WORD = 3
# A word PostgreSQL's statistics expect on more releases than this is common; a search
# with a rarer word finds its releases through the rare words only, and checks the
# others on those rows (about 8 microseconds a row).
FEW_RELEASES = 1500

# The statistics change only when PostgreSQL analyzes the table again: each process
# reads them once in this many seconds.
STATISTICS_SECONDS = 300
_statistics = {}


def _release_statistics(cursor):
    """How many releases there are, and the share of them with each of the most common
    words of their search text, as PostgreSQL last counted them (ANALYZE)."""
    now = time.monotonic()
    cached = _statistics.get(connection.alias)
    if cached and now - cached[0] < STATISTICS_SECONDS:
        return cached[1], cached[2]
    table = Release._meta.db_table
    cursor.execute("SELECT GREATEST(reltuples, 1) FROM pg_class WHERE oid = %s::regclass", [table])
    total = cursor.fetchone()[0]
    cursor.execute(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
        "WHERE schemaname = current_schema() AND tablename = %s AND attname = 'search_vector'",
        [table],
    )
    row = cursor.fetchone()
    # The shares end with three more figures (their lowest, their highest, the empty rows').
    shares = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    _statistics[connection.alias] = (now, total, shares)
    return total, shares


def _newest_release_ids_common_words_last(words, *, limit):
    """PostgreSQL: the ids of the newest releases with a word starting with each of
    words, found through the rarest words alone, the others then checked on those rows
    only. None when that does not apply (no short or common word, or no rare one):
    search by all words at once.

    How common a word is comes from the column's statistics (the most common words,
    which the planner estimates with). The rows the rare words find are fenced off in a
    materialized CTE, so the planner cannot walk the release-date index instead and
    check every release on the way; should they be more than FEW_RELEASES after all,
    the search asks for all words at once."""
    if len(words) < 2:
        return None
    long = [w for w in words if len(w) > SHORT_WORD]
    if not long:
        return None
    table = Release._meta.db_table
    with connection.cursor() as cursor:
        total, shares = _release_statistics(cursor)
        # A word is expected on as many releases as the counted words it starts. One
        # that starts none is rarer than the rarest counted (the statistics' cut-off
        # is about 0.15% of the releases), or, with no statistics, taken for rare.
        uncounted = total * min(shares.values()) if shares else FEW_RELEASES
        expected = {
            word: total * sum(f for elem, f in shares.items() if elem.startswith(word)) or uncounted for word in long
        }
        # Every rare word costs the index little; then the commoner words, rarest
        # first, until together they are expected on few releases.
        rare = [w for w in long if expected[w] <= FEW_RELEASES]
        share = math.prod(min(expected[w] / total, 1.0) for w in rare)
        for word in sorted((w for w in long if w not in rare), key=lambda w: expected[w]):
            if rare and total * share <= FEW_RELEASES:
                break
            rare.append(word)
            share *= min(expected[word] / total, 1.0)
        if total * share > FEW_RELEASES or len(rare) == len(words):
            return None
        # ts_match_vq is the @@ operator as a function, which no index answers: the
        # other words are checked on the fenced rows, never looked up in the index.
        cursor.execute(
            f"""WITH found AS MATERIALIZED (
                    SELECT id, release_date, search_vector FROM {table}
                    WHERE search_vector @@ to_tsquery('simple', %s) LIMIT %s)
                SELECT (SELECT count(*) FROM found), ARRAY(
                    SELECT id FROM found WHERE ts_match_vq(search_vector, to_tsquery('simple', %s))
                    ORDER BY release_date DESC, id DESC LIMIT %s)""",
            [" & ".join(f"{w}:*" for w in rare), FEW_RELEASES + 1, " & ".join(f"{w}:*" for w in words), limit],
        )
        count, ids = cursor.fetchone()
    if count > FEW_RELEASES:
        return None  # the statistics were wrong: they are common after all
    return ids


# -- did you mean ---------------------------------------------------------------------


def correct_spelling(query):
    """The query with each unknown word replaced by the closest catalog word, or ''."""
    parsed = parse_query(query)
    if not parsed.words:
        return ""
    known = set(SearchTerm.objects.filter(word__in=parsed.words).values_list("word", flat=True))
    corrected, changed = [], False
    for word in parsed.words:
        better = word if (word in known or len(word) < 4) else _closest_term(word)
        changed |= better != word
        corrected.append(better or word)
    if not changed:
        return ""
    return " ".join(corrected + parsed.numbers + parsed.catalogue)


def _closest_term(word):
    """The vocabulary word nearest to a misspelt one: a shortlist of the words most alike
    by trigrams, from the trigram index, then ranked by edit similarity and frequency."""
    if is_postgres():
        # `%` is the operator the GIN trigram index answers; a `similarity() > x` filter
        # would read the whole vocabulary. Its threshold holds until the enclosing transaction ends.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TYPO_SIMILARITY)])
            candidates = dict(trigram_shortlist(word).values_list("word", "weight"))
    else:
        candidates = _sqlite_trigram_shortlist(word)
    close = difflib.get_close_matches(word, candidates, n=5, cutoff=0.78)
    if not close:
        return ""
    return min(close, key=lambda w: (-round(difflib.SequenceMatcher(None, word, w).ratio(), 2), -candidates[w]))


def trigram_shortlist(word):
    """PostgreSQL: the vocabulary words most alike to word by trigram similarity, through
    the trigram index (the `%` operator, at pg_trgm.similarity_threshold)."""
    from django.contrib.postgres.search import TrigramSimilarity

    return (
        SearchTerm.objects.filter(RawSQL('"catalog_searchterm"."word" %% %s', [word], output_field=BooleanField()))
        .annotate(similarity=TrigramSimilarity("word", word))
        .order_by("-similarity")[:TYPO_SHORTLIST]
    )


def _trigrams(word):
    # As pg_trgm counts them: the word padded with two spaces before and one after.
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def sqlite_trigram_candidates(word):
    """SQLite: vocabulary words of about the same length sharing a trigram with word,
    found through the vocabulary's FTS5 trigram index (of words padded as pg_trgm pads)."""
    match = " OR ".join(_fts_term(t, exact=True) for t in sorted(_trigrams(word)))
    return SearchTerm.objects.filter(length__range=(len(word) - 2, len(word) + 2)).filter(_fts_q(SearchTerm, match))


def _sqlite_trigram_shortlist(word):
    """The same shortlist PostgreSQL makes: the words most alike by trigram similarity."""
    mine = _trigrams(word)
    scored = []
    for other, weight in sqlite_trigram_candidates(word).values_list("word", "weight"):
        theirs = _trigrams(other)
        similarity = len(mine & theirs) / len(mine | theirs)
        if similarity > TYPO_SIMILARITY:
            scored.append((similarity, other, weight))
    scored.sort(reverse=True)
    return {other: weight for _, other, weight in scored[:TYPO_SHORTLIST]}
