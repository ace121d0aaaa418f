from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.decorators import method_decorator
from django_otp.admin import OTPAdminSite

from accounts.forms import StaffAdminLoginForm
from arkiv import health
from arkiv.limits import limited
from catalog import feeds, sitemaps
from catalog.caching import cached_page
from privacy.inbound import ServiceMailInboundView


class StaffAdminSite(OTPAdminSite):
    # The admin's login checks passwords of every account, like the shop's sign-in page:
    # the same ceiling on attempts from one address must cover both.
    @method_decorator(limited("sign_in"))
    def login(self, request, extra_context=None):
        return super().login(request, extra_context)


# Staff sign in to the admin with a password and a TOTP code (enrol with
# `manage.py enrol_staff_totp EMAIL`); a session without a verified device gets the login.
admin.site.__class__ = StaffAdminSite
admin.site.login_form = StaffAdminLoginForm
admin.site.site_header = "Arkiv staff"
admin.site.site_title = "Arkiv staff"
admin.site.index_title = "Shop administration"

urlpatterns = [
    # Probes for load balancers: outside any language prefix, session or rate limit.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # Discovery: what crawlers and feed readers fetch (catalog/sitemaps.py, catalog/feeds.py).
    path("robots.txt", sitemaps.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name="sitemap_section"),
    path("releases/new.atom", cached_page(feeds.NewReleasesFeed()), name="feed_new_releases"),
    path("composers/<slug:slug>/new-releases.atom", cached_page(feeds.ComposerReleasesFeed()), name="feed_composer"),
    # The shop's pages in each language: English at the root, German under /de/.
    *i18n_patterns(
        path("", include("accounts.urls")),
        path("", include("orders.urls")),
        path("", include("privacy.urls")),
        path("", include("catalog.urls")),
        prefix_default_language=False,
    ),
]

if settings.MAILGUN_WEBHOOK_SIGNING_KEY:
    # Only the inbound route to service@: no other provider's webhooks are exposed.
    urlpatterns.append(
        re_path(r"^inbound/mailgun/inbound(_mime)?/$", ServiceMailInboundView.as_view(), name="mailgun_inbound_webhook")
    )
