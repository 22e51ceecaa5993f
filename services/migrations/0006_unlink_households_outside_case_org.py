from django.db import migrations
from django.db.models import F
from django.db.models.functions import Length, Substr
from django.utils import timezone

# What the case's history says of the change (history_change_reason, stored as data).
REASON = "链接的档案不在本案组织范围内，已解除"


def unlink_households_outside_case_org(apps, schema_editor):
    """A case links only a household file in its organisation's subtree (services.services
    _link_household); links made before that rule are cleared, the case kept, and each cleared
    case gets a row in its django-simple-history history (a change by nobody, with the reason),
    as an edit would have written it. Two statements whatever the number of cases: the history
    rows copied from the cases by INSERT … SELECT, then one UPDATE. The subtree test compares
    the path's leading characters, case-sensitive on both databases (SQLite's LIKE is not)."""
    Case = apps.get_model("services", "Case")
    HistoricalCase = apps.get_model("services", "HistoricalCase")
    outside = (
        Case.objects.filter(household__isnull=False)
        .alias(
            file_prefix=Substr("household__organisation__path", 1, Length("organisation__path"))
        )
        .exclude(file_prefix=F("organisation__path"))
        .values("pk")
    )
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    given = {
        "history_date": connection.ops.adapt_datetimefield_value(timezone.now()),
        "history_change_reason": REASON,
        "history_type": "~",
        "history_user_id": None,
        "household_id": None,
    }
    columns, selected, params = [], [], []
    for field in HistoricalCase._meta.concrete_fields:
        if field.attname == "history_id":
            continue
        columns.append(quote(field.column))
        if field.attname in given:
            selected.append("%s")
            params.append(given[field.attname])
        else:
            selected.append(quote(field.column))  # the same column in the case table
    cases_sql, cases_params = outside.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(HistoricalCase._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(selected)} FROM {quote(Case._meta.db_table)} "
            f"WHERE {quote(Case._meta.pk.column)} IN ({cases_sql})",
            [*params, *cases_params],
        )
    Case.objects.filter(pk__in=outside).update(household=None)


class Migration(migrations.Migration):

    dependencies = [
        ('households', '0018_reference_codes_unique_ci'),
        ('orgs', '0007_access_log_id_search'),
        ('services', '0005_reference_codes_unique_ci'),
    ]

    operations = [
        migrations.RunPython(unlink_households_outside_case_org, migrations.RunPython.noop),
    ]
