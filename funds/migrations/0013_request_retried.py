"""Who sent a failed payment again, and when, once the file's bank account was corrected."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0012_request_failed_by"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="assistancerequest",
            name="retried_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="重新发放时间"),
        ),
        migrations.AddField(
            model_name="assistancerequest",
            name="retried_by",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="重新发放登记人",
            ),
        ),
        migrations.AddField(
            model_name="historicalassistancerequest",
            name="retried_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="重新发放时间"),
        ),
        migrations.AddField(
            model_name="historicalassistancerequest",
            name="retried_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="重新发放登记人",
            ),
        ),
    ]
