"""Migration 0014: drafts withdrawn while a withdrawal still read as a refusal become
"withdrawn", on the file and along its transitions, and nothing else changes."""

import pytest

BEFORE = [("households", "0013_document_withdrawal")]
AFTER = [("households", "0014_withdrawn_drafts")]


def _rows(apps, household_id):
    Transition = apps.get_model("households", "Transition")
    rows = Transition.objects.filter(household_id=household_id).order_by("id")
    return [(t.action, t.from_status, t.to_status) for t in rows]


# Serialized rollback: the flush after a transactional test would drop the reference rows the
# migrations seed (causes, windows, roles) that the tests after this one rely on.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_withdrawals_recorded_as_refusals_become_withdrawn(make_household, users, migrator):
    from households import services

    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    kept = make_household()  # withdrawn, and still so
    services.transition_apply(user=clerk, household=kept, action="withdraw", reason="重复录入")
    reopened = make_household()  # withdrawn, then applied for again and refused
    services.transition_apply(user=clerk, household=reopened, action="withdraw", reason="x")
    services.transition_apply(user=clerk, household=reopened, action="reopen", reason="核实")
    services.transition_apply(user=supervisor, household=reopened, action="reject", reason="超标")
    # As the code before 0014 wrote them:
    from households.models import Household, Transition

    Transition.objects.filter(action="withdraw").update(to_status="rejected")
    Transition.objects.filter(action="reopen", from_status="withdrawn").update(
        from_status="rejected"
    )
    Household.objects.filter(status="withdrawn").update(status="rejected")

    migrator.migrate(BEFORE)  # the status leaves the check constraint's list
    migrator.loader.build_graph()
    migrator.migrate(AFTER)
    apps = migrator.loader.project_state(AFTER).apps

    Household = apps.get_model("households", "Household")
    assert Household.objects.get(pk=kept.pk).status == "withdrawn"
    assert Household.objects.get(pk=reopened.pk).status == "rejected"
    assert _rows(apps, kept.pk)[-1] == ("withdraw", "draft", "withdrawn")
    assert _rows(apps, reopened.pk)[-3:] == [
        ("withdraw", "draft", "withdrawn"),
        ("reopen", "withdrawn", "applied"),
        ("reject", "applied", "rejected"),
    ]
