"""Writes to the catalog that keep its derived data (search vocabulary, cached pages) in step."""

from collections import Counter

from django.core.cache import cache
from django.db import transaction

from .models import Artist, ComposerAlias, Label, SearchTerm, Work
from .text import fold

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
    return len(counts)
