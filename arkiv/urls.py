from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django_otp.admin import OTPAdminSite

from accounts.forms import StaffAdminLoginForm
from privacy.inbound import ServiceMailInboundView

# Staff sign in to the admin with a password and a TOTP code (enrol with
# `manage.py enrol_staff_totp EMAIL`); a session without a verified device gets the login.
admin.site.__class__ = OTPAdminSite
admin.site.login_form = StaffAdminLoginForm
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
    # Only the inbound route to service@: no other provider's webhooks are exposed.
    urlpatterns.append(
        re_path(r"^inbound/mailgun/inbound(_mime)?/$", ServiceMailInboundView.as_view(), name="mailgun_inbound_webhook")
    )
