"""A published policy version's translations are as final as the version itself: the
database refuses to add, change or remove the text of a version once it is published
(deletes on SQLite are refused by the model, as in 0007_records_are_final)."""

import importlib

from django.db import migrations

VendorSQL = importlib.import_module("privacy.migrations.0007_records_are_final").VendorSQL

PUBLISHED = "(SELECT published_at FROM privacy_policydocument WHERE id = {row}.document_id) IS NOT NULL"

SQLITE = [
    f"""CREATE TRIGGER privacy_policytranslation_insert_final BEFORE INSERT ON privacy_policytranslation
    WHEN {PUBLISHED.format(row="NEW")}
    BEGIN SELECT RAISE(ABORT, 'A published policy version never changes.'); END""",
    f"""CREATE TRIGGER privacy_policytranslation_update_final BEFORE UPDATE ON privacy_policytranslation
    WHEN {PUBLISHED.format(row="OLD")} OR {PUBLISHED.format(row="NEW")}
    BEGIN SELECT RAISE(ABORT, 'A published policy version never changes.'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS privacy_policytranslation_insert_final",
    "DROP TRIGGER IF EXISTS privacy_policytranslation_update_final",
]

POSTGRESQL = [
    f"""CREATE FUNCTION privacy_policytranslation_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (TG_OP <> 'INSERT' AND {PUBLISHED.format(row="OLD")})
           OR (TG_OP <> 'DELETE' AND {PUBLISHED.format(row="NEW")}) THEN
            RAISE EXCEPTION 'A published policy version never changes.'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER privacy_policytranslation_final BEFORE INSERT OR UPDATE OR DELETE
    ON privacy_policytranslation FOR EACH ROW EXECUTE FUNCTION privacy_policytranslation_final()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS privacy_policytranslation_final ON privacy_policytranslation",
    "DROP FUNCTION IF EXISTS privacy_policytranslation_final()",
]


class Migration(migrations.Migration):
    dependencies = [("privacy", "0011_german_policies")]

    operations = [
        VendorSQL("sqlite", SQLITE, SQLITE_REVERSE),
        VendorSQL("postgresql", POSTGRESQL, POSTGRESQL_REVERSE),
    ]
