"""A payment the bank made to a file not on file on the day its bank file was made is marked, so
finance can find it; the ones booked before are found by the warning they left."""

from django.db import migrations, models

# The start of the warning funds.services._bank_paid_closed_file stores (in Chinese).
WARNING = "银行已按代发批次 "


def mark(apps, schema_editor):
    AssistanceRequest = apps.get_model("funds", "AssistanceRequest")
    paid = AssistanceRequest.objects.filter(state="paid").exclude(warnings=[])
    marked = [
        request.pk
        for request in paid.only("pk", "warnings").iterator()
        if any(str(warning).startswith(WARNING) for warning in request.warnings)
    ]
    AssistanceRequest.objects.filter(pk__in=marked).update(paid_to_closed_file=True)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0013_request_retried"),
    ]

    operations = [
        migrations.AddField(
            model_name="assistancerequest",
            name="paid_to_closed_file",
            field=models.BooleanField(
                default=False, editable=False, verbose_name="代发时档案不在档"
            ),
        ),
        migrations.AddField(
            model_name="historicalassistancerequest",
            name="paid_to_closed_file",
            field=models.BooleanField(
                default=False, editable=False, verbose_name="代发时档案不在档"
            ),
        ),
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
