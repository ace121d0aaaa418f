from django.conf import settings
from django.contrib import admin
from django.urls import include, path

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
    urlpatterns.append(path("inbound/", include("anymail.urls")))
