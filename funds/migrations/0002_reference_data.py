"""Fund sources and assistance types with stable codes (DOMAIN.md "Assistance", "Funds")."""

from django.db import migrations

SOURCES = [
    ("central", "中央财政"),
    ("regional", "省/自治区财政"),
    ("upper_union", "上级工会送温暖资金"),
    ("union", "工会经费"),
    ("donation", "社会捐助"),
    ("other", "其他"),
]
TYPES = [
    # code, name, a loan that is repaid
    ("living", "生活救助", False),
    ("medical", "医疗救助", False),
    ("schooling", "助学", False),
    ("festival", "送温暖", False),
    ("employment", "就业创业", False),
    ("small_loan", "小额借款", True),
    ("legal_aid", "法律援助", False),
    ("other", "其他", False),
]


def seed(apps, schema_editor):
    FundSource = apps.get_model("funds", "FundSource")
    AssistanceType = apps.get_model("funds", "AssistanceType")
    for sort, (code, name) in enumerate(SOURCES):
        FundSource.objects.update_or_create(code=code, defaults={"name": name, "sort": sort})
    for sort, (code, name, is_loan) in enumerate(TYPES):
        AssistanceType.objects.update_or_create(
            code=code, defaults={"name": name, "is_loan": is_loan, "sort": sort}
        )


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
