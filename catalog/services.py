"""Writes to the catalog that keep its derived data (search vocabulary, cached pages) in step."""

from collections import Counter

from django.core.cache import cache
from django.db import transaction

from .models import Artist, ComposerAlias, Label, SearchTerm, Work
from .text import fold, parse_title, work_search_text

CATALOG_VERSION_KEY = "catalog:version"


def catalog_changed():
    """Invalidate everything cached from the catalog (pages, search indexes)."""
    try:
        cache.incr(CATALOG_VERSION_KEY)
    except ValueError:
        cache.set(CATALOG_VERSION_KEY, 1, None)


def catalog_version():
    return cache.get_or_set(CATALOG_VERSION_KEY, 1, None)


@transaction.atomic
def rebuild_search_terms():
    """Rebuild the vocabulary of words that search suggests corrections from."""
    counts = Counter()
    for text in Work.objects.values_list("search_text", flat=True).iterator(chunk_size=5000):
        counts.update(w for w in text.split() if len(w) >= 3 and not w.isdigit())
    for name in ComposerAlias.objects.values_list("folded", flat=True):
        # Names weigh more: a typo is likelier to be a composer than a word of a title.
        counts.update({w: 5 for w in name.split() if len(w) >= 3})
    for name in [*Artist.objects.values_list("name", flat=True), *Label.objects.values_list("name", flat=True)]:
        counts.update(w for w in fold(name).split() if len(w) >= 3)
    SearchTerm.objects.all().delete()
    SearchTerm.objects.bulk_create(
        [SearchTerm(word=w[:60], length=len(w[:60]), weight=n) for w, n in counts.items()],
        batch_size=2000,
        ignore_conflicts=True,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner takes the rebuilt table for a few rows and
        # reads all of it instead of asking its trigram index for typo candidates.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_searchterm")
    return len(counts)


def work_refresh_search_text(*, work):
    """Recompute what search matches a work against, after staff edit it or its
    catalogue numbers; parts of the title that staff left blank are read from it."""
    parts = parse_title(work.title)
    for name in ("form", "number", "key", "nickname"):
        if not getattr(work, name):
            setattr(work, name, getattr(parts, name))
    numbers = [(c.system, c.number) for c in work.catalogue_numbers.all()] or parts.catalogue
    parts.catalogue = numbers
    work.search_text = work_search_text(
        composer_names=[work.composer.name, work.composer.full_name],
        title=work.title,
        subtitle=work.subtitle,
        parts=parts,
        genre_label=work.get_genre_display(),
    )
    work.save(update_fields=["form", "number", "key", "nickname", "search_text"])
    catalog_changed()


def composer_refresh_search_text(*, composer):
    """Recompute a composer's searchable names from their names and aliases."""
    names = {composer.name, composer.full_name, composer.sort_name, *composer.aliases.values_list("name", flat=True)}
    composer.search_text = " " + " ".join(sorted({fold(n) for n in names if fold(n)})) + " "
    composer.save(update_fields=["search_text"])
    catalog_changed()
