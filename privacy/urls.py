from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.policy, name="policy"),
    path("terms/", views.terms, name="terms"),
    path("policies/<slug:kind>/v<int:version>/", views.policy_version, name="policy_version"),
    path("contact/", views.contact, name="contact"),
    path("cookies/", views.cookies, name="cookies"),
    path("offers/confirm/<str:token>/", views.confirm_optin, name="confirm_optin"),
    path("offers/preferences/<str:token>/", views.preferences, name="preferences"),
    path("offers/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("alerts/new/", views.alert_subscribe, name="alert_subscribe"),
    path("alerts/confirm/<str:token>/", views.confirm_alerts, name="confirm_alerts"),
    path("alerts/unsubscribe/<str:token>/", views.alerts_unsubscribe, name="alerts_unsubscribe"),
    path("account/alerts/", views.account_alerts, name="account_alerts"),
    path("account/alerts/<int:alert_id>/remove/", views.account_alert_remove, name="account_alert_remove"),
    path("account/privacy/", views.account_privacy, name="account"),
    path("account/privacy/my-data.json", views.download_data, name="download_data"),
    path("account/privacy/delete/", views.delete_account, name="delete_account"),
]
