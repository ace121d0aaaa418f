"""OpenGraph and Twitter card descriptions of catalog pages, for link previews.

Every URL is absolute and built from ARKIV_SITE_URL, not from the request's Host header:
pages are rendered once for everyone (catalog.caching), so nothing here may depend on
who asked or how. Nothing personal goes in."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext, to_locale


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
    locale: str = ""

    @property
    def twitter_card(self):
        return "summary_large_image" if self.image else "summary"

    @property
    def alternate_locales(self):
        """The page's other languages, for og:locale:alternate."""
        return [_og_locale(code) for code, _name in settings.LANGUAGES if _og_locale(code) != self.locale]


def _og_locale(language):
    """OpenGraph's form of a language: 'en-gb' -> 'en_GB', 'de' -> 'de_DE'."""
    locale = to_locale(language)
    return locale if "_" in locale else f"{locale}_{locale.upper()}"


def _page_locale():
    return _og_locale(get_language() or settings.LANGUAGE_CODE)


def _cut(text):
    return Truncator(" ".join(text.split())).chars(200)


def composer(composer):
    lifespan = f" ({composer.lifespan})" if composer.lifespan else ""
    return PageMeta(
        title=composer.full_name,
        type="profile",
        url=absolute(composer.get_absolute_url()),
        description=_cut(
            gettext("%(name)s%(lifespan)s, %(period)s composer: every available recording of their works.")
            % {"name": composer.full_name, "lifespan": lifespan, "period": composer.get_period_display()}
        ),
        locale=_page_locale(),
    )


def work(work, cover_release=None):
    """A work's page; its picture is the cover of the first recording it lists."""
    extra = f" ({work.nickname})" if work.nickname else ""
    title = work.shown_title
    return PageMeta(
        title=f"{work.composer.name}: {title}",
        type="website",
        url=absolute(work.get_absolute_url()),
        description=_cut(
            gettext("Every available recording of %(composer)s's %(title)s%(nickname)s.")
            % {"composer": work.composer.full_name, "title": title, "nickname": extra}
        ),
        image=absolute(cover_release.get_cover_url()) if cover_release else "",
        image_alt=gettext("Cover of %(title)s") % {"title": cover_release.title} if cover_release else "",
        locale=_page_locale(),
    )


def release(release, awards=()):
    """A release's page; awards are the texts of its award badges."""
    parts = [
        f"{release.label.name} {release.catalog_number}",
        release.get_format_display(),
        gettext("released %(date)s") % {"date": date_format(release.release_date, gettext("j F Y"))},
    ]
    parts += list(awards[:2])
    return PageMeta(
        title=release.title,
        type="music.album",
        url=absolute(release.get_absolute_url()),
        description=_cut(" · ".join(parts)),
        image=absolute(release.get_cover_url()),
        image_alt=gettext("Cover of %(title)s") % {"title": release.title},
        locale=_page_locale(),
    )
