"""Fund sources and assistance types with stable codes (DOMAIN.md "Assistance", "Funds")."""

from django.db import migrations
from django.utils.translation import gettext_noop  # the names shown translated (orgs/reference.py)

SOURCES = [
    ("central", gettext_noop("中央财政")),
    ("regional", gettext_noop("省/自治区财政")),
    ("upper_union", gettext_noop("上级工会送温暖资金")),
    ("union", gettext_noop("工会经费")),
    ("donation", gettext_noop("社会捐助")),
    ("other", gettext_noop("其他")),
]
TYPES = [
    # code, name, a loan that is repaid
    ("living", gettext_noop("生活救助"), False),
    ("medical", gettext_noop("医疗救助"), False),
    ("schooling", gettext_noop("助学"), False),
    ("festival", gettext_noop("送温暖"), False),
    ("employment", gettext_noop("就业创业"), False),
    ("small_loan", gettext_noop("小额借款"), True),
    ("legal_aid", gettext_noop("法律援助"), False),
    ("other", gettext_noop("其他"), False),
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
