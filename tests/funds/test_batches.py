"""批量申请帮扶 (funds/batches.py): the preview applies the single request's rules to each
household and writes nothing; the confirmation writes every passing request or none, never
twice; the queries do not grow with the households."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funds import batches, services
from funds.batches import Selection, Terms
from funds.models import AssistanceRequest, OneProjectRule, RequestState, Tier
from households import services as household_services
from households.models import Household

D = Decimal
YEAR = timezone.localdate().year


@pytest.fixture
def money(receive):
    receive("100000.00", on=date(YEAR, 1, 2))


@pytest.fixture
def festival(standard):
    """The region's 送温暖 standard: 1,000 yuan, once a year, other projects warned of."""
    return standard("festival", year=YEAR, amount_cap=D("1000.00"), times_per_year=1)


def terms(types, sources, **fields):
    return Terms(
        assistance_type=types[fields.pop("kind", "festival")],
        source=sources[fields.pop("source", "central")],
        reason=fields.pop("reason", f"{YEAR}年春节送温暖"),
        **fields,
    )


def counts():
    return AssistanceRequest.objects.count(), AssistanceRequest.history.count()


def by_number(preview):
    return {row.household.file_number: row for row in preview.rows}


def test_the_preview_applies_the_single_rules_and_writes_nothing(
    filed, money, festival, ask, users, types, sources
):
    ready = filed(worker_name="张一")
    no_account = filed(worker_name="张二", bank_account="")
    visited = filed(worker_name="张三")
    ask(visited, "1000.00", kind="festival", on=date(YEAR, 1, 5))  # its one visit this year
    helped = filed(worker_name="张四")
    ask(helped, "300.00", kind="living", on=date(YEAR, 1, 5))
    before = counts()

    preview = batches.batch_preview(
        user=users["clerk_450102"], selection=Selection(), terms=terms(types, sources)
    )

    assert counts() == before
    rows = by_number(preview)
    assert set(rows) == {h.file_number for h in (ready, no_account, visited, helped)}
    assert rows[ready.file_number].request.amount == D("1000.00")  # the standard's amount
    assert "档案未登记本人银行账号" in " ".join(rows[no_account.file_number].reasons)
    assert "送温暖每年最多 1 次" in " ".join(rows[visited.file_number].reasons)
    # one project a year warns (the standard's rule): created, the warning shown
    assert rows[helped.file_number].request is not None
    assert "一户一年原则上只享受一个帮扶项目" in rows[helped.file_number].warnings[0]
    assert len(preview.creatable) == 2 and preview.total == D("2000.00")
    [balance] = preview.balances
    assert balance.available == D("100000.00") and balance.requested == D("2000.00")


def test_each_reason_is_the_single_requests_own_refusal(
    filed, money, festival, ask, users, types, sources, standard
):
    """Not a copy of the rules: what request_create refuses, in its words, is what the
    preview says of the same household."""
    festival.one_project_rule = OneProjectRule.BLOCK
    festival.save()
    households = [filed(bank_account=""), filed(), filed()]
    ask(households[1], "1000.00", kind="festival", on=date(YEAR, 1, 5))
    ask(households[2], "300.00", kind="living", on=date(YEAR, 1, 5))
    clerk = users["clerk_450102"]
    preview = batches.batch_preview(
        user=clerk, selection=Selection(), terms=terms(types, sources, amount=D("800.00"))
    )
    rows = by_number(preview)
    for household in households:
        with pytest.raises(ValidationError) as refusal:
            services.request_create(
                user=clerk,
                household=household,
                assistance_type=types["festival"],
                source=sources["central"],
                amount=D("800.00"),
                reason=f"{YEAR}年春节送温暖",
            )
        single = refusal.value.messages
        if SINGLE_HINT in single:  # a field the batch has not: see the test below
            single = [message for message in single if message != SINGLE_HINT] + [BATCH_HINT]
        assert rows[household.file_number].reasons == single


SINGLE_HINT = "如确需突破标准，请填写申请突破标准的理由，由审批人决定。"
BATCH_HINT = "如确需突破标准，请为该户单独申请帮扶并填写突破标准的理由。"


def test_a_household_above_the_standard_is_told_to_be_requested_alone(
    filed, money, festival, ask, users, types, sources
):
    """The single request's refusal asks for the reason to exceed the standard, a field the
    batch page has not (clerks looked for it): the batch says to request that one alone."""
    visited = filed()
    ask(visited, "1000.00", kind="festival", on=date(YEAR, 1, 5))
    preview = batches.batch_preview(
        user=users["clerk_450102"], selection=Selection(), terms=terms(types, sources)
    )
    [row] = preview.skipped
    assert "送温暖每年最多 1 次" in row.reasons[0]
    assert row.reasons[-1] == BATCH_HINT
    assert SINGLE_HINT not in row.reasons


def test_a_file_not_on_file_is_skipped_with_the_single_reason(
    filed, money, festival, users, types, sources
):
    household = filed()
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="exit",
        effective_date=timezone.localdate(),
        reason="收入超过低保标准",
    )
    household.refresh_from_db()
    # filters take only files on file or relieved; a pasted number shows why it is skipped
    preview = batches.batch_preview(
        user=users["clerk_450102"], selection=Selection(), terms=terms(types, sources)
    )
    assert preview.rows == []
    preview = batches.batch_preview(
        user=users["clerk_450102"],
        selection=Selection(file_numbers=household.file_number),
        terms=terms(types, sources),
    )
    [row] = preview.rows
    assert row.request is None and "不是在档或解困" in row.reasons[0]


def test_confirm_writes_each_request_as_a_single_one(
    filed, money, festival, users, types, sources, ask
):
    first, second = filed(worker_name="王一"), filed(worker_name="王二")
    clerk = users["clerk_450102"]
    wanted = terms(types, sources)
    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)

    created = batches.batch_requests_create(
        user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
    )

    assert {r.household for r in created} == {first, second}
    single = ask(filed(), "1000.00", kind="festival", reason=f"{YEAR}年春节送温暖")
    fields = ["organisation", "assistance_type", "tier", "source", "amount", "reason", "year"]
    fields += ["requested_on", "state", "requested_by", "standard", "approvals_required"]
    for request in AssistanceRequest.objects.filter(pk__in=[r.pk for r in created]):
        assert [getattr(request, f) for f in fields] == [getattr(single, f) for f in fields]
        assert request.state == RequestState.REQUESTED and request.requested_by == clerk
        assert request.requested_at is not None
        [history] = request.history.all()
        assert history.history_user == clerk and history.history_type == "+"


def test_all_or_nothing_when_a_household_fails_since_the_preview(
    filed, money, festival, users, types, sources, ask
):
    households = [filed(), filed(), filed()]
    clerk = users["clerk_450102"]
    wanted = terms(types, sources)
    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)
    assert len(preview.creatable) == 3
    ask(households[1], "500.00", kind="festival")  # a colleague visits one meanwhile
    before = counts()

    with pytest.raises(batches.BatchChanged) as changed:
        batches.batch_requests_create(
            user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
        )

    assert counts() == before
    rows = by_number(changed.value.preview)
    assert "送温暖每年最多 1 次" in rows[households[1].file_number].reasons[0]
    assert len(changed.value.preview.creatable) == 2


def test_other_terms_than_those_previewed_write_nothing(
    filed, money, festival, users, types, sources
):
    filed()
    clerk = users["clerk_450102"]
    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=terms(types, sources))
    with pytest.raises(batches.BatchChanged):
        batches.batch_requests_create(
            user=clerk,
            selection=Selection(),
            terms=terms(types, sources, amount=D("900.00")),
            preview_key=preview.key,
        )
    assert AssistanceRequest.objects.count() == 0


def test_a_second_confirmation_creates_no_duplicates(filed, money, festival, users, types, sources):
    festival.times_per_year = None  # no frequency: only the duplicate rule stops a repeat
    festival.save()
    filed(), filed()
    clerk = users["clerk_450102"]
    wanted = terms(types, sources)
    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)
    batches.batch_requests_create(
        user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
    )
    before = counts()

    with pytest.raises(batches.BatchChanged) as changed:
        batches.batch_requests_create(
            user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
        )

    assert counts() == before == (2, 2)
    assert all("请勿重复提交" in row.reasons[0] for row in changed.value.preview.rows)


def test_a_household_granted_the_type_this_year_is_skipped_unless_asked(
    filed, money, festival, ask, users, types, sources
):
    """A festival round run again for the files filed since: where the standard sets no number
    of times, the households already visited would get a second visit."""
    festival.times_per_year = None
    festival.save()
    visited, new = filed(worker_name="已慰问"), filed(worker_name="新建档")
    ask(visited, "800.00", kind="festival", on=date(YEAR, 1, 5))
    clerk = users["clerk_450102"]

    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=terms(types, sources))
    rows = by_number(preview)
    assert rows[visited.file_number].request is None
    assert rows[visited.file_number].reasons == [
        f"本年已有送温暖申请（{YEAR}-01-05，800.00 元，待审批）。"
    ]
    assert rows[new.file_number].request is not None

    again = terms(types, sources, repeat=True)
    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=again)
    assert all(row.request is not None for row in preview.rows)
    created = batches.batch_requests_create(
        user=clerk, selection=Selection(), terms=again, preview_key=preview.key
    )
    assert {r.household_id for r in created} == {visited.pk, new.pk}


def test_filters_pick_the_files_of_the_subtree(filed, money, festival, users, orgs, types, sources):
    deep = filed(category="deep")
    relative = filed(category="relative")
    other_county = filed(org="450103")
    clerk = users["clerk_450102"]
    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=terms(types, sources))
    assert {row.household for row in preview.rows} == {deep, relative}
    preview = batches.batch_preview(
        user=clerk, selection=Selection(category=relative.category), terms=terms(types, sources)
    )
    assert [row.household for row in preview.rows] == [relative]
    # the region's viewer-level organisation filter keeps to the subtree too
    preview = batches.batch_preview(
        user=users["clerk_450103"],
        selection=Selection(organisation=orgs["450103"]),
        terms=terms(types, sources),
    )
    assert [row.household for row in preview.rows] == [other_county]


def test_pasted_numbers_name_the_lines_they_cannot_use(
    filed, money, festival, users, types, sources
):
    mine = filed()
    theirs = filed(org="450103")
    pasted = f"{mine.file_number}\n\nNOSUCH-1\n{theirs.file_number}\n  {mine.file_number}  \n"
    clerk = users["clerk_450102"]
    wanted = terms(types, sources)
    preview = batches.batch_preview(
        user=clerk, selection=Selection(file_numbers=pasted), terms=wanted
    )
    assert [(row.line, row.household) for row in preview.rows] == [(1, mine)]
    assert preview.errors == [
        "第3行：没有档案编号为 NOSUCH-1 的档案，或不在您的管辖范围内。",
        f"第4行：没有档案编号为 {theirs.file_number} 的档案，或不在您的管辖范围内。",
        f"第5行：档案编号 {mine.file_number} 与第1行重复。",
    ]
    assert not preview.can_confirm
    with pytest.raises(batches.BatchChanged):
        batches.batch_requests_create(
            user=clerk,
            selection=Selection(file_numbers=pasted),
            terms=wanted,
            preview_key=preview.key,
        )
    assert AssistanceRequest.objects.count() == 0


def test_a_batch_is_capped(filed, money, festival, users, types, sources, monkeypatch):
    filed(), filed(), filed()
    monkeypatch.setattr(batches, "MAX_HOUSEHOLDS", 2)
    clerk = users["clerk_450102"]
    for selection in (Selection(), Selection(file_numbers="A\nB\nC")):
        with pytest.raises(ValidationError, match="一次最多为 2 户申请"):
            batches.batch_preview(user=clerk, selection=selection, terms=terms(types, sources))


def test_the_standard_amount_is_needed_when_no_amount_is_typed(filed, money, users, types, sources):
    household = filed()
    preview = batches.batch_preview(
        user=users["clerk_450102"], selection=Selection(), terms=terms(types, sources)
    )
    [row] = preview.rows
    assert row.household == household and "没有每次金额" in row.reasons[0]


@pytest.mark.parametrize("role", ["supervisor", "finance", "viewer", "admin"])
def test_only_those_who_request_may_batch(filed, festival, users, types, sources, role):
    filed()
    user = users[f"{role}_450100" if role == "viewer" else f"{role}_450102"]
    with pytest.raises(PermissionDenied):
        batches.batch_preview(user=user, selection=Selection(), terms=terms(types, sources))
    with pytest.raises(PermissionDenied):
        batches.batch_requests_create(
            user=user, selection=Selection(), terms=terms(types, sources), preview_key=""
        )


def test_queries_grow_little_with_the_households(filed, money, festival, users, types, sources):
    clerk = users["clerk_450102"]
    wanted = terms(types, sources)
    measured = []
    for count in (5, 25):
        while Household.objects.filter(assistance_requests__isnull=True).count() < count:
            filed()
        with CaptureQueriesContext(connection) as previewing:
            preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)
        assert len(preview.creatable) == count
        with CaptureQueriesContext(connection) as creating:
            created = batches.batch_requests_create(
                user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
            )
        assert len(created) == count
        measured.append((len(previewing), len(creating)))
        AssistanceRequest.history.all().delete()
        AssistanceRequest.objects.all().delete()
    (preview_5, create_5), (preview_25, create_25) = measured
    assert preview_25 - preview_5 <= 2, measured
    assert create_25 - create_5 <= 2, measured


def test_the_batch_uses_the_services_public_checks():
    """The permission and date checks the batch shares with request_create are public names of
    funds.services, not its private helpers (renaming one would break the batch unseen)."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(batches.__file__).read_text())
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "funds.services"
        for alias in node.names
    ]
    assert imported and not [name for name in imported if name.startswith("_")], imported
    assert batches.check_permission is services.check_permission
    assert batches.check_date is services.check_date


# --- Standards per person: 金秋助学, one request per student ------------------------------


@pytest.fixture
def per_student(standard):
    """The region's 助学 for university students: 5,000 yuan, once a year per student."""
    return standard(
        "schooling",
        year=YEAR,
        tier=Tier.COLLEGE,
        amount_cap=D("5000.00"),
        times_per_year=1,
        scope="person",
    )


def schooling(types, sources, **fields):
    fields = {"tier": Tier.COLLEGE, "reason": f"{YEAR}年金秋助学", **fields}
    return terms(types, sources, kind="schooling", **fields)


def member_rows(preview, household):
    return {row.member.name: row for row in preview.rows if row.household == household}


def test_schooling_aid_is_one_request_per_student_of_the_stage(
    filed, money, per_student, add_students, ask, users, types, sources
):
    """The 金秋助学 round, skipped whole before ("request alone"): each university student of
    each file gets a request of their own; other members, and files with none, do not."""
    two = filed(worker_name="两名大学生")
    first, second = add_students(two, "王一", "王二")
    add_students(two, "王小", stage="senior")  # another stage: another tier's round
    none = filed(worker_name="无学生")
    helped = filed(worker_name="已资助")
    done, due = add_students(helped, "李一", "李二")
    ask(
        helped,
        "5000.00",
        kind="schooling",
        tier=Tier.COLLEGE,
        beneficiary=done,
        on=date(YEAR, 1, 5),
    )
    clerk = users["clerk_450102"]
    wanted = schooling(types, sources)
    before = counts()

    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)

    assert counts() == before
    assert set(member_rows(preview, two)) == {"王一", "王二"}
    assert all(row.request.amount == D("5000.00") for row in member_rows(preview, two).values())
    [skipped] = [row for row in preview.rows if row.household == none]
    assert skipped.member is None
    assert skipped.reasons == ["档案中没有就学阶段为大学（专科、本科）的成员。"]
    rows = member_rows(preview, helped)
    assert "每人每年最多 1 次" in rows["李一"].reasons[0]
    assert rows["李二"].request is not None
    assert len(preview.creatable) == 3 and preview.total == D("15000.00")
    assert preview.households == 3 and preview.households_creatable == 2
    assert preview.households_without == 1 and preview.members_skipped == 1
    [balance] = preview.balances
    assert balance.requested == D("15000.00") and balance.pending == D("5000.00")
    # the households with a row skipped come first, each with its rows together
    assert [group.household for group in preview.groups] == [none, helped, two]

    created = batches.batch_requests_create(
        user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
    )

    assert {(r.household, r.beneficiary) for r in created} == {
        (two, first),
        (two, second),
        (helped, due),
    }
    alone = filed()
    [student] = add_students(alone, "赵一")
    single = ask(
        alone,
        "5000.00",
        kind="schooling",
        tier=Tier.COLLEGE,
        beneficiary=student,
        reason=f"{YEAR}年金秋助学",
    )
    fields = ["organisation", "assistance_type", "tier", "source", "amount", "reason", "year"]
    fields += ["requested_on", "state", "requested_by", "standard", "approvals_required"]
    for request in AssistanceRequest.objects.filter(pk__in=[r.pk for r in created]):
        assert [getattr(request, f) for f in fields] == [getattr(single, f) for f in fields]
        assert request.beneficiary_name == request.beneficiary.name
        assert request.beneficiary_id_hash == request.beneficiary.id_hash != ""
        assert request.history.get().history_user == clerk


def test_each_members_reason_is_the_single_requests_own_refusal(
    filed, money, per_student, add_students, ask, users, types, sources
):
    per_student.amount_cap = None  # the batch's amount: above the cap of one member's tier
    per_student.annual_months_deep = D("12")  # the dibao line is 1,000: 12,000 a household
    per_student.times_per_year = 2
    per_student.save()
    household = filed()
    first, second, third = add_students(household, "孙一", "孙二", "孙三")
    ask(
        household,
        "2000.00",
        kind="schooling",
        tier=Tier.COLLEGE,
        beneficiary=first,
        on=date(YEAR, 1, 5),
    )
    clerk = users["clerk_450102"]
    wanted = schooling(types, sources, amount=D("4000.00"), repeat=True)

    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)

    # Each member is checked with the batch's requests before it counted, as if saved one
    # after another: 孙一's 2,000 before, then 4,000 each for 孙一 and 孙二, fit the
    # household's 12,000; 4,000 more for 孙三 does not.
    rows = member_rows(preview, household)
    assert rows["孙一"].request is not None and rows["孙二"].request is not None
    assert "每户每年不超过 12 个月低保标准" in rows["孙三"].reasons[0]
    batches.batch_requests_create(
        user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
    )
    with pytest.raises(ValidationError) as refusal:
        ask(
            household,
            "4000.00",
            kind="schooling",
            tier=Tier.COLLEGE,
            beneficiary=third,
            reason=f"{YEAR}年金秋助学",
        )
    assert rows["孙三"].reasons == [
        BATCH_HINT if message == SINGLE_HINT else message for message in refusal.value.messages
    ]
    assert AssistanceRequest.objects.filter(beneficiary=second).count() == 1


def test_a_member_granted_the_type_this_year_is_skipped_unless_asked(
    filed, money, per_student, add_students, ask, users, types, sources
):
    per_student.times_per_year = None  # no frequency: only the batch's own question stops it
    per_student.save()
    household = filed()
    add_students(household, "周一", "周二")
    first = household.members.get(name="周一")
    ask(
        household,
        "3000.00",
        kind="schooling",
        tier=Tier.COLLEGE,
        beneficiary=first,
        on=date(YEAR, 1, 5),
    )
    clerk = users["clerk_450102"]

    preview = batches.batch_preview(
        user=clerk, selection=Selection(), terms=schooling(types, sources)
    )
    rows = member_rows(preview, household)
    assert rows["周一"].reasons == [f"周一 本年已有助学申请（{YEAR}-01-05，3000.00 元，待审批）。"]
    assert rows["周二"].request is not None

    preview = batches.batch_preview(
        user=clerk, selection=Selection(), terms=schooling(types, sources, repeat=True)
    )
    assert all(row.request is not None for row in preview.rows)


def test_the_general_tier_of_schooling_aid_takes_every_student(
    filed, money, standard, add_students, users, types, sources
):
    standard("schooling", year=YEAR, amount_cap=D("2000.00"), times_per_year=1, scope="person")
    household = filed()
    add_students(household, "吴一", stage="primary")
    add_students(household, "吴二", stage="vocational")
    add_students(household, "吴小", stage="preschool")  # no student yet
    preview = batches.batch_preview(
        user=users["clerk_450102"],
        selection=Selection(),
        terms=schooling(types, sources, tier=Tier.GENERAL),
    )
    assert set(member_rows(preview, household)) == {"吴一", "吴二"}
    assert preview.total == D("4000.00")


def test_a_per_person_standard_the_file_cannot_tell_whom_for_is_requested_alone(
    filed, money, festival, users, types, sources
):
    """Who benefits from a per-person festival visit is the clerk's to say, not the file's."""
    festival.scope = "person"
    festival.save()
    filed()
    preview = batches.batch_preview(
        user=users["clerk_450102"], selection=Selection(), terms=terms(types, sources)
    )
    [row] = preview.rows
    assert row.reasons == [
        "送温暖按人计算次数，批量申请无法确定受助成员：请为该户单独申请并选择受助成员。"
    ]


@pytest.mark.parametrize("scope", ["household", "person"])
def test_medical_aid_needs_each_households_out_of_pocket_cost(
    filed, money, standard, users, types, sources, scope
):
    standard(
        "medical",
        year=YEAR,
        amount_cap=D("2000.00"),
        cap_out_of_pocket=True,
        scope=scope,
    )
    filed()
    preview = batches.batch_preview(
        user=users["clerk_450102"],
        selection=Selection(),
        terms=terms(types, sources, kind="medical", reason="大病救助"),
    )
    [row] = preview.rows
    assert row.member is None
    assert row.reasons == [
        "医疗救助须填写个人自付费用。",
        "个人自付费用须逐户填写：请为该户单独申请。",
    ]


def test_a_student_added_since_the_preview_writes_nothing(
    filed, money, per_student, add_students, users, types, sources
):
    household = filed()
    add_students(household, "郑一")
    clerk = users["clerk_450102"]
    wanted = schooling(types, sources)
    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)
    add_students(household, "郑二")  # the file is updated meanwhile

    with pytest.raises(batches.BatchChanged) as changed:
        batches.batch_requests_create(
            user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
        )

    assert AssistanceRequest.objects.count() == 0
    assert set(member_rows(changed.value.preview, household)) == {"郑一", "郑二"}


@pytest.mark.parametrize(
    ("standards", "tier", "school"),
    [
        ("per_student", Tier.COLLEGE, ("college", "college")),  # one tier's students
        ("stages", batches.BY_STAGE, ("senior", "postgraduate")),  # each at their stage's tier
    ],
)
def test_per_student_queries_grow_little_with_the_households(
    request, filed, money, add_students, users, types, sources, standards, tier, school
):
    request.getfixturevalue(standards)
    clerk = users["clerk_450102"]
    wanted = schooling(types, sources, tier=tier)
    measured = []
    for count in (3, 12):
        while Household.objects.count() < count:
            household = filed()
            for name, stage in zip(("学生甲", "学生乙"), school, strict=True):
                add_students(household, name, stage=stage)
        with CaptureQueriesContext(connection) as previewing:
            preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)
        assert len(preview.creatable) == 2 * count
        with CaptureQueriesContext(connection) as creating:
            created = batches.batch_requests_create(
                user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
            )
        assert len(created) == 2 * count
        measured.append((len(previewing), len(creating)))
        AssistanceRequest.history.all().delete()
        AssistanceRequest.objects.all().delete()
    (preview_3, create_3), (preview_12, create_12) = measured
    assert preview_12 - preview_3 <= 2, measured
    assert create_12 - create_3 <= 2, measured


# --- The balance with what is pending ---------------------------------------------------


def test_the_balance_counts_what_pending_requests_claim(
    filed, receive, festival, ask, approve, users, types, sources
):
    """Approval checks the approved money only: a batch that fits it may still overdraw once
    the requests already waiting are approved. A warning, the batch is not refused."""
    receive("3000.00", on=date(YEAR, 1, 2))
    approved, waiting, other_source = filed(), filed(), filed()
    approve(ask(approved, "500.00", kind="living", on=date(YEAR, 1, 5)))
    ask(waiting, "1200.00", kind="living", on=date(YEAR, 1, 5))
    ask(other_source, "900.00", kind="living", source="regional", on=date(YEAR, 1, 5))
    ask(filed(), "700.00", kind="living", on=date(YEAR, 1, 5))
    rejected = ask(filed(), "400.00", kind="living", on=date(YEAR, 1, 5))
    services.request_reject(user=users["supervisor_450102"], request=rejected, reason="不符合")
    ready = [filed(), filed()]
    clerk = users["clerk_450102"]

    preview = batches.batch_preview(
        user=clerk,
        selection=Selection(file_numbers="\n".join(h.file_number for h in ready)),
        terms=terms(types, sources),
    )

    [balance] = preview.balances
    assert balance.available == D("2500.00")  # 3,000 less the 500 approved
    assert balance.pending == D("1900.00")  # 1,200 + 700 awaiting; not rejected, other source
    assert balance.requested == D("2000.00")
    assert balance.remainder == D("-1400.00")
    assert not balance.short and balance.short_with_pending
    assert preview.can_confirm
    alone = batches.Balance(preview.balances[0].organisation, D("2500.00"), D("2600.00"))
    assert alone.short and not alone.short_with_pending


# --- 金秋助学 across school stages: each student's tier by their stage -------------------------


@pytest.fixture
def stages(standard):
    """The region's 助学 per student by stage: 高中、中职 2,000, 大学 5,000, 研究生 8,000."""
    for tier, cap in ((Tier.SENIOR, "2000.00"), (Tier.COLLEGE, "5000.00")):
        standard("schooling", year=YEAR, tier=tier, amount_cap=D(cap), scope="person")
    return standard(
        "schooling", year=YEAR, tier=Tier.POSTGRADUATE, amount_cap=D("8000.00"), scope="person"
    )


def test_by_stage_each_student_gets_the_tier_of_their_stage(
    filed, money, stages, add_students, ask, users, types, sources
):
    """One round across the stages, one batch a stage before: each student under their own
    stage's tier at its amount, a stage without a tier skipped and said so, totals per tier."""
    family = filed(worker_name="三名学生")
    (senior,) = add_students(family, "陈高", stage="senior")
    (college,) = add_students(family, "陈大", stage="college")
    (graduate,) = add_students(family, "陈研", stage="postgraduate")
    add_students(family, "陈小", stage="primary")  # 义务教育: no tier of its own, no general
    none = filed(worker_name="无学生")
    other = filed(worker_name="中职生")
    (vocational,) = add_students(other, "林职", stage="vocational")
    clerk = users["clerk_450102"]
    wanted = schooling(types, sources, tier=batches.BY_STAGE)
    before = counts()

    preview = batches.batch_preview(user=clerk, selection=Selection(), terms=wanted)

    assert counts() == before
    rows = member_rows(preview, family)
    assert {
        name: (row.request.tier, row.request.amount) for name, row in rows.items() if row.request
    } == {
        "陈高": (Tier.SENIOR, D("2000.00")),
        "陈大": (Tier.COLLEGE, D("5000.00")),
        "陈研": (Tier.POSTGRADUATE, D("8000.00")),
    }
    assert rows["陈小"].reasons == [
        "陈小 的就学阶段为小学，助学没有该阶段的细分标准"
        "（有：高中、中职、大学（专科、本科）、研究生）。"
    ]
    [skipped] = [row for row in preview.rows if row.household == none]
    assert skipped.member is None and skipped.reasons == [
        "档案中没有就学阶段为小学、初中、高中、中职、大学（专科、本科）、研究生的成员。"
    ]
    assert member_rows(preview, other)["林职"].request.tier == Tier.SENIOR
    assert preview.by_stage and preview.members_skipped == 1
    assert [(t.label, t.count, t.total) for t in preview.tier_totals] == [
        ("高中、中职", 2, D("4000.00")),
        ("大学（专科、本科）", 1, D("5000.00")),
        ("研究生", 1, D("8000.00")),
    ]
    assert preview.total == D("17000.00")

    created = batches.batch_requests_create(
        user=clerk, selection=Selection(), terms=wanted, preview_key=preview.key
    )

    assert {(r.beneficiary, r.tier, r.amount, r.standard.tier) for r in created} == {
        (senior, Tier.SENIOR, D("2000.00"), Tier.SENIOR),
        (college, Tier.COLLEGE, D("5000.00"), Tier.COLLEGE),
        (graduate, Tier.POSTGRADUATE, D("8000.00"), Tier.POSTGRADUATE),
        (vocational, Tier.SENIOR, D("2000.00"), Tier.SENIOR),
    }
    # each as the single request of that tier would be
    alone = filed()
    [student] = add_students(alone, "赵研", stage="postgraduate")
    single = ask(
        alone,
        "8000.00",
        kind="schooling",
        tier=Tier.POSTGRADUATE,
        beneficiary=student,
        reason=f"{YEAR}年金秋助学",
    )
    fields = ["organisation", "assistance_type", "tier", "source", "amount", "reason", "year"]
    fields += ["requested_on", "state", "requested_by", "standard", "approvals_required"]
    made = AssistanceRequest.objects.get(beneficiary=graduate)
    assert [getattr(made, f) for f in fields] == [getattr(single, f) for f in fields]


def test_by_stage_a_stage_without_a_tier_takes_the_general_one(
    filed, money, standard, add_students, users, types, sources
):
    standard("schooling", year=YEAR, amount_cap=D("1000.00"), scope="person")
    standard("schooling", year=YEAR, tier=Tier.COLLEGE, amount_cap=D("5000.00"), scope="person")
    household = filed()
    add_students(household, "吴小", stage="primary")
    add_students(household, "吴大", stage="college")
    add_students(household, "吴幼", stage="preschool")  # no student yet: no row
    preview = batches.batch_preview(
        user=users["clerk_450102"],
        selection=Selection(),
        terms=schooling(types, sources, tier=batches.BY_STAGE),
    )
    rows = member_rows(preview, household)
    assert {name: row.request.tier for name, row in rows.items()} == {
        "吴小": Tier.GENERAL,
        "吴大": Tier.COLLEGE,
    }


def test_by_stage_needs_tiers_by_stage_and_the_standard_amounts(
    filed, money, festival, stages, add_students, users, types, sources
):
    add_students(filed(), "何大")
    clerk = users["clerk_450102"]
    with pytest.raises(ValidationError) as refused:
        batches.batch_preview(
            user=clerk,
            selection=Selection(),
            terms=schooling(types, sources, tier=batches.BY_STAGE, amount=D("3000.00")),
        )
    assert refused.value.message_dict["amount"] == [
        "按就学阶段匹配档次时，每人按其档次标准的每次金额申请：金额请留空。"
    ]
    preview = batches.batch_preview(
        user=clerk, selection=Selection(), terms=terms(types, sources, tier=batches.BY_STAGE)
    )
    [row] = preview.rows
    assert row.reasons == [f"送温暖 {YEAR}年的标准没有按就学阶段的细分标准：请选择一个细分标准。"]
    stages.amount_cap = None
    stages.save()
    add_students(filed(), "何研", stage="postgraduate")
    preview = batches.batch_preview(
        user=clerk, selection=Selection(), terms=schooling(types, sources, tier=batches.BY_STAGE)
    )
    [skipped] = preview.skipped
    assert skipped.member.name == "何研" and skipped.reasons == [
        f"助学 {YEAR}年“研究生”的标准没有每次金额：请为该档次单独批量申请并填写金额。"
    ]
