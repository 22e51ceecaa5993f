"""Closed files (exited, deregistered, not approved) kept the next home-survey date they had
while on file, and showed as overdue in the list. Closing a file now clears it
(services.transition_apply); this clears it on the files closed before."""

from django.db import migrations

CLOSED = ["exited", "deregistered", "rejected"]  # households.models.CLOSED_STATUSES


def clear_survey_due(apps, schema_editor):
    Household = apps.get_model("households", "Household")
    Household.objects.filter(status__in=CLOSED, next_survey_due__isnull=False).update(
        next_survey_due=None
    )


class Migration(migrations.Migration):
    dependencies = [("households", "0009_user_keys_unchecked")]

    operations = [migrations.RunPython(clear_survey_due, migrations.RunPython.noop, elidable=True)]
