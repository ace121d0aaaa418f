"""Release cards, the repeated piece of the home page and the release lists, cached one
by one under their own version.

A card's version is a digest of everything the card shows (title, label, format, year,
lowest price, cover), so a card that changes gets a new key and nothing ever needs
expiring: a list page that is rendered afresh after one offer's price changed renders
that one card and takes every other from the cache, all in one get_many."""

import hashlib

from django.core.cache import cache
from django.template.loader import get_template
from django.utils.safestring import mark_safe

CARD_TEMPLATE = "catalog/includes/release_card.html"
# Cards are small and their keys never go stale, only unused; the cache drops them.
CARD_TTL = 24 * 3600


def card_key(release):
    shown = (
        release.pk,
        release.slug,
        release.title,
        release.label.name,
        release.format,
        release.release_date.isoformat(),
        str(release.min_price),
        release.get_cover_url(),
    )
    return "catalog:card:" + hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()


def release_cards(releases):
    """The rendered card of each release, in order, rendering only those not cached."""
    releases = list(releases)
    if not releases:
        return []
    keys = [card_key(release) for release in releases]
    found = cache.get_many(keys)
    missing = {}
    template = None
    for release, key in zip(releases, keys, strict=True):
        if key not in found:
            template = template or get_template(CARD_TEMPLATE)
            missing[key] = found[key] = template.render({"release": release})
    if missing:
        cache.set_many(missing, CARD_TTL)
    return [mark_safe(found[key]) for key in keys]
