from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from accounts.forms import StaffAdminLoginForm

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
    urlpatterns.append(path("inbound/", include("anymail.urls")))
