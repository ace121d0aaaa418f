"""The repeated pieces of catalog pages (release cards, the recordings of a work or of a
performer), each cached under its own version.

A piece's version is a digest of everything it shows, so a piece that changes gets a
new key and nothing ever needs expiring: a page that is rendered afresh after one
offer's price changed renders that one piece and takes every other from the cache, all
in one get_many."""

import hashlib
import re

from django.core.cache import cache
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

# Pieces are small and their keys never go stale, only unused; the cache drops them.
FRAGMENT_TTL = 24 * 3600


def _release_shown(release):
    # The cover's URL is made from the title, label and catalogue number (Release.cover_version).
    return (
        release.pk,
        release.slug,
        release.title,
        release.label.name,
        release.catalog_number,
        release.format,
        release.discs,
        release.release_date.isoformat(),
        str(release.min_price),
        release.cover.name,
    )


def _credit_values(credits):
    return tuple((c.artist.slug, c.artist.name, c.role, c.instrument) for c in credits)


def _credits_shown(recording):
    return _credit_values(recording.credits.all())


def _work_row_shown(recording):
    # As catalog.selectors.work_rows gives it.
    first = recording.release.first_offer
    return (
        recording.pk,
        recording.year,
        _release_shown(recording.release),
        _credit_values(recording.shown_credits),
        first and (first.available, first.made_to_order, bool(first.stock)),
        # Awards and live picks (catalog.selectors.attach_editorial).
        tuple((badge.kind, badge.text) for badge in getattr(recording.release, "badges", ())),
    )


def _artist_row_shown(recording):
    work = recording.work
    return (
        recording.pk,
        work.composer.slug,
        work.composer.name,
        work.slug,
        work.title,
        work.title_de,
        _release_shown(recording.release),
        _credits_shown(recording),
    )


_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# The path of each URL name, per language, script prefix and URLconf, with a mark for
# each argument.
_PATHS = {}


def catalog_path(name, **slugs):
    """reverse(name, kwargs=slugs) for a catalog URL with slug arguments, each name
    reversed once per language and script prefix in this process and the slugs filled
    into its path: a fresh list of twenty rows would otherwise reverse about a hundred
    URLs (release, cover, each performer). A slug with anything a URL would quote is
    reversed as usual."""
    if not all(_SLUG.fullmatch(slug) for slug in slugs.values()):
        return reverse(name, kwargs=slugs)
    key = (name, get_language(), get_script_prefix(), get_urlconf(), tuple(slugs))
    if key not in _PATHS:
        marks = {arg: f"0arg0{arg}0" for arg in slugs}
        _PATHS[key] = (reverse(name, kwargs=marks), marks)
    path, marks = _PATHS[key]
    for arg, slug in slugs.items():
        path = path.replace(marks[arg], slug)
    return path


def _linker():
    """The function giving the URLs of a list's rows (catalog_path)."""
    return catalog_path


def _release_links(release, link):
    if release.cover:
        cover = release.cover.url
    else:
        cover = link("catalog:cover", slug=release.slug) + f"?v={release.cover_version}"
    return {"release_url": link("catalog:release", slug=release.slug), "cover_url": cover}


def _recording_links(recording, link):
    return _release_links(recording.release, link)


def _artist_row_links(recording, link):
    work = recording.work
    return {
        "release_url": link("catalog:release", slug=recording.release.slug),
        "work_url": link("catalog:work", composer=work.composer.slug, slug=work.slug),
        "composer_url": link("catalog:composer", slug=work.composer.slug),
    }


def _cached(template_name, name, items, shown, links):
    """Each item rendered with template_name (the item as `name`, and the URLs links
    gives it), in order, rendering only those whose shown values are not cached yet."""
    items = list(items)
    if not items:
        return []
    prefix = f"catalog:piece:{template_name}:{get_language()}:"
    keys = [prefix + hashlib.blake2b(repr(shown(item)).encode(), digest_size=16).hexdigest() for item in items]
    found = cache.get_many(keys)
    missing = {}
    template = link = None
    for item, key in zip(items, keys, strict=True):
        if key not in found:
            template = template or get_template(template_name)
            link = link or _linker()
            missing[key] = found[key] = template.render({name: item, **links(item, link)})
    if missing:
        cache.set_many(missing, FRAGMENT_TTL)
    return [mark_safe(found[key]) for key in keys]


def release_cards(releases):
    """The card of each release (home page, new releases, label pages)."""
    return _cached("catalog/includes/release_card.html", "release", releases, _release_shown, _release_links)


def work_recordings(recordings):
    """A work page's row of each recording, with its release, performers, price and availability."""
    return _cached("catalog/includes/work_recording.html", "recording", recordings, _work_row_shown, _recording_links)


def artist_recordings(recordings):
    """A performer page's row of each recording, with its work and release."""
    return _cached(
        "catalog/includes/artist_recording.html", "recording", recordings, _artist_row_shown, _artist_row_links
    )
