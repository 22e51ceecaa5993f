"""The ledger is append-only in the database too: UPDATE is refused on every backend, DELETE on
PostgreSQL (SQLite's test flush deletes rows; PostgreSQL's truncates and fires no trigger)."""

from django.db import migrations

POSTGRES_UP = [
    """CREATE FUNCTION funds_ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'funds_ledgerentry is append-only: write a reversing entry';
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER funds_ledger_append_only BEFORE UPDATE OR DELETE ON funds_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_append_only()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS funds_ledger_append_only ON funds_ledgerentry",
    "DROP FUNCTION IF EXISTS funds_ledger_append_only()",
]
SQLITE_UP = [
    """CREATE TRIGGER funds_ledger_append_only BEFORE UPDATE ON funds_ledgerentry
    BEGIN
        SELECT RAISE(ABORT, 'funds_ledgerentry is append-only: write a reversing entry');
    END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS funds_ledger_append_only"]
STATEMENTS = {
    "postgresql": (POSTGRES_UP, POSTGRES_DOWN),
    "sqlite": (SQLITE_UP, SQLITE_DOWN),
}


def forwards(apps, schema_editor):
    up, _down = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in up:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    _up, down = STATEMENTS.get(schema_editor.connection.vendor, ([], []))
    for statement in down:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("funds", "0002_reference_data")]
    operations = [migrations.RunPython(forwards, backwards)]
