from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.utils.translation import gettext_lazy

from arkiv.limits import limited, post_email_key

from . import views
from .forms import AccountPasswordResetForm

app_name = "accounts"

urlpatterns = [
    path("account/", views.overview, name="overview"),
    path("account/sign-up/", views.sign_up, name="sign_up"),
    path("account/sign-in/", views.SignInView.as_view(), name="sign_in"),
    path("account/sign-out/", views.sign_out, name="sign_out"),
    path("account/sign-up/sent/", views.sign_up_sent, name="sign_up_sent"),
    path("account/verify/<str:uidb64>/<str:token>/", views.verify_email, name="verify"),
    path("account/verify/<str:token>/", views.old_verify_link),
    path("account/verify-again/", views.resend_verification, name="resend_verification"),
    path("account/email/", views.change_email, name="change_email"),
    path("account/name/", views.change_name, name="change_name"),
    path("account/language/", views.change_language, name="change_language"),
    path("account/password/", views.password_change, name="change_password"),
    path("account/addresses/new/", views.address_edit, name="address_new"),
    path("account/addresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("account/addresses/<int:pk>/delete/", views.address_delete, name="address_delete"),
    path(
        "account/password-reset/",
        limited("password_reset")(
            limited("password_reset", key=post_email_key)(
                auth_views.PasswordResetView.as_view(
                    template_name="accounts/password_reset.html",
                    form_class=AccountPasswordResetForm,
                    email_template_name="accounts/email/password_reset.txt",
                    subject_template_name="accounts/email/password_reset_subject.txt",
                    success_url=reverse_lazy("accounts:password_reset_done"),
                    # The link is built from ARKIV_SITE_URL, never from the request's Host.
                    extra_email_context={"site_url": settings.ARKIV_SITE_URL.rstrip("/")},
                )
            )
        ),
        name="password_reset",
    ),
    path(
        "account/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "account/password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(
            template_name="accounts/form_page.html",
            success_url=reverse_lazy("accounts:sign_in"),
            extra_context={"title": gettext_lazy("Choose a new password")},
        ),
        name="password_reset_confirm",
    ),
]
