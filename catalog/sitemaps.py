"""What crawlers read: the sitemap index and its sections, and robots.txt.

The sitemap lists every composer, every work that has recordings, every release,
performer and label, and the shop's fixed pages, in sections of SECTION_SIZE rows; each
row is listed in every language of the shop (/ and /de/), each entry naming all its
language versions with <xhtml:link rel="alternate" hreflang>.
Each section page costs two queries (a count and one page of rows, only the columns
its URLs need) whatever the catalog's size, and is kept in the shared page cache
until the catalog changes. URLs are absolute on ARKIV_SITE_URL."""

from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem
from django.core.paginator import InvalidPage
from django.db.models import Exists, Max, OuterRef
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET

from .caching import cached_page
from .models import Artist, Composer, Genre, Label, Period, Recording, Release, Work

SECTION_SIZE = 5000


def _url_pattern(viewname, *names):
    """The path of a view with str.format fields for its arguments, reversed once so
    thousands of rows cost no reverse() each (slugs never need quoting)."""
    path = reverse(viewname, kwargs={name: f"__{name}__" for name in names})
    for name in names:
        path = path.replace(f"__{name}__", "{" + name + "}")
    return path


def _in_each_language(make):
    """[(language, make() with that language active)] for each of the shop's languages."""
    versions = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            versions.append((code, make()))
    return versions


class ShopSitemap(Sitemap):
    """A section whose rows are value tuples, turned into paths by one pattern."""

    limit = SECTION_SIZE
    viewname, fields = "", ()

    @cached_property
    def patterns(self):
        """[(language, path pattern)]: /works/{composer}/{slug}/ and /de/works/..."""
        return _in_each_language(lambda: _url_pattern(self.viewname, *self.fields))

    def locations(self, item):
        """[(language, path)] of a row in each language."""
        # A row may carry more than its URL needs (a release's date, for lastmod).
        values = dict(zip(self.fields, item, strict=False))
        return [(language, pattern.format(**values)) for language, pattern in self.patterns]

    def location(self, item):
        return self.locations(item)[0][1]

    def get_urls(self, page=1, site=None, protocol=None):
        # On the shop's public address, not the request's host.
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
        return [_in_each_language(lambda name=name, args=args: reverse(name, args=args)) for name, args in names]

    def locations(self, item):
        return item


class ComposerSitemap(ShopSitemap):
    viewname, fields = "catalog:composer", ("slug",)

    def items(self):
        return Composer.objects.order_by("pk").values_list("slug")


class WorkSitemap(ShopSitemap):
    """Works that have at least one recording: a work page without any is a dead end."""

    viewname, fields = "catalog:work", ("composer", "slug")

    def items(self):
        recorded = Exists(Recording.objects.filter(work=OuterRef("pk")))
        return Work.objects.filter(recorded).order_by("pk").values_list("composer__slug", "slug")


class ReleaseSitemap(ShopSitemap):
    viewname, fields = "catalog:release", ("slug",)

    def items(self):
        return Release.objects.order_by("pk").values_list("slug", "release_date")

    def lastmod(self, item):
        return item[1]

    def get_latest_lastmod(self):
        # Django's default reads lastmod() of every row; one aggregate does.
        return Release.objects.aggregate(latest=Max("release_date"))["latest"]


class ArtistSitemap(ShopSitemap):
    viewname, fields = "catalog:artist", ("slug",)

    def items(self):
        return Artist.objects.order_by("pk").values_list("slug")


class LabelSitemap(ShopSitemap):
    viewname, fields = "catalog:label", ("slug",)

    def items(self):
        return Label.objects.order_by("pk").values_list("slug")


SITEMAPS = {
    "pages": StaticSitemap,
    "composers": ComposerSitemap,
    "works": WorkSitemap,
    "releases": ReleaseSitemap,
    "artists": ArtistSitemap,
    "labels": LabelSitemap,
}
_ROBOTS_HEADER = "noindex, noodp, noarchive"


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
    response["X-Robots-Tag"] = _ROBOTS_HEADER
    return response


@require_GET
@cached_page
def sitemap_section(request, section):
    """One page (?p=N) of one section of the sitemap; a page that is not one is a 404.

    Written directly rather than through Django's sitemap.xml template, which takes
    over a second for a page of 5,000 URLs; the XML is the same."""
    if section not in SITEMAPS:
        raise Http404("No such sitemap section.")
    sitemap = SITEMAPS[section]()
    try:
        page = sitemap.paginator.page(request.GET.get("p", 1))
    except InvalidPage:
        raise Http404("No such sitemap page.") from None
    base = settings.ARKIV_SITE_URL.rstrip("/")
    dated = hasattr(sitemap, "lastmod")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for item in page.object_list:
        lastmod = f"<lastmod>{sitemap.lastmod(item).isoformat()}</lastmod>" if dated else ""
        urls = [(language, xml_escape(base + path)) for language, path in sitemap.locations(item)]
        # Every version names all versions, itself included, and the default language's
        # as x-default (as the pages' own hreflang links do).
        alternates = "".join(
            f'<xhtml:link rel="alternate" hreflang="{language}" href="{url}"/>' for language, url in urls
        )
        alternates += f'<xhtml:link rel="alternate" hreflang="x-default" href="{urls[0][1]}"/>'
        lines += [f"<url><loc>{url}</loc>{lastmod}{alternates}</url>" for _language, url in urls]
    lines.append("</urlset>\n")
    response = HttpResponse("\n".join(lines), content_type="application/xml")
    response["X-Robots-Tag"] = _ROBOTS_HEADER
    return response


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
