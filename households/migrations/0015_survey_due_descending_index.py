from django.db import migrations

# The list sorted by 下次入户调查 puts files without a date last in both directions
# (households.filters). PostgreSQL walks the (next_survey_due, id) index forwards for the
# ascending order (NULLS LAST is its default); the descending order with NULLS LAST needs an
# index of its own. SQLite, for a county's own database, sorts without one.
INDEX = "household_sort_survey_due_desc"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON households_household "
            "(next_survey_due DESC NULLS LAST, id DESC)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("households", "0014_withdrawn_drafts")]

    operations = [migrations.RunPython(create, drop)]
