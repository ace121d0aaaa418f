"""Catalog pages: thin views that parse the request, call a selector and render."""

import string

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.html import escape
from django.views.decorators.http import require_GET

from . import cards, jsonld, opengraph, selectors
from .caching import cached_page
from .forms import ArtistRoleForm, RecordingFilterForm, SearchForm
from .models import Artist, Composer, Format, Genre, Label, Period, Release, Role, Work
from .search import search_catalog

LETTERS = list(string.ascii_uppercase)


def _letter(request):
    letter = request.GET.get("letter", "").upper()
    return letter if letter in LETTERS else ""


def _choice(value, choices):
    return value if value in choices.values else ""


@require_GET
@cached_page
def home(request):
    """The front page: new releases, featured releases, the editors' picks and ways into
    the catalog."""
    context = selectors.home_page()
    context["featured"] = cards.release_cards(context["featured"])
    context["new_releases"] = cards.release_cards(context["new_releases"])
    context.update(selectors.editorial_home(today=timezone.localdate()))
    return render(request, "catalog/home.html", context)


@require_GET
@cached_page
def composer_list(request, period=None):
    """Composers A-Z, optionally of one period."""
    if period is not None and period not in Period.values:
        raise Http404("No such period.")
    letter = _letter(request)
    page = selectors.paginate(
        selectors.composers_list(letter=letter, period=period), request.GET.get("page"), per_page=60
    )
    return render(
        request,
        "catalog/composer_list.html",
        {"page": page, "letters": LETTERS, "letter": letter, "period": Period(period) if period else None},
    )


@require_GET
@cached_page
def composer_detail(request, slug):
    """A composer and their works, grouped by genre."""
    composer = get_object_or_404(Composer, slug=slug)
    genre = _choice(request.GET.get("genre", ""), Genre)
    works = selectors.works_of_composer(composer=composer, genre=genre)
    counts = selectors.genre_counts(composer=composer)
    total = counts.get(genre, 0) if genre else sum(counts.values())
    page = selectors.paginate(works, request.GET.get("page"), per_page=50, count=total)
    # Each genre's name translated once, not once per work: get_genre_display evaluates
    # every genre's lazy name on each call (about 400 lookups for a page of 50 works).
    names = {value: str(label) for value, label in Genre.choices}
    page.object_list = list(page.object_list)
    for work in page.object_list:
        work.genre_name = names.get(work.genre, work.genre)
    return render(
        request,
        "catalog/composer_detail.html",
        {
            "composer": composer,
            "page": page,
            "genre": genre,
            "genres": [(g, counts[g.value]) for g in Genre if g.value in counts],
            "jsonld": jsonld.composer(request, composer),
            "meta": opengraph.composer(composer),
        },
    )


@require_GET
@cached_page
def work_detail(request, composer, slug):
    """Every recording of a work, with filters and sorting."""
    works = Work.objects.select_related("composer").defer("search_text", "composer__search_text")
    work = get_object_or_404(works, composer__slug=composer, slug=slug)
    form = RecordingFilterForm(request.GET)
    filters = form.filters()
    recordings = selectors.recordings_of_work(work=work, filters=filters)
    today = timezone.localdate()
    if filters.sort == "recommended":
        recordings = selectors.recommended_first(recordings, today=today)
    facts = selectors.work_page_facts(work=work)
    choices = selectors.recording_filter_choices(facts=facts, filters=filters)
    page = selectors.paginate(recordings, request.GET.get("page"), per_page=20, count=choices.pop("count"))
    page.object_list = selectors.work_rows(page.object_list)
    selectors.attach_work_editorial([r.release for r in page], facts=facts, today=today)
    return render(
        request,
        "catalog/work_detail.html",
        {
            "work": work,
            "page": page,
            "rows": cards.work_recordings(page),
            "form": form,
            "filters": filters,
            "choices": choices,
            "catalogue_numbers": facts.catalogue_numbers,
            "movements": facts.movements,
            "jsonld": jsonld.work(request, work),
            "meta": opengraph.work(work, page[0].release if page else None),
        },
    )


@require_GET
@cached_page
def genre_detail(request, genre):
    """Works of one genre, the most recorded first."""
    if genre not in Genre.values:
        raise Http404("No such genre.")
    page = selectors.paginate(selectors.works_in_genre(genre=genre), request.GET.get("page"), per_page=50)
    return render(request, "catalog/genre_detail.html", {"genre": Genre(genre), "page": page})


@require_GET
@cached_page
def artist_list(request):
    """Performers: conductors, soloists, orchestras, ensembles and choirs."""
    kind = _choice(request.GET.get("kind", ""), Artist.Kind)
    letter = _letter(request)
    page = selectors.paginate(selectors.artists_list(kind=kind, letter=letter), request.GET.get("page"), per_page=60)
    return render(
        request,
        "catalog/artist_list.html",
        {"page": page, "kind": kind, "kinds": Artist.Kind.choices, "letters": LETTERS, "letter": letter},
    )


@require_GET
@cached_page
def artist_detail(request, slug):
    """An artist's recordings, optionally in one role."""
    artist = get_object_or_404(Artist, slug=slug)
    form = ArtistRoleForm(request.GET)
    role = form.cleaned_data["role"] if form.is_valid() else ""
    count = selectors.artist_recording_count(artist=artist, role=role)
    page = selectors.paginate(
        selectors.recordings_by_artist(artist=artist, role=role),
        request.GET.get("page"),
        per_page=20,
        count=count,
    )
    page.object_list = selectors.recordings_shown(page.object_list)
    roles = selectors.artist_roles(artist=artist)
    return render(
        request,
        "catalog/artist_detail.html",
        {
            "artist": artist,
            "page": page,
            "rows": cards.artist_recordings(page),
            "role": role,
            "roles": [Role(r) for r in roles],
        },
    )


@require_GET
@cached_page
def label_list(request):
    """Record labels."""
    page = selectors.paginate(Label.objects.order_by("name"), request.GET.get("page"), per_page=60)
    return render(request, "catalog/label_list.html", {"page": page})


@require_GET
@cached_page
def label_detail(request, slug):
    """A label's releases, newest first."""
    label = get_object_or_404(Label, slug=slug)
    fmt = _choice(request.GET.get("format", ""), Format)
    page = selectors.ListPage(
        selectors.releases_of_label(label=label, format=fmt), selectors.page_number(request.GET.get("page"))
    )
    return render(
        request,
        "catalog/label_detail.html",
        {"label": label, "page": page, "cards": cards.release_cards(page), "format": fmt, "formats": Format.choices},
    )


@require_GET
@cached_page
def release_list(request):
    """New releases, newest first."""
    fmt = _choice(request.GET.get("format", ""), Format)
    page = selectors.ListPage(selectors.new_releases(format=fmt), selectors.page_number(request.GET.get("page")))
    return render(
        request,
        "catalog/release_list.html",
        {"page": page, "cards": cards.release_cards(page), "format": fmt, "formats": Format.choices},
    )


@require_GET
@cached_page
def release_detail(request, slug):
    """A release: track list, credits, format, prices and availability."""
    try:
        release, recordings, offers = selectors.release_detail(slug=slug)
    except Release.DoesNotExist:
        raise Http404("No such release.") from None
    selectors.attach_editorial([release], today=timezone.localdate())
    return render(
        request,
        "catalog/release_detail.html",
        {
            "release": release,
            "recordings": recordings,
            "offers": offers,
            "jsonld": jsonld.release(request, release, recordings, offers),
            "meta": opengraph.release(release, [b.text for b in release.badges if b.kind == "award"]),
        },
    )


# A versioned cover URL (?v=) names one content for good; without it, or with an old
# version, the cover may change and browsers check back after an hour.
COVER_MAX_AGE = 365 * 24 * 3600
COVER_UNVERSIONED_MAX_AGE = 3600


@require_GET
def release_cover(request, slug):
    """A generated placeholder cover: composer and title on a colour of the label's.
    Served like a static file: an ETag of its content, 304 when the browser has it,
    and a year's max-age under a versioned URL. It touches no session or cookie."""
    release = get_object_or_404(Release.objects.select_related("label"), slug=slug)
    version = release.cover_version
    etag = f'"{version}"'
    max_age = COVER_MAX_AGE if request.GET.get("v") == version else COVER_UNVERSIONED_MAX_AGE
    cache_control = f"public, max-age={max_age}" + (", immutable" if max_age == COVER_MAX_AGE else "")
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        not_modified["ETag"] = etag
        not_modified["Cache-Control"] = cache_control
        return not_modified
    response = HttpResponse(_cover_svg(release), content_type="image/svg+xml")
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def _cover_svg(release):
    composer, _, title = release.title.partition(": ")
    hue = sum(map(ord, release.label.name)) % 360
    lines = _wrap(title or composer, 22)[:4]
    text = "".join(
        f'<text x="20" y="{150 + 26 * i}" font-size="20" fill="#fff">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300" viewBox="0 0 300 300" '
        'font-family="Georgia, serif">'
        f'<rect width="300" height="300" fill="hsl({hue},35%,28%)"/>'
        f'<rect x="12" y="12" width="276" height="276" fill="none" stroke="hsl({hue},40%,70%)" stroke-width="2"/>'
        f'<text x="20" y="70" font-size="30" fill="hsl({hue},60%,85%)">{escape(composer[:20])}</text>'
        f"{text}"
        f'<text x="20" y="275" font-size="13" fill="hsl({hue},30%,80%)">{escape(release.label.name)} · '
        f"{escape(release.catalog_number)}</text></svg>"
    )


def _wrap(text, width):
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


@require_GET
@cached_page
def search(request):
    """Search composers, works, performers and releases."""
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else request.GET.get("q", "")[:200].strip()
    results = search_catalog(query) if query else None
    return render(request, "catalog/search.html", {"form": form, "query": query, "results": results})
