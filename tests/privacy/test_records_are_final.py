"""Records that are promises stay as written below the admin: a published policy
version, the consent log and age statements refuse changes in the model, in bulk, and
in the database itself; only erasure's pseudonymisation may touch them."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from privacy import services
from privacy.models import (
    ERASED_MARK,
    AgeDeclaration,
    ConsentEvent,
    PolicyDocument,
    Purpose,
    RecordIsFinal,
    Source,
    email_hash,
)

pytestmark = pytest.mark.django_db


def sql(statement, params=()):
    """Run SQL as a tool that bypasses the models would; returns rows changed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def event(**overrides):
    values = {
        "email": "clara@example.com",
        "purpose": Purpose.POSTAL,
        "action": "withdrawn",
        "source": Source.SERVICE_EMAIL,
        "wording": "No more catalogues, Clara Schumann",
    }
    return services.consent_record(**{**values, **overrides})


def minor_statement():
    services.checkout_record(
        order_number="AK-MINOR001",
        email="clara@example.com",
        statement=services.CheckoutStatement(
            is_adult=False, guardian_name="Friedrich Wieck", guardian_email="friedrich@example.com"
        ),
    )
    return AgeDeclaration.objects.get()


def test_a_published_policy_refuses_save_update_and_delete():
    policy = services.current_policy()
    policy.body = "Rewritten after the fact."
    with pytest.raises(RecordIsFinal):
        policy.save()
    with pytest.raises(RecordIsFinal):
        PolicyDocument.objects.filter(pk=policy.pk).update(body="Rewritten")
    with pytest.raises(RecordIsFinal):
        PolicyDocument.objects.filter(pk=policy.pk).delete()
    with pytest.raises(RecordIsFinal):
        policy.delete()
    policy.refresh_from_db()
    assert "Rewritten" not in policy.body
    # A draft is still work in progress until it is published.
    draft = PolicyDocument.objects.create(
        kind="privacy", version=99, title="Draft", body="Draft text", effective_date="2030-01-01"
    )
    draft.body = "Better draft text"
    draft.save()
    services.policy_publish(draft)
    assert PolicyDocument.objects.get(pk=draft.pk).is_published


def test_the_database_refuses_to_change_a_published_policy():
    policy = services.current_policy()
    with pytest.raises(IntegrityError):
        sql("UPDATE privacy_policydocument SET body = %s WHERE id = %s", ["Rewritten", policy.pk])
    policy.refresh_from_db()
    assert "Rewritten" not in policy.body


def test_the_consent_log_refuses_changes_in_the_model_and_in_bulk():
    entry = event()
    with pytest.raises(RecordIsFinal):
        entry.save()
    with pytest.raises(RecordIsFinal):
        ConsentEvent.objects.filter(pk=entry.pk).update(action="granted")
    with pytest.raises(RecordIsFinal):
        ConsentEvent.objects.filter(pk=entry.pk).delete()
    with pytest.raises(RecordIsFinal):
        ConsentEvent.objects.filter(pk=entry.pk).pseudonymise(action="granted")


@pytest.mark.parametrize(
    "change",
    [
        ("action = %s", "granted"),
        ("wording = %s", "Yes, send me everything"),
        ("email = %s", "someone-else@example.com"),
        ("source = %s", "account"),
    ],
)
def test_the_database_refuses_to_rewrite_a_consent_log_entry(change):
    entry = event()
    with pytest.raises(IntegrityError):
        sql(f"UPDATE privacy_consentevent SET {change[0]} WHERE id = %s", [change[1], entry.pk])
    assert ConsentEvent.objects.get(pk=entry.pk).action == "withdrawn"


def test_the_database_lets_erasure_pseudonymise_a_consent_log_entry_and_nothing_more():
    entry = event()
    hashed = email_hash("clara@example.com")
    assert sql(
        "UPDATE privacy_consentevent SET email = %s, user_id = NULL, wording = '' WHERE id = %s", [hashed, entry.pk]
    )
    with pytest.raises(IntegrityError):  # the hash cannot be swapped for another address later
        sql("UPDATE privacy_consentevent SET email = %s WHERE id = %s", ["other@example.com", entry.pk])
    stored = ConsentEvent.objects.get(pk=entry.pk)
    assert (stored.email, stored.wording, stored.action) == (hashed, "", "withdrawn")


def test_an_age_statement_refuses_changes_except_erasure():
    statement = minor_statement()
    statement.is_adult = True
    with pytest.raises(RecordIsFinal):
        statement.save()
    with pytest.raises(RecordIsFinal):
        AgeDeclaration.objects.update(is_adult=True)
    with pytest.raises(IntegrityError):
        sql("UPDATE privacy_agedeclaration SET is_adult = %s WHERE id = %s", [True, statement.pk])
    with pytest.raises(IntegrityError):
        sql("UPDATE privacy_agedeclaration SET guardian_name = %s WHERE id = %s", ["Someone Else", statement.pk])
    AgeDeclaration.objects.filter(pk=statement.pk).pseudonymise(
        email=email_hash("clara@example.com"), guardian_name=ERASED_MARK, guardian_email=ERASED_MARK
    )
    stored = AgeDeclaration.objects.get(pk=statement.pk)
    assert not stored.is_adult and stored.guardian_name == ERASED_MARK and stored.order_number == "AK-MINOR001"


def test_postgresql_refuses_deleting_promises_too(postgres):
    entry = event()
    statement = minor_statement()
    policy = services.current_policy()
    for table, pk in [
        ("privacy_consentevent", entry.pk),
        ("privacy_agedeclaration", statement.pk),
        ("privacy_policydocument", policy.pk),
    ]:
        with pytest.raises(IntegrityError):
            sql(f"DELETE FROM {table} WHERE id = %s", [pk])
    assert ConsentEvent.objects.filter(pk=entry.pk).exists()


def test_a_staff_member_who_recorded_consent_stays_on_record(django_user_model):
    staff = django_user_model.objects.create_user(email="officer@arkiv.example", password="x" * 12, is_staff=True)
    entry = event(source=Source.STAFF, by=staff)
    with pytest.raises(ProtectedError):
        staff.delete()
    assert ConsentEvent.objects.get(pk=entry.pk).by == staff
