"""Records that are promises stay as written, below the application too: the database
refuses to change a published policy version, a consent log entry or an age statement.
The one exception is erasure's pseudonymisation (the address becomes its SHA-256 hash,
the account link becomes NULL, words the customer wrote and a guardian's details are
blanked), spelled out field by field in each trigger.

SQLite: the triggers refuse updates; deletes are refused by the models (SQLite's
flush deletes row by row, so a delete trigger would make an empty database
impossible to reach). PostgreSQL: the triggers refuse updates and deletes."""

from django.db import migrations

from arkiv.migration_ops import VendorSQL

ERASED = "[erased]"  # privacy.models.ERASED_MARK

SQLITE_HASH = "(length(NEW.email) = 64 AND NEW.email NOT GLOB '*[^0-9a-f]*')"
PG_HASH = "NEW.email ~ '^[0-9a-f]{64}$'"

CONSENT_UNCHANGED = """
    NEW.id = OLD.id AND NEW.purpose = OLD.purpose AND NEW.action = OLD.action AND NEW.source = OLD.source
    AND NEW.policy_version {same} OLD.policy_version AND NEW.reference = OLD.reference AND NEW.at = OLD.at
    AND NEW.by_id {same} OLD.by_id
    AND (NEW.email = OLD.email OR {hash})
    AND (NEW.user_id {same} OLD.user_id OR NEW.user_id IS NULL)
    AND (NEW.wording = OLD.wording OR NEW.wording = '')
"""
AGE_UNCHANGED = """
    NEW.id = OLD.id AND NEW.order_number = OLD.order_number AND NEW.is_adult = OLD.is_adult
    AND NEW.statement = OLD.statement AND NEW.wording_version = OLD.wording_version
    AND NEW.policy_version {same} OLD.policy_version AND NEW.declared_at = OLD.declared_at
    AND (NEW.email = OLD.email OR {hash})
    AND (NEW.guardian_name = OLD.guardian_name OR NEW.guardian_name IN ('', '{erased}'))
    AND (NEW.guardian_email = OLD.guardian_email OR NEW.guardian_email IN ('', '{erased}'))
"""

SQLITE = [
    """CREATE TRIGGER privacy_policy_published_final BEFORE UPDATE ON privacy_policydocument
    WHEN OLD.published_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'A published policy version never changes.'); END""",
    f"""CREATE TRIGGER privacy_consentevent_final BEFORE UPDATE ON privacy_consentevent
    WHEN NOT ({CONSENT_UNCHANGED.format(same="IS", hash=SQLITE_HASH)})
    BEGIN SELECT RAISE(ABORT, 'The consent log is append-only.'); END""",
    f"""CREATE TRIGGER privacy_agedeclaration_final BEFORE UPDATE ON privacy_agedeclaration
    WHEN NOT ({AGE_UNCHANGED.format(same="IS", hash=SQLITE_HASH, erased=ERASED)})
    BEGIN SELECT RAISE(ABORT, 'An age statement is kept as it was made.'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS privacy_policy_published_final",
    "DROP TRIGGER IF EXISTS privacy_consentevent_final",
    "DROP TRIGGER IF EXISTS privacy_agedeclaration_final",
]

PG_REFUSE = "RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"
POSTGRESQL = [
    f"""CREATE FUNCTION privacy_policy_published_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.published_at IS NOT NULL THEN
            {PG_REFUSE.format(message="A published policy version never changes.")}
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER privacy_policy_published_final BEFORE UPDATE OR DELETE ON privacy_policydocument
    FOR EACH ROW EXECUTE FUNCTION privacy_policy_published_final()""",
    f"""CREATE FUNCTION privacy_consentevent_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND ({CONSENT_UNCHANGED.format(same="IS NOT DISTINCT FROM", hash=PG_HASH)}) THEN
            RETURN NEW;
        END IF;
        {PG_REFUSE.format(message="The consent log is append-only.")}
    END $$""",
    """CREATE TRIGGER privacy_consentevent_final BEFORE UPDATE OR DELETE ON privacy_consentevent
    FOR EACH ROW EXECUTE FUNCTION privacy_consentevent_final()""",
    f"""CREATE FUNCTION privacy_agedeclaration_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND ({
        AGE_UNCHANGED.format(same="IS NOT DISTINCT FROM", hash=PG_HASH, erased=ERASED)
    }) THEN
            RETURN NEW;
        END IF;
        {PG_REFUSE.format(message="An age statement is kept as it was made.")}
    END $$""",
    """CREATE TRIGGER privacy_agedeclaration_final BEFORE UPDATE OR DELETE ON privacy_agedeclaration
    FOR EACH ROW EXECUTE FUNCTION privacy_agedeclaration_final()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS privacy_policy_published_final ON privacy_policydocument",
    "DROP FUNCTION IF EXISTS privacy_policy_published_final()",
    "DROP TRIGGER IF EXISTS privacy_consentevent_final ON privacy_consentevent",
    "DROP FUNCTION IF EXISTS privacy_consentevent_final()",
    "DROP TRIGGER IF EXISTS privacy_agedeclaration_final ON privacy_agedeclaration",
    "DROP FUNCTION IF EXISTS privacy_agedeclaration_final()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0006_link_keys_and_account_sessions"),
    ]

    operations = [
        VendorSQL("sqlite", SQLITE, SQLITE_REVERSE),
        VendorSQL("postgresql", POSTGRESQL, POSTGRESQL_REVERSE),
    ]
