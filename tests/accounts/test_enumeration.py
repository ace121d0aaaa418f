"""Nobody can find out whether an address has an account: sign-up, email change and
password reset answer the same either way, and the owner of a taken address is told
by email instead."""

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import PASSWORD, sign_up, without_csrf

pytestmark = pytest.mark.django_db


def answer(response):
    """What a visitor can see of a form's answer: status, where it leads, the page there."""
    final = response.redirect_chain[-1][0] if response.redirect_chain else None
    return response.redirect_chain[:1], final, response.status_code, without_csrf(response.content.decode())


def post_followed(client, capture, url, data):
    with capture(execute=True):
        return client.post(url, data, follow=True)


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(django_capture_on_commit_callbacks):
    owner = User.objects.create_user(email="clara@example.com", password=PASSWORD, full_name="Clara Schumann")
    data = {"password1": "another-long-passphrase", "password2": "another-long-passphrase"}
    taken = post_followed(
        Client(), django_capture_on_commit_callbacks, "/account/sign-up/", {**data, "email": "CLARA@example.com"}
    )
    free = post_followed(
        Client(), django_capture_on_commit_callbacks, "/account/sign-up/", {**data, "email": "robert@example.com"}
    )
    assert answer(taken) == answer(free)
    assert "Check your inbox" in free.content.decode()

    assert User.objects.filter(email__iexact="clara@example.com").get() == owner
    assert User.objects.get(pk=owner.pk).check_password(PASSWORD)  # the owner's account is untouched
    to_owner = [m for m in mail.outbox if m.to == ["clara@example.com"]]
    assert len(to_owner) == 1
    assert "Someone tried to create an Arkiv account with this email address" in to_owner[0].body
    assert "/account/password-reset/" in to_owner[0].body and "/account/verify/" not in to_owner[0].body
    assert "/account/verify/" in [m for m in mail.outbox if m.to == ["robert@example.com"]][0].body


def test_sign_up_with_a_taken_address_asks_for_no_offers_confirmation(client, django_capture_on_commit_callbacks):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com", promo_email="on")
    assert [m.subject for m in mail.outbox] == ["Someone used your email address at Arkiv"]


def test_email_change_answers_the_same_whether_or_not_the_address_has_an_account(
    django_capture_on_commit_callbacks,
):
    User.objects.create_user(email="robert@example.com", password=PASSWORD)
    answers = []
    for email, wanted in [("clara@example.com", "robert@example.com"), ("johannes@example.com", "nobody@example.com")]:
        client = Client()
        client.force_login(User.objects.create_user(email=email, password=PASSWORD))
        response = post_followed(
            client, django_capture_on_commit_callbacks, "/account/email/", {"email": wanted, "password": PASSWORD}
        )
        page = answer(response)
        answers.append((*page[:3], page[3].replace(wanted, "NEW").replace(email, "ME")))
    assert answers[0] == answers[1]
    assert "Your address changes when you follow it" in answers[0][3]

    assert User.objects.get(email="robert@example.com").check_password(PASSWORD)
    assert User.objects.filter(email="clara@example.com").exists()
    to_robert = [m for m in mail.outbox if m.to == ["robert@example.com"]]
    assert len(to_robert) == 1 and "Someone tried to move another Arkiv account" in to_robert[0].body
    assert "/account/verify/" not in to_robert[0].body
    assert "/account/verify/" in [m for m in mail.outbox if m.to == ["nobody@example.com"]][0].body


def test_password_reset_answers_the_same_whether_or_not_the_address_has_an_account(
    django_capture_on_commit_callbacks,
):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    known = post_followed(
        Client(), django_capture_on_commit_callbacks, "/account/password-reset/", {"email": "clara@example.com"}
    )
    unknown = post_followed(
        Client(), django_capture_on_commit_callbacks, "/account/password-reset/", {"email": "nobody@example.com"}
    )
    assert answer(known) == answer(unknown)
    assert [m.to for m in mail.outbox] == [["clara@example.com"]]
