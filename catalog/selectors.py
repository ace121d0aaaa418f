"""Reads for catalog pages. Each returns everything its page shows in a fixed number of
queries, whatever the number of rows."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import RowNumber

from .models import (
    Artist,
    Award,
    Composer,
    Credit,
    EditorialPick,
    Format,
    Offer,
    Recording,
    Release,
    Role,
    Track,
    Work,
)

PAGE_SIZE = 24

_credits = Prefetch("credits", queryset=Credit.objects.select_related("artist").order_by("position"))
_offers = Prefetch("offers", queryset=Offer.objects.filter(is_active=True).order_by("price"))


# Past this, a page number is taken for the last page anyone could want: no list of
# ours is that long, and the offset stays a small number for the database.
MAX_PAGE = 100_000


def paginate(queryset, page_number, *, per_page=PAGE_SIZE, count=None):
    """A page of the list; a page number that is not a number or is past the end
    gives the first or last page rather than an error. A count the caller already has
    saves counting the list again."""
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(page_number)


def page_number(value):
    """The page a ?page= value asks for: 1 for anything that is not a positive number."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()):
        return 1
    if len(value) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(int(value), 1), MAX_PAGE)


class ListPage(Sequence):
    """A page of a long list, read without counting the whole list: one row more than
    a page tells whether there is a next one. A page past the end is empty."""

    paginator = None

    def __init__(self, queryset, number, per_page=PAGE_SIZE):
        self.number = number
        start = (self.number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        self.object_list = rows[:per_page]
        self._has_next = len(rows) > per_page

    def __len__(self):
        return len(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def has_next(self):
        return self._has_next

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self.has_next() or self.has_previous()

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1


# The front page shows this many of the newest releases and of the featured ones.
HOME_NEW = 12
HOME_FEATURED = 6
NEWEST_FIRST = ["-release_date", "-pk"]


def home_page():
    releases = Release.objects.select_related("label")
    return {
        "new_releases": list(releases.order_by(*NEWEST_FIRST)[:HOME_NEW]),
        "featured": list(releases.filter(featured=True).order_by(*NEWEST_FIRST)[:HOME_FEATURED]),
        "composers": list(Composer.objects.filter(popular=True).order_by("sort_name")[:24]),
    }


def composers_list(*, letter=None, period=None):
    composers = Composer.objects.all()
    if letter:
        composers = composers.filter(sort_name__istartswith=letter)
    if period:
        composers = composers.filter(period=period)
    return composers.order_by("sort_name")


def works_of_composer(*, composer, genre=None):
    works = Work.objects.filter(composer=composer).select_related("composer")
    if genre:
        works = works.filter(genre=genre)
    return works.order_by("genre", "-popular", "title")


def genre_counts(*, composer):
    return dict(Work.objects.filter(composer=composer).order_by().values_list("genre").annotate(n=Count("pk")))


def works_in_genre(*, genre):
    return (
        Work.objects.filter(genre=genre)
        .select_related("composer")
        .defer("search_text", "composer__search_text")
        .order_by("-popular", "-recording_count", "title")
    )


@dataclass
class RecordingFilters:
    format: str = ""
    label: str = ""
    performer: str = ""
    year: int | None = None
    sort: str = "newest"


SORTS = {
    "newest": ["-release_date", "-pk"],
    "oldest": ["release_date", "pk"],
    "price": ["release__min_price", "pk"],
    "-price": ["-release__min_price", "pk"],
    # Awarded and picked recordings first, then as "newest" (see recommended_first).
    "recommended": ["-release_date", "-pk"],
}


# What a work page's row shows (catalog.cards.work_recordings, its cover and the page's
# preview image): the releases' notes, barcodes and search text of the most recorded
# works are not read for nothing.
_WORK_ROW_FIELDS = (
    "year",
    "release_date",
    "work_id",
    "release__title",
    "release__slug",
    "release__catalog_number",
    "release__release_date",
    "release__format",
    "release__discs",
    "release__cover",
    "release__min_price",
    "release__label__name",
)


def recordings_of_work(*, work, filters):
    """Every recording of a work, filtered and sorted, with its release and label (a
    page of them then goes through work_rows)."""
    recordings = Recording.objects.filter(work=work)
    if filters.format:
        recordings = recordings.filter(release__format=filters.format)
    if filters.label:
        recordings = recordings.filter(release__label__slug=filters.label)
    if filters.performer:
        recordings = recordings.filter(credits__artist__slug=filters.performer)
    if filters.year:
        recordings = recordings.filter(year=filters.year)
    # What a row says of availability is its release's cheapest active offer's.
    first_offer = Offer.objects.filter(release=OuterRef("release_id"), is_active=True).order_by("price", "pk")
    return (
        recordings.select_related("release", "release__label")
        .only(*_WORK_ROW_FIELDS)
        .annotate(
            first_offer_stock=Subquery(first_offer.values("stock")[:1]),
            first_offer_made_to_order=Subquery(first_offer.values("made_to_order")[:1]),
        )
        .order_by(*SORTS.get(filters.sort, SORTS["newest"]))
    )


def work_rows(recordings):
    """The recordings of a page of a work, each with its performers in order
    (recording.shown_credits) and its release's cheapest active offer, or None
    (release.first_offer, from recordings_of_work's columns): one query for any number
    of rows. Read by id rather than by prefetch_related, which builds a queryset for
    each row and filters by model instances: on a work page's twenty rows that was a
    good part of the render."""
    recordings = list(recordings)
    credits = {}
    for credit in (
        Credit.objects.filter(recording_id__in=[r.pk for r in recordings])
        .select_related("artist")
        .only("recording_id", "role", "instrument", "artist__name", "artist__slug")
        .order_by("position")
    ):
        credits.setdefault(credit.recording_id, []).append(credit)
    for recording in recordings:
        recording.shown_credits = credits.get(recording.pk, [])
        made_to_order = recording.first_offer_made_to_order
        recording.release.first_offer = (
            None
            if made_to_order is None
            else Offer(
                release_id=recording.release_id,
                is_active=True,
                made_to_order=made_to_order,
                stock=recording.first_offer_stock,
            )
        )
    return recordings


# What work_page_facts reads is kept this long; an entry whose versions are no longer
# the current ones is never read again, only dropped by the cache.
WORK_FACTS_TTL = 3600


@dataclass
class WorkFacts:
    """What a work's page shows of the set of its recordings and of the work itself,
    the same on every filter, sort and page of it."""

    # (format, label slug, label name, year, how many recordings)
    groups: list
    # (slug, sort name) of its conductors, soloists and ensembles
    performers: list
    # the picks (live or not) and awards of its releases, as _editorial gives them
    editorial: list
    catalogue_numbers: list
    movements: list


def work_page_facts(*, work):
    """The work's WorkFacts: read from the database, or from the cache under the version
    of the catalog's names (services.CATALOG_NAMES_KEY) and the version of the work's
    recordings (services.work_recordings_tag), not under the whole catalog's version.

    Whatever can change them bumps one of those versions: a recording, credit, catalogue
    number or movement of the work saved or deleted, a release of it edited or deleted,
    an award or pick of one of its releases saved or deleted bump the work's; a label or
    performer saved or deleted, or a composer or work deleted, the names'. An offer's
    stock or price, a composer, work or alias saved, or a release added bump neither, so
    an entry is read only while it is still true, and survives the catalog-wide changes
    and stock changes that expire the page itself. The versions
    are read before the database, as the page cache does: a write committed in between
    bumps them again and the entry is never used."""
    from .services import CATALOG_NAMES_KEY, version_key, versions_for, work_recordings_tag

    keys = [CATALOG_NAMES_KEY, version_key(work_recordings_tag(work.composer.slug, work.slug))]
    versions = versions_for(keys)
    key = "catalog:work-facts:v3:{}:{}:{}".format(work.pk, *(versions[k] for k in keys))
    facts = cache.get(key)
    if facts is not None:
        return facts
    groups = list(
        Recording.objects.filter(work=work)
        .order_by()
        .values_list("release__format", "release__label__slug", "release__label__name", "year")
        .annotate(n=Count("pk"))
    )
    performers = list(
        Artist.objects.filter(
            credits__recording__work=work, credits__role__in=[Role.CONDUCTOR, Role.SOLOIST, Role.ENSEMBLE]
        )
        .distinct()
        .order_by("sort_name")
        .values_list("slug", "sort_name")[:200]
    )
    # Not joined through the recordings: a release with two recordings of the work
    # would have its badges twice.
    releases = Recording.objects.filter(work=work).values("release_id")
    facts = WorkFacts(
        groups=groups,
        performers=performers,
        editorial=_editorial(
            EditorialPick.objects.filter(release_id__in=releases), Award.objects.filter(release_id__in=releases)
        ),
        catalogue_numbers=[str(number) for number in work.catalogue_numbers.all()],
        movements=list(work.movements.values_list("title", flat=True)),
    )
    cache.set(key, facts, WORK_FACTS_TTL)
    return facts


def recording_filter_choices(*, facts, filters=None):
    """The formats, labels, performers and years that the work's recordings have (its
    WorkFacts), as (value, label) pairs, and "count": how many recordings the filters
    leave (None when a performer is chosen, which is counted with the page)."""
    filters = filters or RecordingFilters()
    rows = facts.groups
    formats = {row[0] for row in rows}
    count = None
    if not filters.performer:
        count = sum(
            n
            for format, label, _, year, n in rows
            if (not filters.format or format == filters.format)
            and (not filters.label or label == filters.label)
            and (not filters.year or year == filters.year)
        )
    return {
        "formats": [(f.value, f.label) for f in Format if f.value in formats],
        "labels": sorted({(slug, name) for _, slug, name, _, _ in rows}, key=lambda label: (label[1], label[0])),
        "performers": facts.performers,
        "years": [(y, y) for y in sorted({row[3] for row in rows if row[3]}, reverse=True)],
        "count": count,
    }


def release_detail(*, slug):
    release = Release.objects.select_related("label").get(slug=slug)
    recordings = list(
        release.recordings.select_related("work", "work__composer")
        .prefetch_related(_credits, Prefetch("tracks", queryset=Track.objects.order_by("disc", "number")))
        .order_by("position")
    )
    offers = list(release.offers.filter(is_active=True).order_by("made_to_order", "price"))
    return release, recordings, offers


def recordings_by_artist(*, artist, role=None):
    """The ids of the artist's recordings (in role), newest first: their credits walked
    on the index (artist, [role,] release_date, recording) (migration 0014), which stops
    after the page asked for, however many recordings they are on. A recording they
    have two credits on (conducting from the keyboard) is listed once, its credits being
    next to each other in that walk. recordings_shown then reads a page's rows."""
    credits = Credit.objects.filter(artist=artist)
    if role:
        credits = credits.filter(role=role)
    return credits.order_by("-release_date", "-recording_id").values_list("recording_id", flat=True).distinct()


def recordings_shown(ids):
    """The recordings with these ids, in that order, with their work, composer, release,
    label and performers: the rows of a performer's page."""
    ids = list(ids)
    rows = (
        Recording.objects.filter(pk__in=ids)
        .select_related("work", "work__composer", "release", "release__label")
        .prefetch_related(_credits)
        .in_bulk()
    )
    return [rows[pk] for pk in ids if pk in rows]


def artist_recording_count(*, artist, role=None):
    """How many recordings the artist's page lists (in role): the counts kept on the
    artist as their credits change (services.artists_recount), not counted per page."""
    return artist.role_counts.get(role, 0) if role else artist.recording_count


def artist_roles(*, artist):
    """The roles the artist is credited in, sorted by value."""
    return sorted(role for role, count in artist.role_counts.items() if count and role in Role.values)


def releases_of_label(*, label, format=None):
    releases = Release.objects.filter(label=label).select_related("label")
    if format:
        releases = releases.filter(format=format)
    return releases.order_by(*NEWEST_FIRST)


def new_releases(*, format=None):
    releases = Release.objects.select_related("label")
    if format:
        releases = releases.filter(format=format)
    return releases.order_by(*NEWEST_FIRST)


def artists_list(*, kind=None, letter=None):
    artists = Artist.objects.all()
    if kind:
        artists = artists.filter(kind=kind)
    if letter:
        artists = artists.filter(sort_name__istartswith=letter)
    return artists.order_by("sort_name")


# Editorial: picks and awards shown on the home, release and work pages.


def _live_picks(today):
    return EditorialPick.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today), starts_on__lte=today)


def editorial_home(*, today, choices=6):
    """The recording of the week and the newest editor's choices shown on a day."""
    # One query for both kinds: the newest few of each, ranked within their kind.
    newest = Window(RowNumber(), partition_by=F("kind"), order_by=[F("starts_on").desc(), F("pk").desc()])
    shown = list(
        _live_picks(today)
        .select_related("release", "release__label")
        .annotate(rank=newest)
        .filter(rank__lte=choices)
        .order_by("-starts_on", "-pk")
    )
    return {
        "recording_of_the_week": next((p for p in shown if p.kind == EditorialPick.Kind.RECORDING_OF_THE_WEEK), None),
        "editors_choices": [p for p in shown if p.kind == EditorialPick.Kind.EDITORS_CHOICE],
    }


@dataclass(frozen=True)
class Badge:
    """An award or a live pick, as a badge on a release."""

    kind: str  # "award" or "pick"
    text: str


def _editorial(picks, awards):
    """(release id, "pick" or "award", kind or name, year, category, starts on, ends on)
    of these picks and awards, in one query."""
    no_date = Value(None, output_field=DateField())
    awards = awards.order_by().values_list("release_id", Value("award"), "name", "year", "category", no_date, no_date)
    picks = picks.order_by().values_list(
        "release_id", Value("pick"), "kind", "starts_on__year", Value(""), "starts_on", "ends_on"
    )
    return list(picks.union(awards, all=True))


def _attach_badges(releases, rows):
    labels = dict(EditorialPick.Kind.choices)
    badges = {}
    for release_id, kind, name, year, category, *_ in rows:
        if kind == "pick":
            badge = Badge("pick", str(labels.get(name, name)))
        else:
            badge = Badge("award", f"{name} {year}" + (f" · {category}" if category else ""))
        badges.setdefault(release_id, []).append((kind != "pick", -year, badge.text, badge))
    for release in releases:
        release.badges = [badge for *_, badge in sorted(badges.get(release.pk, []))]
    return releases


def attach_editorial(releases, *, today):
    """Give each release its badges (release.badges): its live picks, then its awards,
    newest first, in one query for any number of releases."""
    releases = list(releases)
    ids = {r.pk for r in releases}
    rows = _editorial(_live_picks(today).filter(release_id__in=ids), Award.objects.filter(release_id__in=ids))
    return _attach_badges(releases, rows)


def attach_work_editorial(releases, *, facts, today):
    """attach_editorial for releases of a work, from its WorkFacts: no query."""
    releases = list(releases)
    ids = {r.pk for r in releases}
    rows = [
        row
        for row in facts.editorial
        if row[0] in ids and (row[1] == "award" or (row[5] <= today and (row[6] is None or row[6] >= today)))
    ]
    return _attach_badges(releases, rows)


def recommended_first(recordings, *, today):
    """Recordings on an awarded release first, then those the editors picked, each
    group in the order the recordings already had."""
    awarded = Exists(Award.objects.filter(release=OuterRef("release_id")))
    picked = Exists(EditorialPick.objects.filter(release=OuterRef("release_id"), starts_on__lte=today))
    order = list(recordings.query.order_by) or SORTS["newest"]
    return recordings.annotate(awarded=awarded, picked=picked).order_by(F("awarded").desc(), F("picked").desc(), *order)
