"""The member's ID hash on each assistance request, so that a per-person standard (助学 once a
year per student, say) counts the person, also after the member's row was removed and entered
again: the request's key to the row goes to NULL then. The existing requests take the hash of
the member they name, in one statement."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_hashes(apps, schema_editor):
    Request = apps.get_model("funds", "AssistanceRequest")
    Member = apps.get_model("households", "Member")
    member_hash = Member.objects.filter(pk=OuterRef("beneficiary_id")).values("id_hash")[:1]
    Request._base_manager.filter(beneficiary__isnull=False).update(
        beneficiary_id_hash=Subquery(member_hash)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0010_short_bank_accounts_masked"),
        ("households", "0022_transition_index_household"),
    ]

    operations = [
        migrations.AddField(
            model_name="assistancerequest",
            name="beneficiary_id_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="historicalassistancerequest",
            name="beneficiary_id_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(copy_hashes, migrations.RunPython.noop, elidable=True),
    ]
