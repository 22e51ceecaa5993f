"""The payee accounts of payments and bank files, masked again as households 0021 does those of
the files: an account of 11 to 17 digits hides at least half of its digits, up to 8
(orgs.pii.mask), cut in SQL from the old mask (first 6 and last 4), nothing decrypted."""

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
    for name in ("AssistanceRequest", "HistoricalAssistanceRequest"):
        remask(apps.get_model("funds", name), "paid_bank_account_masked")
    remask(apps.get_model("funds", "PaymentBatchLine"), "bank_account_masked")


class Migration(migrations.Migration):
    dependencies = [("funds", "0009_reference_codes_unique_ci")]

    operations = [
        migrations.RunPython(remask_accounts, migrations.RunPython.noop, elidable=True),
    ]
