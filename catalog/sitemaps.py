"""What crawlers read: the sitemap index and its sections, and robots.txt.

The sitemap lists every composer, every work that has recordings, every release,
performer and label, and the shop's fixed pages, in sections of SECTION_SIZE URLs.
Each section page costs two queries (a count and one page of rows, only the columns
its URLs need) whatever the catalog's size, and is kept in the shared page cache
until the catalog changes. URLs are absolute on ARKIV_SITE_URL."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.contrib.sitemaps.views import SitemapIndexItem
from django.db.models import Exists, Max, OuterRef
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from .caching import cached_page
from .models import Artist, Composer, Genre, Label, Period, Recording, Release, Work

SECTION_SIZE = 5000


class ShopSitemap(Sitemap):
    """A section whose URLs are on the shop's public address, not the request's host."""

    limit = SECTION_SIZE

    def get_urls(self, page=1, site=None, protocol=None):
        address = urlsplit(settings.ARKIV_SITE_URL)
        return self._urls(page, address.scheme or "https", address.netloc)


class StaticSitemap(ShopSitemap):
    """The pages that are not rows: home, the A-Z lists, periods, genres, policies."""

    def items(self):
        names = [
            ("catalog:home", ()),
            ("catalog:composers", ()),
            ("catalog:artists", ()),
            ("catalog:labels", ()),
            ("catalog:releases", ()),
            *[("catalog:period", (value,)) for value in Period.values],
            *[("catalog:genre", (value,)) for value in Genre.values],
            ("privacy:policy", ()),
            ("privacy:terms", ()),
            ("privacy:contact", ()),
        ]
        return [reverse(name, args=args) for name, args in names]

    def location(self, item):
        return item


class ComposerSitemap(ShopSitemap):
    def items(self):
        return Composer.objects.only("slug").order_by("pk")


class WorkSitemap(ShopSitemap):
    """Works that have at least one recording: a work page without any is a dead end."""

    def items(self):
        recorded = Exists(Recording.objects.filter(work=OuterRef("pk")))
        return Work.objects.filter(recorded).select_related("composer").only("slug", "composer__slug").order_by("pk")


class ReleaseSitemap(ShopSitemap):
    def items(self):
        return Release.objects.only("slug", "release_date").order_by("pk")

    def lastmod(self, item):
        return item.release_date

    def get_latest_lastmod(self):
        # Django's default reads lastmod() of every row; one aggregate does.
        return Release.objects.aggregate(latest=Max("release_date"))["latest"]


class ArtistSitemap(ShopSitemap):
    def items(self):
        return Artist.objects.only("slug").order_by("pk")


class LabelSitemap(ShopSitemap):
    def items(self):
        return Label.objects.only("slug").order_by("pk")


SITEMAPS = {
    "pages": StaticSitemap,
    "composers": ComposerSitemap,
    "works": WorkSitemap,
    "releases": ReleaseSitemap,
    "artists": ArtistSitemap,
    "labels": LabelSitemap,
}


@require_GET
@cached_page
def sitemap_index(request):
    """The sitemap index: one entry per page of each section."""
    items = []
    for section, sitemap_class in SITEMAPS.items():
        sitemap = sitemap_class()
        url = settings.ARKIV_SITE_URL.rstrip("/") + reverse("sitemap_section", kwargs={"section": section})
        lastmod = sitemap.get_latest_lastmod()
        items.append(SitemapIndexItem(url, lastmod))
        items += [SitemapIndexItem(f"{url}?p={page}", lastmod) for page in range(2, sitemap.paginator.num_pages + 1)]
    response = TemplateResponse(request, "sitemap_index.xml", {"sitemaps": items}, content_type="application/xml")
    response["X-Robots-Tag"] = "noindex, noodp, noarchive"
    return response


@require_GET
@cached_page
def sitemap_section(request, section):
    """One page (?p=N) of one section of the sitemap; a page past the end is a 404."""
    return sitemap_views.sitemap(request, SITEMAPS, section=section)


@require_GET
def robots_txt(request):
    """Crawlers may read the catalog; carts, checkout, accounts, orders, the admin and
    searches with a query are off limits. Names the sitemap."""
    disallowed = [
        reverse("orders:cart"),
        reverse("orders:checkout"),
        reverse("accounts:overview"),
        # An order's pages (/orders/<number>/...) are its buyer's alone.
        reverse("orders:detail", kwargs={"number": "N"}).removesuffix("N/"),
        reverse("admin:index"),
        # A search with a query; the wildcard form (understood by the large crawlers)
        # also covers a query that is not the first parameter.
        reverse("catalog:search") + "?q=",
        reverse("catalog:search") + "*q=",
    ]
    lines = ["User-agent: *", *[f"Disallow: {path}" for path in disallowed], "Allow: /", ""]
    lines.append(f"Sitemap: {settings.ARKIV_SITE_URL.rstrip('/')}{reverse('sitemap')}")
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
