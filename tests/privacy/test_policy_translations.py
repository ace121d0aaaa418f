"""Each policy version has its translations: the page shows the version in the page's
language (the English text with a note where a translation is missing), staff write a
draft's translations in the admin, and publishing makes them as final as the version."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from privacy import services
from privacy.models import PolicyDocument, PolicyTranslation, RecordIsFinal
from tests.conftest import staff_login

pytestmark = pytest.mark.django_db


def sql(statement, params=()):
    """Run SQL as a tool that bypasses the models would."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def draft(version=2, **fields):
    values = {"title": "Privacy policy", "body": "We changed one thing.", "effective_date": timezone.localdate()}
    return PolicyDocument.objects.create(kind="privacy", version=version, **{**values, **fields})


@pytest.mark.parametrize(
    ("path", "title", "words"),
    [
        ("/de/privacy/", "Datenschutzerklärung", "Partner erhalten nie Ihren Namen oder Ihre Adresse"),
        ("/de/terms/", "Allgemeine Geschäftsbedingungen", "innerhalb von 14 Tagen nach der Lieferung"),
    ],
)
def test_the_policies_in_force_read_in_german_on_german_pages(client, path, title, words):
    page = client.get(path).content.decode()

    assert f"<h1>{title}</h1>" in page
    assert words in page
    assert "Fassung 1, gültig ab 1. November 2026" in page
    assert "policy-untranslated" not in page


def test_the_english_pages_keep_the_english_text(client):
    page = client.get("/privacy/").content.decode()

    assert "<h1>Privacy policy</h1>" in page
    assert "partners never receive your name or address" in page
    assert "Version 1, effective 1 November 2026" in page


def test_a_version_without_a_german_text_shows_the_english_one_and_says_so(client):
    services.policy_publish(draft(body="Version two, in English only."))

    page = client.get("/de/privacy/").content.decode()

    assert "Version two, in English only." in page
    assert "Diese Fassung ist noch nicht in Ihre Sprache übersetzt" in page
    assert '<div class="policy-body" lang="en-gb">' in page
    # The archive still offers the German text of the earlier version.
    older = client.get("/de/policies/privacy/v1/").content.decode()
    assert "Datenschutzerklärung" in older and "eine frühere Fassung" in older


def test_a_draft_s_translation_can_be_written_and_corrected_until_publication():
    document = draft()
    german = PolicyTranslation.objects.create(document=document, language="de", title="Datenschutz", body="Entwurf")
    german.body = "Besserer Entwurf"
    german.save()

    services.policy_publish(document)

    assert document.in_language("de") == ("Datenschutz", "Besserer Entwurf", "de")


def test_publishing_makes_the_translations_final_in_the_model_and_in_bulk():
    document = draft()
    german = PolicyTranslation.objects.create(document=document, language="de", title="Datenschutz", body="Text")
    services.policy_publish(document)

    german.body = "Nachträglich umgeschrieben"
    with pytest.raises(RecordIsFinal):
        german.save()
    with pytest.raises(RecordIsFinal):
        german.delete()
    with pytest.raises(RecordIsFinal):
        PolicyTranslation.objects.filter(pk=german.pk).update(body="Umgeschrieben")
    with pytest.raises(RecordIsFinal):
        PolicyTranslation.objects.filter(pk=german.pk).delete()
    german.refresh_from_db()
    assert german.body == "Text"


def draft_published():
    document = draft(version=3)
    services.policy_publish(document)
    return document


def test_no_translation_can_be_added_to_a_published_version_afterwards():
    late = draft_published()

    with pytest.raises(RecordIsFinal):
        PolicyTranslation.objects.create(document=late, language="de", title="Spät", body="Zu spät")
    assert late.in_language("de") == ("Privacy policy", "We changed one thing.", "en-gb")


def test_the_database_refuses_to_change_or_add_a_published_version_s_translation():
    german = PolicyTranslation.objects.get(document=services.current_policy(), language="de")
    with pytest.raises(IntegrityError):
        sql("UPDATE privacy_policytranslation SET body = %s WHERE id = %s", ["Umgeschrieben", german.pk])
    late = draft_published()
    with pytest.raises(IntegrityError):
        sql(
            "INSERT INTO privacy_policytranslation (document_id, language, title, body) VALUES (%s, 'de', 'x', 'y')",
            [late.pk],
        )
    german.refresh_from_db()
    assert "Umgeschrieben" not in german.body
    assert not PolicyTranslation.objects.filter(document=late).exists()


def test_postgresql_refuses_deleting_a_published_version_s_translation(postgres):
    german = PolicyTranslation.objects.get(document=services.current_policy(), language="de")
    with pytest.raises(IntegrityError):
        sql("DELETE FROM privacy_policytranslation WHERE id = %s", [german.pk])
    assert PolicyTranslation.objects.filter(pk=german.pk).exists()


def test_staff_add_the_german_text_of_a_draft_in_the_admin_and_cannot_touch_it_once_published(
    client, django_user_model
):
    officer = django_user_model.objects.create_superuser(email="officer@arkiv.example", password="x" * 16)
    staff_login(client, officer)
    document = draft(effective_date=datetime.date(2030, 1, 1))
    url = f"/admin/privacy/policydocument/{document.pk}/change/"
    form = {
        "kind": "privacy",
        "version": "2",
        "title": "Privacy policy",
        "body": "We changed one thing.",
        "effective_date": "2030-01-01",
        "translations-TOTAL_FORMS": "1",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "1000",
        "translations-0-language": "de",
        "translations-0-title": "Datenschutzerklärung",
        "translations-0-body": "Wir haben eine Sache geändert.",
    }

    response = client.post(url, form)

    assert response.status_code == 302
    assert document.in_language("de") == ("Datenschutzerklärung", "Wir haben eine Sache geändert.", "de")
    services.policy_publish(document)
    page = client.get(url).content.decode()
    assert "Wir haben eine Sache geändert." in page
    assert 'name="translations-0-body"' not in page


def test_the_privacy_officer_may_write_a_draft_s_translations():
    from django.contrib.auth.models import Group

    officer = Group.objects.get(name="Privacy officer")
    granted = set(officer.permissions.values_list("codename", flat=True))

    assert {"add_policytranslation", "change_policytranslation", "view_policytranslation"} <= granted
