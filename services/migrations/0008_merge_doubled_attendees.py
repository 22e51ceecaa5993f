from django.db import migrations
from django.db.models import Count
from django.utils import timezone

# What the attendees' history says of the merge (history_change_reason, stored as data).
REASON = "同一培训班重复登记的学员，已并入先登记的一条"


def merge_doubled_attendees(apps, schema_editor):
    """A worker entered twice on one course (the same ID number, so the same hash) counted as
    two trainees; migration 0009 lets each in once. Before it, the later entries are merged
    into the first: it takes a certificate or a phone only they recorded, they go, and each
    gets a row in its django-simple-history history (by nobody, with the reason), as a change
    on the pages would have written it. Attendees without an ID number are left as they are
    (the service compares their name and phone; the database has no rule for them)."""
    Attendee = apps.get_model("services", "TrainingAttendee")
    HistoricalAttendee = apps.get_model("services", "HistoricalTrainingAttendee")
    fields = [field.attname for field in Attendee._meta.concrete_fields]
    now = timezone.now()

    def record(attendee, history_type):
        HistoricalAttendee.objects.create(
            **{name: getattr(attendee, name) for name in fields},
            history_date=now,
            history_type=history_type,
            history_change_reason=REASON,
            history_user_id=None,
        )

    doubled = (
        Attendee.objects.exclude(worker_id_hash="")
        .values("course_id", "worker_id_hash")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by()
    )
    for group in doubled:
        first, *later = Attendee.objects.filter(
            course_id=group["course_id"], worker_id_hash=group["worker_id_hash"]
        ).order_by("pk")
        changed = []
        certified = next((row for row in later if row.certificate_obtained), None)
        if certified is not None and not first.certificate_obtained:
            first.certificate_obtained = True
            first.certificate_name = certified.certificate_name
            changed += ["certificate_obtained", "certificate_name"]
        phone = next((row.worker_phone for row in later if row.worker_phone), "")
        if phone and not first.worker_phone:
            first.worker_phone = phone
            changed.append("worker_phone")
        for row in later:
            record(row, "-")
        Attendee.objects.filter(pk__in=[row.pk for row in later]).delete()
        if changed:
            first.save(update_fields=changed)
            record(first, "~")


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0007_id_number_help_text"),
    ]

    operations = [
        migrations.RunPython(merge_doubled_attendees, migrations.RunPython.noop),
    ]
