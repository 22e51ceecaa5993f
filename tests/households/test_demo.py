"""`seed_demo --households N`: realistic, valid, consistent, and idempotent."""

from io import StringIO

from django.core.management import call_command
from django.db.models import Count, Max
from django.utils import timezone

from households import services
from households.idnumbers import validate_id_number
from households.models import OPEN_STATUSES, Household, IdentityClaim, Member, Transition


def test_generated_households_are_valid_and_consistent(db):
    call_command("seed_demo", households=60, stdout=StringIO())
    assert Household.objects.count() == 60
    call_command("seed_demo", households=60, stdout=StringIO())
    assert Household.objects.count() == 60  # running it twice duplicates nothing
    call_command("seed_demo", households=80, stdout=StringIO())
    assert Household.objects.count() == 80  # asking for more adds only the missing ones

    for household in Household.objects.select_related("current_period").prefetch_related("members"):
        assert validate_id_number(household.id_number) == household.id_number
        assert household.current_period.household_id == household.pk
        assert household.household_size == household.members.count()
        last = household.transitions.order_by("effective_date", "id").last()
        assert last.to_status == household.status, household.file_number
        assert household.status_changed_on == last.effective_date, household.file_number
        in_force = Transition.objects.in_force_on(timezone.localdate()).get(household=household)
        assert in_force == last
        for member in household.members.all():
            validate_id_number(member.id_number)
    # Every person of an open file holds exactly one claim; closed files hold none.
    open_people = Member.objects.filter(household__status__in=OPEN_STATUSES).count()
    assert IdentityClaim.objects.count() == open_people
    assert Member.objects.values("id_hash").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    statuses = set(Household.objects.values_list("status", flat=True))
    assert {"on_file", "exited"} <= statuses


def test_demo_files_have_the_surveys_their_history_and_dates_say(db):
    """A file past review had its home survey on the review's date; its last survey date is
    the latest survey on record (the detail page showed a date with no survey behind it)."""
    call_command("seed_demo", households=60, stdout=StringIO())
    reviewed = dated = 0
    for household in Household.objects.prefetch_related("surveys", "transitions"):
        review = [t for t in household.transitions.all() if t.action == "review"]
        days = sorted(survey.surveyed_on for survey in household.surveys.all())
        if review:
            reviewed += 1
            assert days[0] == review[0].effective_date, household.file_number
        else:
            assert not days, household.file_number
        assert household.last_survey_on == (days[-1] if days else None), household.file_number
        if days and household.next_survey_due:  # as the survey service sets it
            assert household.next_survey_due == services._next_survey_due(household, days[-1])
        # The exit list's date is what the survey service would have kept.
        since = household.above_line_since
        services.recompute_exit_run(household)
        assert since == household.above_line_since, household.file_number
        dated += since is not None
    assert reviewed > 30
    assert dated > 0


def test_new_records_after_the_seed_get_fresh_keys(db):
    """Explicit primary keys must not leave the sequences behind (PostgreSQL)."""
    call_command("seed_demo", households=10, stdout=StringIO())
    top = Transition.objects.aggregate(m=Max("pk"))["m"]
    household = Household.objects.filter(status="draft").first() or Household.objects.first()
    row = Transition.objects.create(
        household=household,
        period=household.current_period,
        action="note",
        from_status=household.status,
        to_status=household.status,
        effective_date=household.status_changed_on,
    )
    assert row.pk > top


def test_demo_files_under_notice_can_be_approved(db):
    """Files generated in state 公示 are posted on their county's notice, which has run its
    working days: the supervisor's first click in the demo approves one."""
    from households import services
    from households.models import Status
    from orgs.models import User

    call_command("seed_demo", households=300, stdout=StringIO())
    on_notice = Household.objects.filter(status=Status.NOTICE).select_related("current_period")
    assert on_notice.exists()
    assert all(h.current_period.notice_id for h in on_notice)
    household = on_notice.first()
    supervisor = User.objects.get(username=f"supervisor_{household.organisation.code}")
    services.transition_apply(
        user=supervisor, household=household, action="approve", reason="经审核符合条件"
    )
    household.refresh_from_db()
    assert household.status == Status.ON_FILE


def test_demo_migrant_workers_meet_their_filing_condition(db):
    """Migrant workers are filed as union members a year into their labour relation: the
    demo's applications of migrant workers can be submitted and approved like the others."""
    from households.models import APPLICATION_STATUSES

    call_command("seed_demo", households=300, stdout=StringIO())
    migrants = Household.objects.filter(is_migrant_worker=True).select_related("current_period")
    applying = [h for h in migrants if h.status in APPLICATION_STATUSES]
    assert applying and len(migrants) > len(applying)
    for household in migrants:
        errors = services.migrant_worker_errors(household, household.current_period.applied_on)
        assert errors == {}, (household.file_number, errors)


def test_a_demo_files_first_edit_shows_in_its_trail(db):
    """Seeded without field history, a demo file's first edit showed nothing on its trail and
    its members as added: the seed writes each file's and member's created record."""
    from households import services
    from households.timeline import field_history
    from orgs.models import User
    from tests.households.conftest import kept_members

    call_command("seed_demo", households=20, stdout=StringIO())
    assert Household.history.filter(history_type="+").count() == 20
    assert Member.history.filter(history_type="+").count() == Member.objects.count()
    household = Household.objects.filter(status="on_file", organisation__code="450102").first()
    clerk = User.objects.get(username="clerk_450102")
    household.address = "南宁市新地址1号"
    people = kept_members(household)
    services.household_update(user=clerk, household=household, members=people, reason="搬家")
    [entry] = field_history(household)
    assert [(c["old"] != "（空）", c["new"]) for c in entry["changes"]] == [
        (True, "南宁市新地址1号")
    ]


def test_demo_steps_are_recorded_on_their_day_and_a_few_late(db, users):
    """逾期录入 listed every step of the demo's history as late (all recorded at the seed): each
    step is recorded on its effective day, and one in LATE_EVERY weeks later, so the supervisor's
    list shows a few."""
    from households.demo import LATE_EVERY
    from households.late_entries import late_entries

    call_command("seed_demo", households=120, stdout=StringIO())
    steps = list(Transition.objects.values_list("pk", "effective_date", "created_at"))
    on_time = [row for row in steps if row[0] % LATE_EVERY]
    assert on_time and all(timezone.localtime(at).date() == day for _pk, day, at in on_time)
    late, _waiting = late_entries(users["supervisor_450000"])
    assert 0 < len(late) <= len(steps) // LATE_EVERY + 1
