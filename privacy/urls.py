from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.policy, name="policy"),
    path("terms/", views.terms, name="terms"),
    path("contact/", views.contact, name="contact"),
]
