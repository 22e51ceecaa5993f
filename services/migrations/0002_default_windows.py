"""The six windows of a county service centre (DOMAIN.md "The service centre", seed 000)."""

from django.db import migrations

DEFAULT_WINDOWS = [
    # code, name, sort order
    ("petition", "信访接待", 10),
    ("hardship_aid", "困难职工帮扶", 20),
    ("medical_mutual_aid", "医疗互助保障", 30),
    ("legal_aid", "法律援助", 40),
    ("employment_training", "职业介绍和培训", 50),
    ("general_benefits", "普惠服务", 60),
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
