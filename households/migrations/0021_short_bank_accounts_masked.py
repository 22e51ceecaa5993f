"""A bank account of 11 to 17 digits was masked as the first 6 and last 4 digits, so an
11-digit one showed all but one (622202*2345). The mask now hides at least half of a value, up
to 8 characters (orgs.pii.mask): this recomputes the stored masked copies of those accounts, on
the file and in its field history. The new mask shows a part of what the old one showed (fewer
leading digits, the same last 4), so it is cut from the old mask in SQL: nothing is decrypted,
and only the rows of those lengths are touched, in one statement per table."""

from django.db import migrations, models
from django.db.models.functions import Concat, Left, Length, Right
from django.db.models.lookups import Exact, GreaterThan, LessThan


def remask(model, field):
    """Rewrite `field` (a mask by the old rule) by the new rule where the two differ."""
    size = Length(field)
    rules = []
    for length in range(11, 18):  # a longer or shorter value's mask did not change
        hidden = max(length - 10, min((length + 1) // 2, 8))
        head = length - hidden - 4
        shown = Concat(Left(field, head), models.Value("*" * hidden), Right(field, 4))
        rules.append(models.When(Exact(size, length), then=shown))
    model._base_manager.filter(GreaterThan(size, 10), LessThan(size, 18)).update(
        **{field: models.Case(*rules, default=models.F(field), output_field=models.CharField())}
    )


def remask_accounts(apps, schema_editor):
    for name in ("Household", "HistoricalHousehold"):
        remask(apps.get_model("households", name), "bank_account_masked")


class Migration(migrations.Migration):
    dependencies = [("households", "0020_work_queue_index")]

    operations = [
        migrations.RunPython(remask_accounts, migrations.RunPython.noop, elidable=True),
    ]
