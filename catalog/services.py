"""Writes to the catalog that keep its derived data (search vocabulary, cached pages) in step."""

import time
from collections import Counter

from django.core.cache import cache
from django.db import transaction

from .models import Artist, ComposerAlias, Label, Offer, Release, SearchTerm, Work
from .text import fold, parse_title, work_search_text

CATALOG_VERSION_KEY = "catalog:version"
# Pages say "Only N left" from this many copies down (templates/catalog/release_detail.html).
FEW_LEFT = 5


def _fresh_version():
    # A version that starts after an eviction is later than any before it, so a page
    # stored under an older version can never look current again.
    return time.time_ns()


def version_key(tag=None):
    return f"{CATALOG_VERSION_KEY}:{tag}" if tag else CATALOG_VERSION_KEY


def page_tag(name, *parts):
    """The group of cached pages one URL belongs to: its URL name and arguments, e.g.
    page_tag("release", slug). The page cache tags each page the same way."""
    return ":".join([name, "/".join(str(p) for p in parts)]) if parts else name


def versions_for(keys):
    """The current versions of these version keys, starting any that are missing."""
    found = cache.get_many(keys)
    for key in keys:
        if found.get(key) is None:
            cache.add(key, _fresh_version(), None)
            found[key] = cache.get(key)
    return found


def _bump(keys):
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, _fresh_version(), None)


def _invalidate(keys):
    """Make the pages under these keys stale now and, inside a transaction, again once
    it commits (a page rendered in between would otherwise keep the old rows)."""
    keys = list(dict.fromkeys(keys))
    _bump(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(keys))


def catalog_changed():
    """Invalidate everything cached from the catalog (pages, search indexes)."""
    _invalidate([CATALOG_VERSION_KEY])


def catalog_version():
    return versions_for([CATALOG_VERSION_KEY])[CATALOG_VERSION_KEY]


def _release_tags(release, *, listed, credited=False):
    tags = [page_tag("release", release.slug)]
    tags += [
        page_tag("work", composer, work)
        for composer, work in Work.objects.filter(recordings__release=release)
        .values_list("composer__slug", "slug")
        .distinct()
    ]
    if listed:
        # Lists show a release's title and lowest price, not its stock.
        tags += [page_tag("home"), page_tag("releases"), page_tag("label", release.label.slug), page_tag("search")]
    if credited:
        # Performers' pages show the release's title and date, not its offers.
        tags += [
            page_tag("artist", slug)
            for slug in Artist.objects.filter(credits__recording__release=release)
            .values_list("slug", flat=True)
            .distinct()
        ]
    return tags


def release_changed(release, *, listed=True, credited=False):
    """Only the pages that show this release go stale: its own page, its works' pages,
    the lists that show its title and price (unless only availability changed) and, when
    its own details changed, its performers' pages."""
    _invalidate(version_key(tag) for tag in _release_tags(release, listed=listed, credited=credited))


def offer_changed(offer):
    """A staff edit of one offer (price, activity, stock)."""
    try:
        release = offer.release
    except Release.DoesNotExist:  # deleted along with its release
        return catalog_changed()
    release_changed(release)


def editorial_changed(*, release):
    """A pick or award of this release was saved or deleted: the pages that show it (its
    own, its works', the home page and the lists) go stale."""
    release_changed(release)


def shown_availability(*, made_to_order, stock):
    """What pages say about an offer's stock: only a change of this changes a page."""
    if made_to_order:
        return "made to order"
    if stock > FEW_LEFT:
        return "in stock"
    return f"only {stock} left" if stock else "sold out"


def stock_moved(moves):
    """Orders took or gave back stock: {offer_id: (stock before, stock after)}. Pages
    go stale, after commit, only for offers whose shown availability changed; an order
    that leaves plenty in stock changes no page."""
    changed = [
        pk
        for pk, (before, after) in moves.items()
        if shown_availability(made_to_order=False, stock=before) != shown_availability(made_to_order=False, stock=after)
    ]
    if not changed:
        return

    def expire():
        for offer in Offer.objects.filter(pk__in=changed).select_related("release"):
            _bump([version_key(tag) for tag in _release_tags(offer.release, listed=False)])

    transaction.on_commit(expire)


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
