"""A worker entered twice on one course, before the database refused it, is merged into the
first entry by migration 0008 (keeping a certificate or phone only the later entry had), so
that 0009's constraint applies to any existing data; the history says why."""

import pytest
from django.utils import timezone

from services.models import TrainingAttendee, TrainingCourse
from tests.services.conftest import id_number

BEFORE = [("services", "0007_id_number_help_text")]
AFTER = [("services", "0009_attendee_once_per_course")]
REASON = "同一培训班重复登记的学员，已并入先登记的一条"


# Serialized rollback: the flush after a transactional test would drop the seeded reference rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_attendees_entered_twice_are_merged_before_the_constraint(users, orgs, migrator):
    executor = migrator
    executor.migrate(BEFORE)  # the tables are the same, less the constraint
    today = timezone.localdate()
    course, other = (
        TrainingCourse.objects.create(
            organisation=orgs["450102"],
            name=name,
            starts_on=today,
            ends_on=today,
            created_by=users["clerk_450102"],
        )
        for name in ("电工", "焊工")
    )
    twice, thrice, once = id_number(), id_number(), id_number()

    def add(on, number="", **fields):
        return TrainingAttendee.objects.create(
            course=on, worker_name="李强", worker_id_number=number, **fields
        )

    first = add(course, twice)
    add(course, twice, worker_phone="13800000001", certificate_obtained=True,
        certificate_name="电工证")  # fmt: skip
    kept = add(course, thrice, certificate_obtained=True, certificate_name="初级电工证")
    add(course, thrice, certificate_obtained=True, certificate_name="电工证")
    add(course, thrice)
    alone = add(course, once)
    elsewhere = add(other, twice)
    nameless = [add(course), add(course)]  # no ID number: left as they are

    executor.loader.build_graph()
    executor.migrate(AFTER)

    remaining = set(TrainingAttendee.objects.values_list("pk", flat=True))
    assert remaining == {first.pk, kept.pk, alone.pk, elsewhere.pk, *(a.pk for a in nameless)}
    first.refresh_from_db()
    assert (first.worker_phone, first.certificate_obtained, first.certificate_name) == (
        "13800000001",
        True,
        "电工证",
    )
    kept.refresh_from_db()
    assert kept.certificate_name == "初级电工证"  # the first entry's own certificate stays
    history = TrainingAttendee.history.filter(history_change_reason=REASON)
    assert sorted(history.values_list("history_type", flat=True)) == ["-", "-", "-", "~"]
    assert history.get(history_type="~").id == first.pk
    for row in history.filter(history_type="-"):
        assert row.worker_id_number in (twice, thrice)  # copied, still readable
    assert course.attendees.count() == 5
