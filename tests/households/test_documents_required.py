"""The documents a filing needs [002 七、困难员工需提供的相关资料]: ID and hukou copies, an
income proof, the bank card copy and, for an illness, a diagnosis issued within a year. The
submission refuses a file without them, naming each missing kind; the review of a refiling and
the approval check again; the file's page shows the checklist; an import is not checked."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from households import selectors, services
from households.models import Cause, Document, Household, Status, Transition
from tests.conftest import on_day
from tests.households.conftest import attach_documents

TODAY = timezone.localdate
LABELS = {
    "id_copy": "身份证复印件",
    "hukou": "户口簿复印件",
    "income_proof": "收入证明",
    "bank_card": "银行卡复印件",
}
DIAGNOSIS = "二级以上公立医院诊断证明（一年以内开具）"


def upload(user, household, kind, *, issued_on=None):
    return services.document_upload(
        user=user,
        household=household,
        kind=kind,
        upload=SimpleUploadedFile(f"{kind}.pdf", b"%PDF-1.4 " + kind.encode()),
        issued_on=issued_on,
    )


def refusal(user, household, action, **fields) -> list[str]:
    """The messages of the refused step; nothing was written."""
    steps = Transition.objects.filter(household=household).count()
    status = household.status
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(user=user, household=household, action=action, **fields)
    assert Transition.objects.filter(household=household).count() == steps
    assert Household.objects.get(pk=household.pk).status == status
    return exc.value.messages


@pytest.mark.parametrize("missing", list(LABELS))
def test_submission_names_the_missing_document(make_household, users, missing):
    clerk = users["clerk_450102"]
    household = make_household(primary="low_income", documents=False)
    for kind in LABELS:
        if kind != missing:
            upload(clerk, household, kind)
    assert refusal(clerk, household, "submit") == [f"证明材料不全，请先上传：{LABELS[missing]}。"]

    upload(clerk, household, missing)
    services.transition_apply(user=clerk, household=household, action="submit")
    assert Household.objects.get(pk=household.pk).status == Status.APPLIED


def test_a_file_without_documents_is_refused_naming_every_kind(make_household, users):
    household = make_household(documents=False)  # primary cause: illness
    messages = refusal(users["clerk_450102"], household, "submit")
    assert messages == [
        f"证明材料不全，请先上传：身份证复印件、户口簿复印件、收入证明、银行卡复印件、{DIAGNOSIS}。"
    ]
    with translation.override("en"):
        english = refusal(users["clerk_450102"], household, "submit")
    assert english == [
        "Documents are missing; upload first: ID card copy, Household register copy, Income"
        " proof, Bank card copy, Diagnosis from a grade-2 or higher public hospital (issued"
        " within the last year)."
    ]


@pytest.mark.parametrize("primary, secondary", [("illness", None), ("low_income", "illness")])
def test_an_illness_needs_a_diagnosis(make_household, users, primary, secondary):
    """Illness as the main or a secondary cause: without a diagnosis the file is refused."""
    clerk = users["clerk_450102"]
    household = make_household(primary=primary, documents=False)
    if secondary:
        household.secondary_causes.set([Cause.objects.get(code=secondary)])
    for kind in LABELS:
        upload(clerk, household, kind)
    assert refusal(clerk, household, "submit") == [f"证明材料不全，请先上传：{DIAGNOSIS}。"]

    upload(clerk, household, "diagnosis", issued_on=TODAY() - timedelta(days=30))
    services.transition_apply(user=clerk, household=household, action="submit")
    assert Household.objects.get(pk=household.pk).status == Status.APPLIED


def test_a_diagnosis_older_than_a_year_does_not_count(make_household, users):
    """Uploaded when it was recent, more than a year later it proves no illness: the file is
    refused as without one, and its checklist says when the one it has was issued."""
    clerk = users["clerk_450102"]
    household = make_household(documents=False)
    for kind in LABELS:
        upload(clerk, household, kind)
    issued = TODAY() - timedelta(days=400)
    with on_day(issued + timedelta(days=5)):
        upload(clerk, household, "diagnosis", issued_on=issued)
    assert refusal(clerk, household, "submit") == [f"证明材料不全，请先上传：{DIAGNOSIS}。"]
    (item,) = selectors.documents_missing(household)
    assert item.kind == "diagnosis" and item.stale_on == issued


def test_a_file_of_another_cause_needs_no_diagnosis(make_household, users):
    clerk = users["clerk_450102"]
    household = make_household(primary="schooling", documents=False)
    attach_documents(household, clerk)
    assert not household.documents.filter(kind="diagnosis").exists()
    services.transition_apply(user=clerk, household=household, action="submit")
    assert Household.objects.get(pk=household.pk).status == Status.APPLIED


def test_a_withdrawn_document_no_longer_counts(make_household, users):
    clerk = users["clerk_450102"]
    household = make_household()
    document = household.documents.get(kind="bank_card")
    services.document_withdraw(user=clerk, document=document, reason="看不清")
    assert refusal(clerk, household, "submit") == ["证明材料不全，请先上传：银行卡复印件。"]


def test_the_approval_checks_again(make_household, walk, users):
    """A document withdrawn after the submission: the approval refuses the file, which leaves
    the supervisor's queue for the clerks' list of incomplete files until it is uploaded."""
    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    household = walk(make_household(), "notice")
    assert household in selectors.approvals_waiting(supervisor)
    assert household not in selectors.documents_incomplete(clerk)
    services.document_withdraw(
        user=clerk, document=household.documents.get(kind="id_copy"), reason="过期身份证"
    )

    assert refusal(supervisor, household, "approve", reason="同意") == [
        "证明材料不全，请先上传：身份证复印件。"
    ]
    assert household not in selectors.approvals_waiting(supervisor)
    assert household in selectors.documents_incomplete(clerk)

    upload(clerk, household, "id_copy")
    assert household in selectors.approvals_waiting(supervisor)
    services.transition_apply(user=supervisor, household=household, action="approve", reason="同意")
    assert Household.objects.get(pk=household.pk).status == Status.ON_FILE


def test_the_approval_refuses_an_illness_whose_diagnosis_is_old(make_household, walk, users):
    """The diagnosis was recent at the submission; at the approval it is more than a year old
    (the earlier check, with its own message)."""
    supervisor = users["supervisor_450102"]
    household = walk(make_household(), "notice")
    issued = TODAY() - timedelta(days=370)
    Document.objects.filter(household=household, kind="diagnosis").update(issued_on=issued)
    assert refusal(supervisor, household, "approve", reason="同意") == [
        f"档案的诊断证明开具于 {issued}，已超过一年，请上传一年以内开具的诊断证明后再审批。"
    ]
    assert household not in selectors.approvals_waiting(supervisor)


def test_a_refiling_brings_its_documents_again(make_household, walk, users):
    """Reopened (重新申请), a file is a new application whose earlier documents are that
    filing's record: its review waits for this filing's."""
    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    household = walk(make_household(primary="low_income"), "on_file")
    services.transition_apply(
        user=supervisor, household=household, action="exit", reason="收入稳定"
    )
    services.transition_apply(user=clerk, household=household, action="reopen", reason="再次失业")
    household.refresh_from_db()
    services.survey_record(
        user=clerk,
        household=household,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="入户",
        incomes={},
    )
    household.refresh_from_db()
    assert household in selectors.documents_incomplete(clerk)
    messages = refusal(clerk, household, "review")
    assert messages == [
        "证明材料不全，请先上传：身份证复印件、户口簿复印件、收入证明、银行卡复印件。"
    ]

    attach_documents(household, clerk)
    services.transition_apply(user=clerk, household=household, action="review")
    assert Household.objects.get(pk=household.pk).status == Status.REVIEWED


def test_the_file_page_shows_the_checklist(login, make_household, users):
    clerk = login("clerk_450102")
    household = make_household(documents=False)
    upload(users["clerk_450102"], household, "hukou")
    page = clerk.get(reverse("households:detail", args=[household.pk]))
    items = {item.kind: item.present for item in page.context["checklist"]}
    assert items == {
        "id_copy": False,
        "hukou": True,
        "income_proof": False,
        "bank_card": False,
        "diagnosis": False,
    }
    html = page.content.decode()
    assert '<li class="present" data-kind="hukou">户口簿复印件：已上传 1 份</li>' in html
    assert '<li class="missing" data-kind="id_copy">身份证复印件：缺少</li>' in html
    # The submit step says what it lacks before the clerk clicks it.
    (submit,) = [step for step in page.context["actions"] if step["action"] == "submit"]
    assert [item.kind for item in submit["documents_missing"]] == [
        "id_copy",
        "income_proof",
        "bank_card",
        "diagnosis",
    ]
    assert "证明材料不全：身份证复印件、收入证明、银行卡复印件、二级以上公立医院诊断证明" in html

    attach_documents(household, users["clerk_450102"])
    page = clerk.get(reverse("households:detail", args=[household.pk]))
    assert all(item.present for item in page.context["checklist"])
    assert "证明材料不全" not in page.content.decode()


def test_the_supervisor_sees_what_the_approval_lacks(client, login, make_household, walk, users):
    household = walk(make_household(), "notice")
    services.document_withdraw(
        user=users["clerk_450102"],
        document=household.documents.get(kind="income_proof"),
        reason="单位未盖章",
    )
    supervisor = login("supervisor_450102")
    response = supervisor.post(
        reverse("admin:households_household_changelist"),
        {"action": "approve_applications", "_selected_action": [household.pk]},
    )
    assert "证明材料不全：收入证明" in response.content.decode()
    page = supervisor.get(reverse("admin:households_household_change", args=[household.pk]))
    assert '<li class="missing" data-kind="income_proof">收入证明：缺少</li>' in (
        page.content.decode()
    )


def test_incomplete_files_are_listed_for_the_clerks_and_the_supervisors(
    login, make_household, walk, users
):
    """What the approval refuses for its documents leaves the supervisor's queue: it is listed
    as 证明材料不全 on "my work", the standing lists and the admin index, until uploaded."""
    from households import work

    clerk, supervisor = users["clerk_450102"], users["supervisor_450102"]
    walk(make_household(worker_name="齐全"), "notice")
    lacking = walk(make_household(worker_name="缺材料"), "notice")
    services.document_withdraw(
        user=clerk, document=lacking.documents.get(kind="hukou"), reason="非本户"
    )
    assert {h.worker_name for h in selectors.approvals_waiting(supervisor)} == {"齐全"}
    assert {h.worker_name for h in selectors.documents_incomplete(clerk)} == {"缺材料"}

    request = type("Request", (), {"user": clerk})
    rows = {row["label"]: row for row in work.panels(request)[0]["rows"]}
    assert rows["证明材料不全"]["count"] == 1
    listed = login("clerk_450102").get(rows["证明材料不全"]["url"]).context["households"]
    assert [h.worker_name for h in listed] == ["缺材料"]

    rows = {row["label"]: row for row in work.admin_rows(type("Request", (), {"user": supervisor}))}
    assert rows["证明材料不全"]["count"] == 1
    changelist = login("supervisor_450102").get(rows["证明材料不全"]["url"])
    assert [h.worker_name for h in changelist.context["cl"].result_list] == ["缺材料"]


def test_the_refused_step_links_to_the_upload(login, make_household):
    """The refusal names what is missing; beside it a link leads to the file's documents to
    upload them (the file page's own warning has the same link)."""
    household = make_household(documents=False)
    detail = reverse("households:detail", args=[household.pk])
    url = reverse("households:transition", args=[household.pk, "submit"])
    page = login("clerk_450102").post(url, {"step-submit-reason": ""}).content.decode()
    assert "证明材料不全，请先上传" in page
    assert f'<a href="{detail}#documents">上传材料</a>' in page
    # With the documents on file the step offers no upload.
    attach_documents(household, household.created_by)
    page = login("clerk_450102").get(url).content.decode()
    assert f'href="{detail}#documents"' not in page
