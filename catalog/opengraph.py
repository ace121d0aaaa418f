"""OpenGraph and Twitter card descriptions of catalog pages, for link previews.

Every URL is absolute and built from ARKIV_SITE_URL, not from the request's Host header:
pages are rendered once for everyone (catalog.caching), so nothing here may depend on
who asked or how. Nothing personal goes in."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.text import Truncator


def absolute(path):
    """An absolute URL on the shop's public address; URLs that already are (a cover on
    a media host) are kept."""
    if "://" in path or path.startswith("//"):
        return path
    return settings.ARKIV_SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class PageMeta:
    title: str
    type: str
    url: str
    description: str
    image: str = ""
    image_alt: str = ""

    @property
    def twitter_card(self):
        return "summary_large_image" if self.image else "summary"


def _cut(text):
    return Truncator(" ".join(text.split())).chars(200)


def composer(composer):
    lifespan = f" ({composer.lifespan})" if composer.lifespan else ""
    return PageMeta(
        title=composer.full_name,
        type="profile",
        url=absolute(composer.get_absolute_url()),
        description=_cut(
            f"{composer.full_name}{lifespan}, {composer.get_period_display()} composer: "
            "every available recording of their works."
        ),
    )


def work(work, cover_release=None):
    """A work's page; its picture is the cover of the first recording it lists."""
    extra = f" ({work.nickname})" if work.nickname else ""
    return PageMeta(
        title=f"{work.composer.name}: {work.title}",
        type="website",
        url=absolute(work.get_absolute_url()),
        description=_cut(f"Every available recording of {work.composer.full_name}'s {work.title}{extra}."),
        image=absolute(cover_release.get_cover_url()) if cover_release else "",
        image_alt=f"Cover of {cover_release.title}" if cover_release else "",
    )


def release(release, awards=()):
    """A release's page; awards are the texts of its award badges."""
    parts = [
        f"{release.label.name} {release.catalog_number}",
        release.get_format_display(),
        f"released {release.release_date:%d %B %Y}".replace(" 0", " "),
    ]
    parts += list(awards[:2])
    return PageMeta(
        title=release.title,
        type="music.album",
        url=absolute(release.get_absolute_url()),
        description=_cut(" · ".join(parts)),
        image=absolute(release.get_cover_url()),
        image_alt=f"Cover of {release.title}",
    )
