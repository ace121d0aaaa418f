"""SQLite only: FTS5 full-text indexes for catalog search, the counterpart of the GIN
indexes 0002 creates on PostgreSQL. On PostgreSQL this migration does nothing.

Each index is an external-content FTS5 table over a table's folded `search_text`
(`word` for the vocabulary), filled from the rows already there and kept in step by
triggers, so every writer (staff edits, the Open Opus import, the demo loader's bulk
inserts) updates it without knowing it exists.

The vocabulary gets a trigram index instead: that is what shortlists "did you mean"
candidates for a misspelt word. It indexes each word padded the way pg_trgm pads it
(two spaces before, one after), so that "flte" meets "flute" through the trigrams of
its start and end as it does on PostgreSQL. The padded text is not stored anywhere,
so that table is contentless and its triggers delete by the padded old value."""

from django.db import migrations

# (FTS table, content table, indexed column, FTS5 options)
FTS_TABLES = [
    ("catalog_work_fts", "catalog_work", "search_text", "tokenize='unicode61', prefix='2 3'"),
    ("catalog_release_fts", "catalog_release", "search_text", "tokenize='unicode61', prefix='2 3'"),
    ("catalog_composer_fts", "catalog_composer", "search_text", "tokenize='unicode61', prefix='2 3'"),
    ("catalog_artist_fts", "catalog_artist", "search_text", "tokenize='unicode61', prefix='2 3'"),
]
VOCABULARY = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_searchterm_fts USING fts5(padded, content='', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchterm_fts_insert AFTER INSERT ON catalog_searchterm BEGIN "
    "INSERT INTO catalog_searchterm_fts(rowid, padded) VALUES (new.id, '  ' || new.word || ' '); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchterm_fts_delete AFTER DELETE ON catalog_searchterm BEGIN "
    "INSERT INTO catalog_searchterm_fts(catalog_searchterm_fts, rowid, padded) "
    "VALUES ('delete', old.id, '  ' || old.word || ' '); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_searchterm_fts_update AFTER UPDATE OF word ON catalog_searchterm BEGIN "
    "INSERT INTO catalog_searchterm_fts(catalog_searchterm_fts, rowid, padded) "
    "VALUES ('delete', old.id, '  ' || old.word || ' '); "
    "INSERT INTO catalog_searchterm_fts(rowid, padded) VALUES (new.id, '  ' || new.word || ' '); END",
    "INSERT INTO catalog_searchterm_fts(rowid, padded) SELECT id, '  ' || word || ' ' FROM catalog_searchterm",
]


def statements(fts, table, column, options):
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
        f"{column}, content='{table}', content_rowid='id', {options})",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {column} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for spec in FTS_TABLES:
            for statement in statements(*spec):
                schema_editor.execute(statement)
        for statement in VOCABULARY:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for fts in [*(spec[0] for spec in FTS_TABLES), "catalog_searchterm_fts"]:
            for suffix in ("insert", "delete", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_release_list_indexes")]

    operations = [migrations.RunPython(forward, backward)]
