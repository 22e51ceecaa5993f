"""The exit list (符合脱困条件) as a date on the file: `Household.above_line_since`, the first
survey of the unbroken run above the dibao line up to the latest survey of the current filing
period. The list filtered every supported file by two aggregates over its surveys; it now
compares this column, through a partial index of the supported files that have a run.

The backfill is one UPDATE of the files that have a run, with the expression the services use
(selectors.above_line_since): 2.5 s on 100,000 seeded files with 155,000 surveys on PostgreSQL
(2026-12-07), in proportion to the files with a run beyond that."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists

from households.selectors import above_line_run, above_line_since


def fill(apps, schema_editor):
    Household = apps.get_model("households", "Household")
    Survey = apps.get_model("households", "Survey")
    # Only the files that have a run: the others keep the new column's NULL unwritten.
    Household.objects.filter(Exists(above_line_run(survey_model=Survey))).update(
        above_line_since=above_line_since(survey_model=Survey)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0018_reference_codes_unique_ci"),
        ("orgs", "0007_access_log_id_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="household",
            name="above_line_since",
            field=models.DateField(
                editable=False, null=True, verbose_name="连续高于低保标准起始日"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                condition=models.Q(
                    ("above_line_since__isnull", False), ("status__in", ("on_file", "relieved"))
                ),
                fields=["organisation", "above_line_since"],
                name="household_exit_run",
            ),
        ),
    ]
