from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

admin.site.site_header = "Arkiv staff"
admin.site.site_title = "Arkiv staff"
admin.site.index_title = "Shop administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("orders.urls")),
    path("", include("privacy.urls")),
    path("", include("catalog.urls")),
]

if settings.MAILGUN_WEBHOOK_SIGNING_KEY:
    # Only Mailgun's inbound route: anymail.urls would also open every other provider's
    # webhooks, which answer any request with a 500 while they are not configured.
    from anymail.webhooks.mailgun import MailgunInboundWebhookView

    urlpatterns.append(
        re_path(r"^inbound/mailgun/inbound(_mime)?/$", MailgunInboundWebhookView.as_view(), name="mailgun_inbound")
    )
