"""Writes to the catalog that keep its derived data (search vocabulary, cached pages) in step."""

import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery

from . import selectors
from .models import (
    Artist,
    CatalogueNumber,
    ComposerAlias,
    Credit,
    Format,
    Genre,
    Label,
    Movement,
    Offer,
    Recording,
    Release,
    SearchTerm,
    Track,
    Work,
    english,
)
from .text import fold, parse_title, release_search_text, work_search_text

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


# Long lists of release cards are expired one page at a time: each of their pages is in
# its list's group (expired when the list itself changes) and in a group of its own,
# named by its filter and page number (expired when a card on it changes).
PAGED_LISTS = {"releases", "label"}


def list_page_tag(tag, format, number):
    return f"{tag}|{format}|{number}"


def page_tags(url_name, kwargs, query):
    """The groups of cached pages that a request's page belongs to: its page_tag and,
    on a paged list, the tag of that one page (as the view reads ?format= and ?page=)."""
    tag = page_tag(url_name, *kwargs.values())
    if url_name not in PAGED_LISTS:
        return [tag]
    format = query.get("format", "")
    format = format if format in Format.values else ""
    return [tag, list_page_tag(tag, format, selectors.page_number(query.get("page")))]


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
    """Invalidate every cached page (and search index). What a work's page keeps of the
    set of its recordings (selectors.work_page_facts) stays: it shows no composer's or
    work's names; catalog_names_changed when it may be stale too."""
    _invalidate([CATALOG_VERSION_KEY])


# The version of the names that a work's kept facts show of other rows: labels' names
# in its format and label groups, performers' sort names in its performer filter.
CATALOG_NAMES_KEY = version_key("names")


def catalog_names_changed():
    """A label or performer (or a row whose deletion may take credits or releases with
    it) changed: every cached page, and every work's kept facts, are stale."""
    _invalidate([CATALOG_VERSION_KEY, CATALOG_NAMES_KEY])


def work_recordings_tag(composer, work):
    """The group of what is cached about the set of a work's recordings, not their offers
    (its page's filter choices, selectors.work_page_facts): a change to the release,
    recording or credit rows of the work expires it, a stock or price change does not."""
    return page_tag("work-recordings", composer, work)


def _release_tags(release, *, listed, credited=False):
    tags = [page_tag("release", release.slug)]
    works = list(Work.objects.filter(recordings__release=release).values_list("composer__slug", "slug").distinct())
    tags += [page_tag("work", composer, work) for composer, work in works]
    if listed:
        # Lists show a release's title and lowest price, not its stock; a work's filters
        # its format and label.
        tags += [page_tag("home"), page_tag("releases"), page_tag("label", release.label.slug), page_tag("search")]
        tags += [work_recordings_tag(composer, work) for composer, work in works]
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


def _newer_than(release):
    """The releases listed before this one, newest first (selectors.NEWEST_FIRST)."""
    return Release.objects.filter(
        Q(release_date__gt=release.release_date) | Q(release_date=release.release_date, pk__gt=release.pk)
    )


def _shown_on_home(release, *, ahead=None):
    """Whether the front page shows the release: among the newest, or the featured."""
    newer = _newer_than(release)
    ahead = newer.count() if ahead is None else ahead
    return ahead < selectors.HOME_NEW or (
        release.featured and newer.filter(featured=True).count() < selectors.HOME_FEATURED
    )


def _card_tags(release):
    """The list pages that show this release's card: the page of the new releases (all,
    and of its format) and of its label's releases (all, and of its format) that it is
    on, and the front page if it is among the newest or the featured ones there."""
    newer = _newer_than(release)
    ahead = newer.count()

    def number(count):
        return count // selectors.PAGE_SIZE + 1

    releases, label = page_tag("releases"), page_tag("label", release.label.slug)
    of_label = newer.filter(label_id=release.label_id)
    tags = [
        list_page_tag(releases, "", number(ahead)),
        list_page_tag(releases, release.format, number(newer.filter(format=release.format).count())),
        list_page_tag(label, "", number(of_label.count())),
        list_page_tag(label, release.format, number(of_label.filter(format=release.format).count())),
    ]
    if _shown_on_home(release, ahead=ahead):
        tags.append(page_tag("home"))
    return tags


def offer_changed(offer):
    """A staff edit of one offer (price, activity, stock): the release's lowest price is
    kept in step, and only the pages that show the offer go stale: its release's page,
    its works' pages and, when the lowest price changed, the list pages showing its card."""
    release = Release.objects.select_related("label").filter(pk=offer.release_id).first()
    if release is None:  # deleted along with its release, whose deletion expires its pages
        return
    lowest = Offer.objects.filter(release=release, is_active=True).aggregate(lowest=Min("price"))["lowest"]
    tags = _release_tags(release, listed=False)
    if lowest != release.min_price:
        Release.objects.filter(pk=release.pk).update(min_price=lowest)
        release.min_price = lowest
        tags += _card_tags(release)
    _invalidate(version_key(tag) for tag in tags)


def _release_pages(release_ids):
    slugs = Release.objects.filter(pk__in=release_ids).values_list("slug", flat=True)
    return [page_tag("release", slug) for slug in slugs]


def _work_pages(work_ids):
    works = Work.objects.filter(pk__in=work_ids).values_list("composer__slug", "slug")
    return [tag for c, w in works for tag in (page_tag("work", c, w), work_recordings_tag(c, w))]


def _artist_pages(artists):
    slugs = Artist.objects.filter(artists).values_list("slug", flat=True).distinct()
    return [page_tag("artist", slug) for slug in slugs]


def _both(instance, before, field):
    """The field's value now and, when the row was saved over an older one, before."""
    values = {getattr(instance, field)}
    if before:
        values.add(before[field])
    return values - {None}


def recording_saved(recording, *, before=None):
    """A recording was added or edited (before: its work_id and release_id as they were):
    its release's page, its work's page and kept facts (and those of the work or release
    it moved from), its performers' pages (they show its work and release) and search
    (a release is found by its works and performers) go stale, nothing else."""
    release_ids, work_ids = _both(recording, before, "release_id"), _both(recording, before, "work_id")
    tags = [page_tag("search"), *_release_pages(release_ids), *_work_pages(work_ids)]
    tags += _artist_pages(Q(credits__recording_id=recording.pk))
    _invalidate(version_key(tag) for tag in tags)


def credit_saved(credit, *, before=None):
    """A credit was added or edited (before: its artist_id and recording_id as they were):
    the performers' pages (the one credited now and the one before), the recording's
    release and work pages, the work's kept facts (its performer filter) and search go
    stale, nothing else."""
    recording_ids = _both(credit, before, "recording_id")
    recordings = Recording.objects.filter(pk__in=recording_ids).values_list("release_id", "work_id")
    release_ids, work_ids = {r for r, _ in recordings}, {w for _, w in recordings}
    tags = [page_tag("search"), *_release_pages(release_ids), *_work_pages(work_ids)]
    tags += _artist_pages(Q(pk__in=_both(credit, before, "artist_id")))
    _invalidate(version_key(tag) for tag in tags)


def track_saved(track, *, before=None):
    """A track was added or edited: only its release's page (and the one it moved from)
    shows tracks."""
    _invalidate(version_key(tag) for tag in _release_pages(_both(track, before, "release_id")))


def work_part_changed(part, *, before=None):
    """A catalogue number or movement of a work was saved or deleted: the work's page and
    kept facts (and those of a work it moved from) and search go stale, nothing else."""
    tags = [page_tag("search"), *_work_pages(_both(part, before, "work_id"))]
    _invalidate(version_key(tag) for tag in tags)


def _release_deleted(release):
    # The releases after it move up one place in every list it was on, so those lists
    # expire as a whole; its works' and performers' pages expired with its recordings.
    label = Label.objects.filter(pk=release.label_id).values_list("slug", flat=True).first()
    tags = [page_tag("release", release.slug), page_tag("releases"), page_tag("label", label), page_tag("search")]
    if _shown_on_home(release):
        tags.append(page_tag("home"))
    return tags


def _recording_deleted(recording):
    return _release_pages([recording.release_id]) + _work_pages([recording.work_id])


def release_date_copied(*, release):
    """The release's date, copied onto its recordings and their credits: the work and
    performer pages sort and page by these copies."""
    Recording.objects.filter(release=release).update(release_date=release.release_date)
    Credit.objects.filter(recording__release=release).update(release_date=release.release_date)


@transaction.atomic
def artists_recount(*, artist_ids=None):
    """Count again the recordings each of these performers (all, when None) is credited
    on, in all roles and in each, as their page shows them. Their rows are locked first,
    so that two writers crediting one performer at once each count the other's credits."""
    artists = Artist.objects.select_for_update().order_by("pk")
    if artist_ids is not None:
        artist_ids = {pk for pk in artist_ids if pk is not None}
        if not artist_ids:
            return
        artists = artists.filter(pk__in=artist_ids)
    locked = list(artists.values_list("pk", flat=True))
    credits = Credit.objects.filter(artist_id__in=locked) if artist_ids is not None else Credit.objects.all()
    counted = Count("recording_id", distinct=True)
    totals = dict(credits.order_by().values("artist_id").annotate(n=counted).values_list("artist_id", "n"))
    roles = defaultdict(dict)
    for artist_id, role, n in (
        credits.order_by().values("artist_id", "role").annotate(n=counted).values_list("artist_id", "role", "n")
    ):
        roles[artist_id][role] = n
    Artist.objects.bulk_update(
        [Artist(pk=pk, recording_count=totals.get(pk, 0), role_counts=roles.get(pk, {})) for pk in locked],
        ["recording_count", "role_counts"],
        batch_size=500,
    )
    # Counted now: a later deletion of their credits counts them again.
    done = getattr(_recounted, "deletion", None)
    if done is not None:
        done[1].difference_update(locked)


# The performers counted again for the last deletion (its origin: a release, a recording,
# a queryset), per thread.
_recounted = threading.local()


@contextmanager
def artists_counted_once():
    """Within it, the performers of deleted credits are counted again once, on leaving
    (in the caller's transaction), rather than after each deletion: a feed replacing the
    credits of many releases. Yields the set of performers to count; add those you
    credit to it."""
    pending = getattr(_recounted, "pending", None)
    if pending is not None:  # already within one: counted when that one ends
        yield pending
        return
    _recounted.pending = pending = set()
    try:
        yield pending
    finally:
        _recounted.pending = None
    artists_recount(artist_ids=pending)


def _recount_after_deletion(artist_id, origin):
    """A credit of the performer was deleted, alone or along with its recording or
    release: count again, in the same transaction, once for all the credits one deletion
    took. Django deletes them all before it signals the first, so one count sees them
    gone; a release of ten recordings by one orchestra is counted once, not ten times."""
    pending = getattr(_recounted, "pending", None)
    if pending is not None:
        pending.add(artist_id)
        return
    done = getattr(_recounted, "deletion", None)
    if origin is None or done is None or done[0] is not origin:
        done = _recounted.deletion = (origin, set())
    if artist_id in done[1]:
        return
    artists_recount(artist_ids=[artist_id])
    done[1].add(artist_id)


def _credit_deleted(credit):
    recording = Recording.objects.filter(pk=credit.recording_id).values("release_id", "work_id").first()
    artist = Artist.objects.filter(pk=credit.artist_id).values_list("slug", flat=True).first()
    tags = [page_tag("artist", artist)] if artist else []
    if recording:
        tags += _release_pages([recording["release_id"]]) + _work_pages([recording["work_id"]])
    return tags


def _track_deleted(track):
    return _release_pages([track.release_id])


def catalog_row_deleted(instance, *, origin=None):
    """A catalog row was deleted (by staff, one or many at once, or along with its
    release; origin is what was deleted): the pages that showed it go stale, and every
    page (and every work's kept facts) only when the row is one that many pages show (a
    composer, a work, a label, a performer). A deleted credit's performer is counted
    again."""
    if isinstance(instance, Offer):
        return offer_changed(instance)
    if isinstance(instance, Credit):
        _recount_after_deletion(instance.artist_id, origin)
    if isinstance(instance, CatalogueNumber | Movement):
        return work_part_changed(instance)
    handler = {
        Release: _release_deleted,
        Recording: _recording_deleted,
        Credit: _credit_deleted,
        Track: _track_deleted,
    }.get(type(instance))
    if handler is None:
        return catalog_names_changed()
    _invalidate(version_key(tag) for tag in handler(instance))


@transaction.atomic
def releases_set_featured(*, releases, featured):
    """Feature releases on the front page, or take them off it: only the front page
    shows this, so only the front page goes stale."""
    count = releases.update(featured=featured)
    _invalidate([version_key(page_tag("home"))])
    return count


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
        genre_label=english(Genre(work.genre).label),
        title_de=work.title_de,
    )
    work.save(update_fields=["form", "number", "key", "nickname", "search_text"])
    catalog_changed()


def release_refresh_search_text(*, release):
    """Write the release's search text from what it holds now (after an edit in the
    admin, or an undo that kept part of it)."""
    release = Release.objects.select_related("label").get(pk=release.pk)
    recordings = release.recordings.select_related("work__composer").prefetch_related("credits__artist")
    text = release_search_text(
        title=release.title,
        label=release.label.name,
        catalog_number=release.catalog_number,
        barcode=release.barcode,
        recordings=[(r.work, [c.artist.name for c in r.credits.all()]) for r in recordings],
    )
    Release.objects.filter(pk=release.pk).update(search_text=text)
    return text


def composer_refresh_search_text(*, composer):
    """Recompute a composer's searchable names from their names and aliases."""
    names = {composer.name, composer.full_name, composer.sort_name, *composer.aliases.values_list("name", flat=True)}
    composer.search_text = " " + " ".join(sorted({fold(n) for n in names if fold(n)})) + " "
    composer.save(update_fields=["search_text"])
    catalog_changed()


# Catalog feeds (catalog.imports) write many releases and offers at once: the same
# precise expiry as release_changed and offer_changed, in a few queries per batch.


MANY_REPRICED = 50


def _invalidate_many(tags):
    """_invalidate for a feed's many pages, in one cache call each time: their version
    keys are dropped, and the version each starts again from is later than any before
    (_fresh_version), as after an eviction."""
    keys = [version_key(tag) for tag in sorted(tags)]
    cache.delete_many(keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete_many(keys))


def releases_imported(release_ids):
    """Releases were created or changed by a feed: their lowest prices are recomputed
    and the pages that show them go stale: their own pages, their works' and
    performers' pages, and the lists and searches that show release cards."""
    lowest = (
        Offer.objects.filter(release=OuterRef("pk"), is_active=True)
        .values("release")
        .annotate(p=Min("price"))
        .values("p")
    )
    Release.objects.filter(pk__in=release_ids).update(min_price=Subquery(lowest))
    releases = Release.objects.filter(pk__in=release_ids)
    tags = {page_tag("home"), page_tag("releases"), page_tag("search")}
    tags |= {page_tag("release", slug) for slug in releases.values_list("slug", flat=True)}
    tags |= {
        page_tag("label", slug) for slug in Label.objects.filter(releases__in=releases).values_list("slug", flat=True)
    }
    works = set(Work.objects.filter(recordings__release__in=releases).values_list("composer__slug", "slug"))
    tags |= {page_tag("work", composer, work) for composer, work in works}
    # Their recordings, credits, formats or labels may be new (selectors.work_page_facts).
    tags |= {work_recordings_tag(composer, work) for composer, work in works}
    tags |= {
        page_tag("artist", slug)
        for slug in Artist.objects.filter(credits__recording__release__in=releases).values_list("slug", flat=True)
    }
    _invalidate_many(tags)


def offers_changed(offer_ids):
    """A feed changed these offers' price, stock or activity: as offer_changed, for
    many at once. Lowest prices are kept in step; the lists showing a release's card
    go stale only when its lowest price changed."""
    releases = Release.objects.filter(offers__pk__in=offer_ids).distinct().select_related("label")
    lowest = dict(
        Offer.objects.filter(release__in=releases, is_active=True)
        .values("release")
        .annotate(p=Min("price"))
        .values_list("release", "p")
    )
    tags = set()
    ids, repriced = [], []
    for release in releases:
        ids.append(release.pk)
        tags.add(page_tag("release", release.slug))
        new = lowest.get(release.pk)
        if new != release.min_price:
            release.min_price = new
            repriced.append(release)
    if repriced:
        lowest_now = (
            Offer.objects.filter(release=OuterRef("pk"), is_active=True)
            .values("release")
            .annotate(p=Min("price"))
            .values("p")
        )
        Release.objects.filter(pk__in=[r.pk for r in repriced]).update(min_price=Subquery(lowest_now))
    if len(repriced) > MANY_REPRICED:
        # Finding the one list page of each card costs more than the lists are worth
        # keeping: their releases' lists expire whole.
        tags |= {page_tag("home"), page_tag("releases"), *(page_tag("label", r.label.slug) for r in repriced)}
    else:
        for release in repriced:
            tags.update(_card_tags(release))
    tags |= {
        page_tag("work", composer, work)
        for composer, work in Work.objects.filter(recordings__release_id__in=ids).values_list("composer__slug", "slug")
    }
    _invalidate_many(tags)
