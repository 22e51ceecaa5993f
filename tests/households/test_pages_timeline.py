"""The file's timeline (its own traces, field history, other apps' entries) and "my work"."""

import sys
import types
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from households import services
from households.models import Transition
from households.timeline import timeline_for
from tests.households.conftest import kept_members, new_id
from tests.households.test_pages_forms import edit_data

TODAY = timezone.localdate
PDF = b"%PDF-1.4\n%test\n%%EOF\n"


def detail(client, household):
    return client.get(reverse("households:detail", args=[household.pk]))


def test_the_timeline_tells_the_whole_story(login, make_household, walk, users, orgs):
    household = make_household()
    # An edit through the page, so the history knows who made it.
    data = edit_data(orgs, household, worker_name="张晓明")
    data.update(
        {
            "members-2-pk": "",
            "members-2-relation": "child",
            "members-2-name": "张小小",
            "members-2-id_number": "",
            "members-2-health": "healthy",
            "members-2-disability": "none",
            "members-2-employment": "student",
            "members-2-school_stage": "primary",
            "members-2-monthly_income": "0.00",
            "members-TOTAL_FORMS": "3",
        }
    )
    response = login("clerk_450102").post(reverse("households:edit", args=[household.pk]), data)
    assert response.status_code == 302
    household = walk(household, "notice")
    services.objection_record(
        user=users["clerk_450102"],
        household=household,
        raised_by="邻居王某",
        raised_on=household.current_period.notice.ends_on,  # within the notice
        content="有车",
    )
    objection = household.objections.get()
    services.objection_resolve(
        user=users["supervisor_450102"], objection=objection, outcome="dismissed", finding="车已卖"
    )
    services.document_upload(
        user=users["clerk_450102"],
        household=household,
        kind="income_proof",
        upload=SimpleUploadedFile("收入.pdf", PDF),
    )
    services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="approve",
        reason="经审核符合条件",
    )
    household.refresh_from_db()
    services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="exited",
        effective_date=TODAY(),
        reason="收入提高",
    )

    response = detail(login("supervisor_450102"), household)
    timeline = response.context["timeline"]
    kinds = {entry["kind"] for entry in timeline}
    assert {"transition", "survey", "document", "objection", "closure", "history"} <= kinds
    titles = [entry["title"] for entry in timeline]
    assert titles.index(f"申请脱困（{TODAY()}起）") < titles.index("审批建档")
    assert titles.index("审批建档") < titles.index("提交申请")
    approve = next(e for e in timeline if e["title"] == "审批建档")
    assert approve["actor"] == str(users["supervisor_450102"])
    assert "经审核符合条件" in approve["detail"] and "公示中 → 在档" in approve["detail"]
    histories = [e for e in timeline if e["kind"] == "history"]
    # The approval gave the file the suggested category: shown under the approval.
    category = [c for c in approve["changes"] if c["field"] == "困难类别"]
    assert [(c["old"], c["new"]) for c in category] == [("（空）", "深度困难")]
    assert not [c for e in histories for c in e["changes"] if c["field"] == "困难类别"]
    history = next(e for e in histories if e["actor"] == str(users["clerk_450102"]))
    changes = {(c["field"], c["old"], c["new"]) for c in history["changes"]}
    assert ("职工姓名", "张小明", "张晓明") in changes
    assert ("新增家庭成员", "", "张小小（子女）") in changes
    assert any(c[0] == "家庭人口" and c[1:] == ("2", "3") for c in changes)
    moments = [timeline_sort_key(e) for e in timeline]
    assert moments == sorted(moments, reverse=True)  # newest first
    page = response.content.decode()
    assert "张小明" in page and "张晓明" in page and "收入提高" in page


def timeline_sort_key(entry):
    from households.timeline import _sort_key

    return _sort_key(entry)


def test_an_approved_exit_is_one_entry_and_a_refused_one_says_so(
    login, make_household, walk, users
):
    household = walk(make_household(), "on_file")
    first = services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="exited",
        effective_date=TODAY(),
        reason="收入提高",
    )
    services.closure_decide(
        user=users["supervisor_450102"], closure=first, approve=False, note="收入证明不全"
    )
    second = services.closure_request(
        user=users["clerk_450102"],
        household=household,
        kind="exited",
        effective_date=TODAY(),
        reason="收入提高，已补证明",
    )
    services.closure_decide(
        user=users["supervisor_450102"], closure=second, approve=True, note="核实无误"
    )
    timeline = detail(login("supervisor_450102"), household).context["timeline"]
    titles = [entry["title"] for entry in timeline]
    assert titles.count(f"申请脱困（{TODAY()}起）") == 2
    assert titles.count("脱困申请已驳回") == 1 and "脱困申请已批准" not in titles
    step = next(e for e in timeline if e["title"] == "脱困（撤档）")
    assert step["actor"] == str(users["supervisor_450102"])
    assert "收入提高，已补证明" in step["detail"] and "核实无误" in step["detail"]
    english = login("supervisor_450102")
    english.cookies["django_language"] = "en"
    titles = [str(entry["title"]) for entry in detail(english, household).context["timeline"]]
    assert titles.count(f"Exit requested (from {TODAY()})") == 2
    assert titles.count("Exit request rejected") == 1


def test_id_changes_show_masked_numbers_only(login, make_household, orgs):
    household = make_household()
    old_number = household.id_number
    new_number = new_id(1975)
    data = edit_data(orgs, household, id_number=new_number)
    login("clerk_450102").post(reverse("households:edit", args=[household.pk]), data)
    page = detail(login("clerk_450102"), household).content.decode()
    assert old_number not in page and new_number not in page
    assert f"{new_number[:6]}********{new_number[-4:]}" in page


def earlier(household, minutes):
    """Move the file's field history back in time, as if it had been saved that long ago."""
    from django.db.models import F

    from households.models import Household, Member

    shift = timedelta(minutes=minutes)
    Household.history.filter(id=household.pk).update(history_date=F("history_date") - shift)
    Member.history.filter(household_id=household.pk).update(history_date=F("history_date") - shift)


def test_a_change_of_secondary_causes_is_in_the_history(login, make_household, orgs, users):
    """Many-to-many fields escape the field history: the causes' codes on the file carry it."""
    from households.models import Cause

    household = make_household()
    client = login("clerk_450102")
    causes = [Cause.objects.get(code=code).pk for code in ("low_income", "unemployment")]
    data = edit_data(orgs, household, secondary_causes=causes)
    assert client.post(reverse("households:edit", args=[household.pk]), data).status_code == 302
    household.refresh_from_db()
    assert household.secondary_cause_codes == "low_income,unemployment"
    earlier(household, minutes=5)  # the next edit is a change set of its own
    data = edit_data(orgs, household, secondary_causes=causes[:1])
    assert client.post(reverse("households:edit", args=[household.pk]), data).status_code == 302
    changes = [
        change
        for entry in timeline_for(household, users["clerk_450102"])
        if entry["kind"] == "history"
        for change in entry["changes"]
        if change["field"] == "次要致困原因"
    ]
    assert [(c["old"], c["new"]) for c in changes] == [  # newest first
        ("低收入、下岗失业", "低收入"),
        ("（空）", "低收入、下岗失业"),
    ]


def test_the_migration_gives_every_history_row_the_causes_of_today(make_household, users):
    """Files with secondary causes before the codes existed: their rows take today's codes, so
    the first edit afterwards shows no invented change."""
    from importlib import import_module

    from django.apps import apps

    from households.models import Cause, Household

    migration = import_module("households.migrations.0011_secondary_cause_codes")
    household = make_household()
    household.secondary_causes.set(Cause.objects.filter(code__in=["disaster", "illness"]))
    other = make_household()
    Household.objects.update(secondary_cause_codes="")
    Household.history.update(secondary_cause_codes="")
    migration.fill_codes(apps, None)
    assert Household.objects.get(pk=household.pk).secondary_cause_codes == "disaster,illness"
    assert set(household.history.values_list("secondary_cause_codes", flat=True)) == {
        "disaster,illness"
    }
    assert Household.objects.get(pk=other.pk).secondary_cause_codes == ""


def test_imported_transitions_are_flagged(make_household, users):
    household = make_household()
    services.transition_apply(
        user=users["clerk_450102"], household=household, action="submit", imported=True
    )
    entries = timeline_for(household, users["clerk_450102"])
    submit = next(e for e in entries if e["title"] == "提交申请")
    assert "导入的历史记录" in submit["flags"]


def test_other_apps_add_their_entries(make_household, users, monkeypatch):
    household = make_household()
    seen = []

    def timeline_entries(household_arg, user):
        seen.append((household_arg, user))
        return [
            {
                "date": TODAY() + timedelta(days=1),
                "kind": "payment",
                "title": "生活救助 500.00 元",
                "detail": "已发放",
                "url": "/funds/payments/1/",
            }
        ]

    module = types.ModuleType("reports.timeline")
    module.timeline_entries = timeline_entries
    monkeypatch.setitem(sys.modules, "reports.timeline", module)
    entries = timeline_for(household, users["clerk_450102"])
    assert seen == [(household, users["clerk_450102"])]
    assert entries[0]["title"] == "生活救助 500.00 元" and entries[0]["app"] == "reports"


def test_each_role_sees_what_it_may_read(make_household, walk, users):
    household = walk(make_household(), "reviewed")
    clerk_kinds = {e["kind"] for e in timeline_for(household, users["clerk_450102"])}
    finance_kinds = {e["kind"] for e in timeline_for(household, users["finance_450102"])}
    assert {"transition", "survey"} <= clerk_kinds
    assert not finance_kinds & {"transition", "survey", "document", "objection", "closure"}


def test_a_file_without_history_edits_has_no_history_entry(make_household, users):
    household = make_household(documents=False)
    entries = timeline_for(household, users["clerk_450102"])
    assert [e["kind"] for e in entries] == ["transition"]
    assert Transition.objects.filter(household=household).count() == 1


def test_an_approval_that_gives_the_category_shows_it_under_the_approval(
    make_household, walk, users
):
    """The approval gives a file filed without a category the suggested one: the trail showed
    that as a separate 修改档案信息 beside 审批建档, as if someone had edited the file."""
    household = walk(make_household(), "on_file")
    assert household.category is not None
    entries = timeline_for(household, users["clerk_450102"])
    assert [e["title"] for e in entries if e["kind"] == "history"] == []
    approval = next(e for e in entries if e["title"] == "审批建档")
    assert [c["field"] for c in approval["changes"]] == ["困难类别"]
    assert approval["changes"][0]["old"] == "（空）"
    # An edit by someone else at another time stays an edit of its own.
    household.phone = "13911112222"
    services.household_update(
        user=users["clerk_450102"],
        household=household,
        members=kept_members(household),
        reason="电话变更",
    )
    entries = timeline_for(household, users["clerk_450102"])
    assert [e["title"] for e in entries if e["kind"] == "history"] == ["修改档案信息"]


# --- My work ---------------------------------------------------------------------------------


def panel(response, title):
    return next(p for p in response.context["work_panels"] if p["title"] == title)


def test_my_work_for_clerks(login, make_household, walk, users):
    make_household()
    walk(make_household(worker_name="李四"), "applied")
    noticed = walk(make_household(worker_name="王五"), "reviewed")
    services.notice_start(
        user=users["clerk_450102"],
        organisation=noticed.organisation,
        households=[noticed],
        starts_on=TODAY(),
        objection_contact="0771-12351",
    )
    response = login("clerk_450102").get("/")
    todo = panel(response, "档案待办")
    counts = {row["label"]: row["count"] for row in todo["rows"]}
    assert counts["草稿（未提交申请）"] == 1
    assert counts["待入户调查和审核"] == 1
    assert counts["5个工作日内公示期满"] == 1
    assert todo["rows"][0]["url"] == "/households/?standing=drafts"
    assert "待我审批" not in [p["title"] for p in response.context["work_panels"]]


def test_my_work_for_supervisors(login, make_household, walk, users):
    waiting = walk(make_household(), "notice")  # its notice started 30 days ago
    response = login("supervisor_450102").get("/")
    approvals = panel(response, "待我审批")
    assert approvals["rows"][0]["count"] == 1
    assert waiting.file_number in approvals["entries"][0]["label"]
    assert "档案待办" not in [p["title"] for p in response.context["work_panels"]]


def test_everyone_sees_the_counts(login, make_household, walk):
    walk(make_household(), "on_file")
    response = login("viewer_450100").get("/")
    overview = panel(response, "困难职工档案")
    on_file = next(row for row in overview["rows"] if row["label"] == "在档")
    assert on_file["count"] == 1 and on_file["url"] == "/households/?status=on_file"
    assert [p["title"] for p in response.context["work_panels"] if "档案" in p["title"]] == [
        "困难职工档案"
    ]


def test_the_standing_lists_page(login, make_household, walk):
    make_household()
    response = login("clerk_450102").get(reverse("households:standing"))
    lists = {entry["key"]: entry for entry in response.context["lists"]}
    assert len(lists["drafts"]["households"]) == 1
    assert lists["exit_candidates"]["households"] == []
    assert lists["drafts"]["url"] == "/households/?standing=drafts"


def test_detail_links_to_assistance_for_a_file_on_file(login, make_household, walk):
    household = walk(make_household(), "on_file")
    body = login("clerk_450102").get(f"/households/{household.pk}/").content.decode()
    assert f"/funds/households/{household.pk}/request/" in body
    assert f"/funds/households/{household.pk}/year/" in body
    draft = make_household()
    body = login("clerk_450102").get(f"/households/{draft.pk}/").content.decode()
    assert f"/funds/households/{draft.pk}/request/" not in body  # file first, help second


def test_a_file_on_record_is_changed_with_a_reason_the_trail_keeps(
    login, make_household, walk, orgs, users
):
    """Who, when, what and why: an approved file's facts change with a reason, shown on the
    trail's entry; an application's own edits need none."""
    draft = make_household()
    client = login("clerk_450102")
    edit = reverse("households:edit", args=[draft.pk])
    assert 'name="change_reason"' not in client.get(edit).content.decode()
    assert client.post(edit, edit_data(orgs, draft, phone="13900000001")).status_code == 302

    household = walk(make_household(), "on_file")
    edit = reverse("households:edit", args=[household.pk])
    assert 'name="change_reason"' in client.get(edit).content.decode()
    response = client.post(edit, edit_data(orgs, household, phone="13900000002"))
    assert response.status_code == 200 and response.context["form"].errors["change_reason"]
    household.refresh_from_db()
    assert household.phone != "13900000002"
    data = edit_data(orgs, household, phone="13900000002", change_reason="职工更换手机号码")
    assert client.post(edit, data).status_code == 302
    edits = [e for e in timeline_for(household, users["clerk_450102"]) if e["kind"] == "history"]
    [entry] = [e for e in edits if any(c["new"] == "13900000002" for c in e["changes"])]
    assert entry["detail"] == "修改原因：职工更换手机号码"
    assert "修改原因：职工更换手机号码" in detail(client, household).content.decode()
    with pytest.raises(ValidationError) as exc:
        services.household_update(user=users["clerk_450102"], household=household, members=[])
    assert "须填写修改原因" in exc.value.message_dict["change_reason"][0]


@pytest.mark.parametrize("state", ["reviewed", "notice"])
def test_a_file_verified_by_survey_or_posted_is_changed_with_a_reason(
    login, make_household, walk, orgs, state
):
    """Its survey and the posted notice no longer say what the file says: the trail says why."""
    household = walk(make_household(), state)
    client = login("clerk_450102")
    edit = reverse("households:edit", args=[household.pk])
    response = client.post(edit, edit_data(orgs, household, phone="13900000003"))
    assert response.status_code == 200 and response.context["form"].errors["change_reason"]
    household.refresh_from_db()
    assert household.phone != "13900000003"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_trail_prints_amounts_as_the_rest_of_the_app(login, make_household, walk, language):
    """A survey's line in the trail and the surveys table: 12,345.60 and 1,000.00, not
    12345.60 and 1000.00, in both languages."""
    household = make_household(worker_income="24691.20")  # and a spouse without income
    household = walk(household, "reviewed")  # surveyed on the way
    client = login("clerk_450102")
    client.cookies["django_language"] = language
    page = detail(client, household).content.decode()
    trail = page[page.index('id="timeline"') :]
    assert "12,345.60" in trail and "1,000.00" in trail
    surveys = page[page.index('id="surveys"') : page.index('id="timeline"')]
    assert "12,345.60" in surveys and "1,000.00" in surveys
    assert "12345.60" not in page and "1000.00" not in page


def test_an_english_change_line_starts_with_a_capital(login, make_household, orgs, users):
    """English verbose names are lowercase ("second responsible person's telephone"); a change
    line starts with the field's name, capitalised."""
    from django.utils import translation

    household = make_household()
    earlier(household, minutes=5)
    data = edit_data(orgs, household, responsible_chair_phone="13907710000")
    client = login("clerk_450102")
    assert client.post(reverse("households:edit", args=[household.pk]), data).status_code == 302
    with translation.override("en"):
        fields = [
            change["field"]
            for entry in timeline_for(household, users["clerk_450102"])
            if entry["kind"] == "history"
            for change in entry["changes"]
        ]
    assert "Second responsible person's telephone" in fields


def test_the_english_survey_line_reads_as_a_sentence(make_household, walk, users):
    """ "…, dibao line 1,000.00 yuan: Above the dibao line": the field's label mid-sentence."""
    from decimal import Decimal

    from django.utils import translation

    from households.models import Survey

    household = walk(make_household(), "on_file")
    Survey.objects.create(
        household=household,
        period=household.current_period,
        surveyed_on=TODAY(),
        surveyors="王",
        findings="入户",
        per_capita_income=Decimal("1200.00"),
        dibao_line=Decimal("1000.00"),
        is_above_line=True,
        recorded_by=household.created_by,
    )

    def survey_detail():
        entries = timeline_for(household, users["clerk_450102"])
        return next(e for e in entries if e["kind"] == "survey")["detail"].splitlines()[0]

    with translation.override("en"):
        assert survey_detail().endswith("1,000.00 yuan: above the dibao line")
    assert survey_detail() == "核实月人均收入 1,200.00 元，低保标准 1,000.00 元，高于低保标准"
