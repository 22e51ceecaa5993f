"""The codes of a file's secondary causes on the file itself (and its field history), so that a
change of causes shows in the history like any other edit: django-simple-history does not
follow many-to-many fields. Filled from the causes the files hold today; their past is not
known, so every earlier history row of a file takes today's codes (no change is invented)."""

from collections import defaultdict

from django.db import migrations, models


def fill_codes(apps, schema_editor):
    Household = apps.get_model("households", "Household")
    history = apps.get_model("households", "HistoricalHousehold")
    through = Household.secondary_causes.through
    codes = defaultdict(list)
    for household_id, code in through.objects.values_list("household_id", "cause__code"):
        codes[household_id].append(code)
    by_value = defaultdict(list)  # few distinct combinations: one UPDATE each, in chunks
    for household_id, values in codes.items():
        by_value[",".join(sorted(values))].append(household_id)
    for value, ids in by_value.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            Household.objects.filter(pk__in=chunk).update(secondary_cause_codes=value)
            history.objects.filter(id__in=chunk).update(secondary_cause_codes=value)


class Migration(migrations.Migration):
    dependencies = [("households", "0010_closed_files_have_no_survey_due")]

    operations = [
        migrations.AddField(
            model_name="historicalhousehold",
            name="secondary_cause_codes",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=200, verbose_name="次要致困原因"
            ),
        ),
        migrations.AddField(
            model_name="household",
            name="secondary_cause_codes",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=200, verbose_name="次要致困原因"
            ),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop, elidable=True),
    ]
