"""The six windows of a county service centre (DOMAIN.md "The service centre", seed 000)."""

from django.db import migrations
from django.utils.translation import gettext_noop  # the names shown translated (orgs/reference.py)

DEFAULT_WINDOWS = [
    # code, name, sort order
    ("petition", gettext_noop("信访接待"), 10),
    ("hardship_aid", gettext_noop("困难职工帮扶"), 20),
    ("medical_mutual_aid", gettext_noop("医疗互助保障"), 30),
    ("legal_aid", gettext_noop("法律援助"), 40),
    ("employment_training", gettext_noop("职业介绍和培训"), 50),
    ("general_benefits", gettext_noop("普惠服务"), 60),
]


def create_windows(apps, schema_editor):
    Window = apps.get_model("services", "Window")
    for code, name, order in DEFAULT_WINDOWS:
        Window.objects.using(schema_editor.connection.alias).get_or_create(
            code=code, defaults={"name": name, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]

    operations = [migrations.RunPython(create_windows, migrations.RunPython.noop)]
