"""Causes and categories with stable codes (DOMAIN.md; seeds 000, 002, 003)."""

from django.db import migrations

CAUSES = [
    # code, name, special cause (eligible within the multiple of the dibao line)
    ("illness", "因病", True),
    ("disability", "因残", True),
    ("schooling", "因子女就学", True),
    ("low_income", "低收入", False),
    ("unemployment", "下岗失业", False),
    ("no_work_capacity", "无劳动能力", True),
    ("no_insurance", "未参加社会保险", False),
    ("insurance_not_delivered", "社保待遇未落实", False),
    ("disaster", "自然灾害", True),
    ("accident", "意外事故", True),
    ("single_parent", "单亲", True),
    ("other", "其他", True),
]
CATEGORIES = [
    ("deep", "深度困难", "current"),
    ("relative", "相对困难", "current"),
    ("accident", "意外致困", "current"),
    ("dibao", "低保户", "2015"),
    ("near_dibao", "低保边缘户", "2015"),
]


def seed(apps, schema_editor):
    Cause = apps.get_model("households", "Cause")
    Category = apps.get_model("households", "Category")
    for sort, (code, name, special) in enumerate(CAUSES):
        Cause.objects.update_or_create(
            code=code, defaults={"name": name, "is_special": special, "sort": sort}
        )
    for sort, (code, name, scheme) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code, defaults={"name": name, "scheme": scheme, "sort": sort}
        )


class Migration(migrations.Migration):
    dependencies = [("households", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
