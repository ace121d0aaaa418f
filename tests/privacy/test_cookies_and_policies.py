"""P7: only the session and CSRF cookies, secure in production; P9: versioned policies
linked from every page."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from privacy.models import PolicyDocument
from privacy.services import current_policy, policy_publish
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/composers/",
    "/composers/beethoven/",
    "/composers/period/baroque/",
    "/genres/orchestral/",
    "/artists/",
    "/labels/",
    "/releases/",
    "/search/?q=bach",
    "/privacy/",
    "/terms/",
    "/contact/",
    "/cookies/",
    "/cart/",
    "/wishlist/",
    "/account/sign-in/",
    "/account/sign-up/",
    "/account/password-reset/",
]


def walk(client):
    offer = OfferFactory(stock=5)
    seen = {}
    for url in [*PUBLIC_PAGES, offer.release.get_absolute_url(), offer.release.get_cover_url()]:
        response = client.get(url)
        assert response.status_code == 200, url
        seen.update(response.cookies)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    response = client.get("/checkout/")
    seen.update(response.cookies)
    seen.update(client.cookies)
    return seen


def test_only_session_and_csrf_cookies_anywhere(client):
    cookies = walk(client)
    assert set(cookies) == {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}


def test_cookies_are_secure_httponly_and_samesite_in_production(client, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True  # what SECURE_HTTPS (default) sets
    cookies = walk(client)
    for name, morsel in cookies.items():
        assert morsel["secure"], name
        assert morsel["httponly"], name
        assert morsel["samesite"] == "Lax", name


def test_every_page_links_the_current_policy_in_its_footer(client):
    for url in PUBLIC_PAGES:
        assert f'href="{reverse("privacy:policy")}"' in client.get(url).content.decode(), url


def test_policy_page_shows_the_version_in_force_and_keeps_old_ones():
    first = current_policy()
    assert first.version == 1 and "under 18" in first.body and "feedback@" in first.body


def test_a_new_version_takes_over_on_its_date_and_old_versions_stay_readable(client):
    today = datetime.date.today()
    second = PolicyDocument.objects.create(
        kind="privacy", version=2, title="Privacy policy", body="Second version.", effective_date=today
    )
    assert current_policy().version == 1  # a draft is not in force
    policy_publish(second)
    body = client.get("/privacy/").content.decode()
    assert "Version 2, effective" in body and "Second version." in body
    old = client.get("/policies/privacy/v1/").content.decode()
    assert "an earlier version" in old and "Version 1" in old
    with pytest.raises(ValueError, match="already published"):
        policy_publish(second)


def test_published_versions_are_read_only_in_the_admin(admin_client):
    policy = current_policy()
    page = admin_client.get(f"/admin/privacy/policydocument/{policy.pk}/change/").content.decode()
    assert 'name="body"' not in page
    admin_client.post(f"/admin/privacy/policydocument/{policy.pk}/change/", {"body": "Rewritten"})
    policy.refresh_from_db()
    assert "Rewritten" not in policy.body
    assert admin_client.post(f"/admin/privacy/policydocument/{policy.pk}/delete/", {"post": "yes"}).status_code == 403


def test_questions_from_the_contact_page_go_to_feedback(client):
    from django.core import mail

    response = client.post(
        "/contact/",
        {"name": "Clara", "email": "clara@example.com", "message": "Which policy version did I agree to?"},
        follow=True,
    )
    assert "We have your message" in response.content.decode()
    assert mail.outbox[-1].to == ["feedback@arkiv.example"] and mail.outbox[-1].reply_to == ["clara@example.com"]
    bad = client.post("/contact/", {"name": "", "email": "not-an-email", "message": ""})
    assert bad.status_code == 200 and "Enter a valid email address." in bad.content.decode()
