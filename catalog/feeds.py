"""Atom feeds of new releases: the whole catalog's, and one per composer.

Links are absolute on ARKIV_SITE_URL (catalog.opengraph.absolute), so a feed fetched
through any host name or proxy points readers at the shop's public address, and the
shared page cache can keep one copy for everyone."""

import datetime

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from .models import Composer, Recording, Release
from .opengraph import absolute

FEED_SIZE = 30


def _newest(releases):
    return releases.select_related("label").order_by("-release_date", "-pk")[:FEED_SIZE]


class NewReleasesFeed(Feed):
    feed_type = Atom1Feed
    author_name = "Arkiv"

    def title(self):
        return "Arkiv: new classical releases"

    def subtitle(self):
        return "The newest releases in the Arkiv catalog."

    def link(self):
        return absolute(reverse("catalog:releases"))

    def feed_url(self):
        return absolute(reverse("feed_new_releases"))

    def items(self):
        return _newest(Release.objects.all())

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return absolute(item.get_absolute_url())

    def item_description(self, item):
        # Atom's summary is sent as HTML: our text is escaped once for it.
        return escape(
            f"{item.label.name} {item.catalog_number} · {item.get_format_display()}"
            f" · released {item.release_date:%d %B %Y}".replace(" 0", " ")
        )

    def item_updateddate(self, item):
        return datetime.datetime.combine(item.release_date, datetime.time.min, tzinfo=datetime.UTC)

    item_pubdate = item_updateddate


class ComposerReleasesFeed(NewReleasesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Composer, slug=slug)

    def title(self, obj):
        return f"Arkiv: new recordings of {obj.full_name}"

    def subtitle(self, obj):
        return f"The newest releases with works by {obj.full_name}."

    def link(self, obj):
        return absolute(obj.get_absolute_url())

    def feed_url(self, obj):
        return absolute(reverse("feed_composer", kwargs={"slug": obj.slug}))

    def items(self, obj):
        on_releases = Recording.objects.filter(work__composer=obj).values("release_id")
        return _newest(Release.objects.filter(pk__in=on_releases))
