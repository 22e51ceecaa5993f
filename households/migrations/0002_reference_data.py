"""Causes and categories with stable codes (DOMAIN.md; seeds 000, 002, 003)."""

from django.db import migrations
from django.utils.translation import gettext_noop  # the names shown translated (orgs/reference.py)

CAUSES = [
    # code, name, special cause (eligible within the multiple of the dibao line)
    ("illness", gettext_noop("因病"), True),
    ("disability", gettext_noop("因残"), True),
    ("schooling", gettext_noop("因子女就学"), True),
    ("low_income", gettext_noop("低收入"), False),
    ("unemployment", gettext_noop("下岗失业"), False),
    ("no_work_capacity", gettext_noop("无劳动能力"), True),
    ("no_insurance", gettext_noop("未参加社会保险"), False),
    ("insurance_not_delivered", gettext_noop("社保待遇未落实"), False),
    ("disaster", gettext_noop("自然灾害"), True),
    ("accident", gettext_noop("意外事故"), True),
    ("single_parent", gettext_noop("单亲"), True),
    ("other", gettext_noop("其他"), True),
]
CATEGORIES = [
    ("deep", gettext_noop("深度困难"), "current"),
    ("relative", gettext_noop("相对困难"), "current"),
    ("accident", gettext_noop("意外致困"), "current"),
    ("dibao", gettext_noop("低保户"), "2015"),
    ("near_dibao", gettext_noop("低保边缘户"), "2015"),
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
