"""Assistance requests: file first, the standards (caps, frequency, one project a year) with a
supervisor's override, segregation of duties, second approvals and committed money."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from funds import selectors, services, standards
from funds.models import Approval, AssistanceRequest, RequestState, Tier
from households import services as household_services
from households.models import DibaoStandard
from tests.households.conftest import kept_members

D = Decimal
YEAR = timezone.localdate().year


def refuse(call, message, field=None):
    before = (AssistanceRequest.objects.count(), Approval.objects.count())
    states = list(AssistanceRequest.objects.order_by("pk").values_list("state", flat=True))
    with pytest.raises(ValidationError) as exc:
        call()
    messages = exc.value.message_dict[field] if field else exc.value.messages
    assert any(message in text for text in messages), messages
    assert (AssistanceRequest.objects.count(), Approval.objects.count()) == before
    assert list(AssistanceRequest.objects.order_by("pk").values_list("state", flat=True)) == states
    return exc.value


@pytest.fixture
def household(filed, receive):
    receive("100000.00", on=date(YEAR, 1, 2))
    return filed()


# --- File first, real names ------------------------------------------------------------------


def test_a_request_records_who_what_and_for_whom(household, ask, users):
    request = ask(household, "500.00", kind="living")
    assert request.state == RequestState.REQUESTED
    assert request.organisation == household.organisation
    assert request.year == YEAR
    assert request.requested_by == users["clerk_450102"]
    assert request.approvals_required == 1
    assert request.waiting_for == "兴宁区总工会审批人"


def test_no_request_for_a_file_not_on_file(make_household, ask, walk, receive):
    receive("1000.00", on=date(YEAR, 1, 2))
    draft = make_household(bank_account="6222020200112233445")
    refuse(lambda: ask(draft, "100.00"), "不是在档或解困", "requested_on")
    noticed = walk(make_household(bank_account="6222020200112233446"), "notice")
    refuse(lambda: ask(noticed, "100.00"), "公示中", "requested_on")


def test_no_request_dated_before_the_file_was_on_file(household, ask):
    refuse(lambda: ask(household, "100.00", on=date(2015, 6, 1)), "未建档", "requested_on")


def test_no_request_for_a_closed_file(household, ask, users):
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="exit",
        reason="收入超过低保标准",
        effective_date=date(2020, 6, 30),
    )
    refuse(lambda: ask(household, "100.00"), "脱困", "requested_on")
    ask(household, "100.00", on=date(2020, 6, 1))  # while it was still on file


def test_a_relieved_file_is_still_helped(household, ask, users):
    household_services.transition_apply(
        user=users["supervisor_450102"],
        household=household,
        action="relieve",
        reason="重病，纳入政府兜底",
        effective_date=date(2020, 6, 30),
    )
    assert ask(household, "100.00").state == RequestState.REQUESTED


def test_no_request_without_a_bank_account(filed, ask, receive):
    refuse(lambda: ask(filed(bank_account="", bank_name=""), "100.00"), "银行账号", "household")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "大于零"), ("-5", "大于零"), ("10.555", "两位小数")],
)
def test_bad_amounts_are_refused(household, ask, amount, message):
    refuse(lambda: ask(household, amount), message, "amount")


def test_reason_is_required_and_beneficiary_must_be_of_the_household(household, filed, ask):
    refuse(lambda: ask(household, "100.00", reason=" "), "申请理由", "reason")
    stranger = filed(worker_name="王五").members.exclude(relation="self").get()
    refuse(lambda: ask(household, "100.00", beneficiary=stranger), "不是本户成员", "beneficiary")


def test_only_clerks_of_the_subtree_request(household, ask):
    for username in ("supervisor_450102", "finance_450102", "viewer_450000", "clerk_450103"):
        with pytest.raises(PermissionDenied):
            ask(household, "100.00", by=username)
    assert AssistanceRequest.objects.count() == 0


# --- Standards: caps, frequency, one project, override -----------------------------------


def test_a_fixed_cap_is_refused_naming_the_rule(household, ask, standard):
    standard("living", year=YEAR, amount_cap=D("500.00"), times_per_year=2)
    error = refuse(lambda: ask(household, "500.01", kind="living"), "每次最高 500.00 元")
    assert f"广西壮族自治区总工会 {YEAR}年标准" in error.messages[0]
    ask(household, "500.00", kind="living")


def test_the_frequency_per_year(household, ask, standard):
    standard("living", year=YEAR, amount_cap=D("500.00"), times_per_year=2)
    ask(household, "500.00", kind="living")
    ask(household, "400.00", kind="living")
    refuse(lambda: ask(household, "300.00", kind="living"), "每年最多 2 次")


def test_rejected_and_cancelled_requests_do_not_count(household, ask, users, standard):
    standard("living", year=YEAR, times_per_year=1)
    first = ask(household, "500.00", kind="living")
    services.request_reject(user=users["supervisor_450102"], request=first, reason="材料不全")
    second = ask(household, "500.00", kind="living")
    services.request_cancel(user=users["clerk_450102"], request=second, reason="重复录入")
    ask(household, "500.00", kind="living")


@pytest.mark.parametrize(("category", "cap"), [("deep", "12000.00"), ("relative", "8000.00")])
def test_living_aid_at_most_months_of_the_dibao_line(filed, receive, ask, standard, category, cap):
    receive("100000.00", on=date(YEAR, 1, 2))
    household = filed(category=category)
    standard(
        "living", year=YEAR, annual_months_deep=D("12"), annual_months_relative=D("8")
    )  # the dibao line of the tests is 1,000 a month
    ask(household, D(cap) - D("1000.00"), kind="living")
    error = refuse(lambda: ask(household, "1000.01", kind="living"), f"即 {D(cap):,.2f} 元")
    assert "本年已申请" in error.messages[0]
    ask(household, "1000.00", kind="living")


def test_medical_aid_within_the_out_of_pocket_share(household, ask, standard):
    standard("medical", year=YEAR, amount_cap=D("2000.00"), cap_out_of_pocket=True)
    refuse(lambda: ask(household, "800.00", kind="medical"), "个人自付费用", "out_of_pocket")
    refuse(
        lambda: ask(household, "800.00", kind="medical", out_of_pocket=D("600.00")),
        "不得超过个人自付费用 600.00 元",
    )
    assert ask(household, "600.00", kind="medical", out_of_pocket=D("600.00"))


def test_a_tier_has_its_own_standard(household, ask, standard):
    standard("medical", year=YEAR, amount_cap=D("2000.00"), times_per_year=2)
    standard("medical", year=YEAR, tier=Tier.TERMINAL, amount_cap=D("5000.00"), times_per_year=1)
    ask(household, "5000.00", kind="medical", tier=Tier.TERMINAL)
    refuse(lambda: ask(household, "2000.00", kind="medical", tier=Tier.TERMINAL), "最多 1 次")
    refuse(lambda: ask(household, "2000.01", kind="medical"), "每次最高 2,000.00 元")


def test_the_frequency_is_per_household_whatever_the_tier_or_member(household, ask, standard):
    """送温暖 once a year: another tier or one member of the household is not a way round it."""
    standard("festival", year=YEAR, amount_cap=D("1000.00"), times_per_year=1)
    ask(household, "1000.00", kind="festival")
    refuse(lambda: ask(household, "900.00", kind="festival"), "最多 1 次")
    refuse(
        lambda: ask(household, "1000.00", kind="festival", tier=Tier.COLLEGE),
        "送温暖可选的细分标准：一般。",
        "tier",
    )
    member = household.members.get(relation="spouse")
    refuse(lambda: ask(household, "1000.00", kind="festival", beneficiary=member), "最多 1 次")


def test_each_tier_standard_counts_its_own_requests(household, ask, standard):
    standard("medical", year=YEAR, amount_cap=D("2000.00"), times_per_year=1)
    standard("medical", year=YEAR, tier=Tier.TERMINAL, amount_cap=D("5000.00"), times_per_year=1)
    ask(household, "2000.00", kind="medical")
    ask(household, "5000.00", kind="medical", tier=Tier.TERMINAL)
    refuse(lambda: ask(household, "1500.00", kind="medical"), "最多 1 次")
    refuse(
        lambda: ask(household, "2000.00", kind="medical", tier=Tier.SERIOUS_ILLNESS),
        "医疗救助可选的细分标准：一般、癌症或重病绝症。",
        "tier",
    )


def test_schooling_aid_needs_a_school_stage_that_has_a_standard(household, ask, standard):
    standard("schooling", year=YEAR, tier=Tier.SENIOR, amount_cap=D("3000.00"), times_per_year=1)
    standard("schooling", year=YEAR, tier=Tier.COLLEGE, amount_cap=D("5000.00"), times_per_year=1)
    refuse(
        lambda: ask(household, "3000.00", kind="schooling"),
        "助学可选的细分标准：高中、中职、大学（专科、本科）。",
        "tier",
    )
    request = ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE)
    assert request.standard.tier == Tier.COLLEGE
    # a type without any standard that year takes any tier and is checked against none
    assert ask(household, "100.00", kind="other", tier=Tier.COLLEGE).standard is None


def test_a_tier_withdrawn_from_the_standards_before_approval_needs_an_override(
    household, ask, approve, standard
):
    """The standards changed between the request and its approval (here the county set its
    own, general only): a tier with no standard of its own any more would be held to the
    general caps without anyone noticing."""
    standard("medical", year=YEAR, amount_cap=D("2000.00"), times_per_year=2)
    standard("medical", year=YEAR, tier=Tier.TERMINAL, amount_cap=D("5000.00"), times_per_year=1)
    request = ask(household, "1500.00", kind="medical", tier=Tier.TERMINAL)
    assert not request.violations
    standard("medical", year=YEAR, org="450102", amount_cap=D("3000.00"), times_per_year=2)
    refuse(
        lambda: approve(request),
        f"申请时的细分标准“癌症或重病绝症”已不在医疗救助 {YEAR}年的标准中（可选：一般）",
    )
    approve(request, override=True, reason="年中调整标准前已受理")
    assert request.approvals.get().override


# --- Standards per person: 助学 per student per year ----------------------------------------


@pytest.fixture
def students(household, add_students):
    return add_students(household, "张一", "张二")


def per_student(standard, **fields):
    """助学 for university students, once a year, counted per student unless told otherwise."""
    fields = {"amount_cap": D("5000.00"), "times_per_year": 1, "scope": "person", **fields}
    return standard("schooling", year=YEAR, tier=Tier.COLLEGE, **fields)


def test_schooling_aid_once_a_year_per_student(household, students, ask, standard, types):
    per_student(standard)
    first, second = students
    ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first)
    ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=second)
    error = refuse(
        lambda: ask(household, "3000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first),
        "每人每年最多 1 次",
    )
    assert error.messages[0] == (
        "超出标准：助学（大学（专科、本科））每人每年最多 1 次"
        f"（广西壮族自治区总工会 {YEAR}年标准），张一 本年已有 1 次。"
    )
    used = standards.usage(
        household=household,
        assistance_type=types["schooling"],
        tier=Tier.COLLEGE,
        year=YEAR,
        beneficiary=second,
    )
    assert (used.times, used.beneficiary) == (1, second)


@pytest.mark.parametrize("per_person", [True, False])
def test_a_schooling_tier_is_for_a_student_at_its_stage(
    household, add_students, ask, standard, per_person
):
    """The batch's rule (standards.student_stages), also for the single request: a 大学 tier
    for a member the file records in primary school, or not at school, is refused, naming the
    member, their stage and the tier's. Refused, not a breach to override: the file is
    corrected first."""
    per_student(standard, scope="person" if per_person else "household")
    standard("schooling", year=YEAR, amount_cap=D("1000.00"))  # the general tier: any student
    (pupil,) = add_students(household, "张小", stage="primary")
    worker = household.members.get(relation="self")
    error = refuse(
        lambda: ask(
            household,
            "5000.00",
            kind="schooling",
            tier=Tier.COLLEGE,
            beneficiary=pupil,
            exception_reason="确有需要",
        ),
        "张小 在档案中的就学阶段为“小学”，助学的细分标准“大学（专科、本科）”只适用于就学阶段为"
        "大学（专科、本科）的成员：请选择相符的成员，或先在档案中更正其就学阶段。",
        field="beneficiary",
    )
    assert len(error.messages) == 1
    refuse(
        lambda: ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=worker),
        f"{worker.name} 在档案中的就学阶段为“不在学”",
        field="beneficiary",
    )
    refuse(
        lambda: ask(household, "500.00", kind="schooling", beneficiary=worker),
        "只适用于就学阶段为小学、初中、高中、中职、大学（专科、本科）、研究生的成员",
        field="beneficiary",
    )
    assert ask(household, "500.00", kind="schooling", beneficiary=pupil).beneficiary == pupil
    with translation.override("en"):
        error = refuse(
            lambda: ask(
                household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=pupil
            ),
            "张小's school stage on file is Primary school",
            field="beneficiary",
        )
    # other types name any member: the file cannot tell whom they are for
    assert ask(household, "300.00", kind="living", beneficiary=worker).beneficiary == worker


def test_approval_checks_the_stage_again_after_the_file_was_corrected(
    household, students, ask, approve, standard, users
):
    """The member's school stage corrected in the file between the request and its approval
    (张一 is in fact at senior school): the college tier no longer fits, and the approval is
    refused as the request would now be, not overridable; 张二, still at college, is approved."""
    per_student(standard)
    first, second = students
    for_first = ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first)
    for_second = ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=second)
    members = [
        replace(m, school_stage="senior") if m.pk == first.pk else m
        for m in kept_members(household)
    ]
    household_services.household_update(
        user=users["clerk_450102"],
        household=household,
        members=members,
        secondary_causes=list(household.secondary_causes.all()),
        reason="入户核实：张一就读高中",
    )
    stage = (
        "张一 在档案中的就学阶段为“高中”，助学的细分标准“大学（专科、本科）”只适用于就学阶段为"
        "大学（专科、本科）的成员"
    )
    refuse(lambda: approve(for_first), stage)
    refuse(lambda: approve(for_first, override=True, reason="学校证明为大学"), stage)
    with translation.override("en"):
        refuse(lambda: approve(for_first), "张一's school stage on file is Senior secondary")
    approve(for_second)
    for_second.refresh_from_db()
    assert for_second.state == RequestState.APPROVED


def test_a_student_removed_and_entered_again_is_still_counted(
    household, students, ask, standard, users
):
    """Taking a student off the file and entering them again (a new member row: the earlier
    request's key to the row is gone) does not start their count afresh: the request keeps the
    member's ID hash, and the count is by person."""
    from tests.funds.conftest import kept_members

    per_student(standard)
    first, _second = students
    request = ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first)
    assert request.beneficiary_id_hash == first.id_hash != ""

    def save(members):
        household_services.household_update(
            user=users["clerk_450102"], household=household, members=members, reason="核实"
        )

    others = [m for m in kept_members(household) if m.pk != first.pk]
    again = replace(next(m for m in kept_members(household) if m.pk == first.pk), pk=None)
    save(others)
    save(others + [again])
    entered_again = household.members.get(name="张一")
    assert entered_again.pk != first.pk
    refuse(
        lambda: ask(
            household, "3000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=entered_again
        ),
        "张一 本年已有 1 次",
    )


def test_the_annual_cap_in_months_stays_per_household(household, students, ask, standard):
    per_student(standard, amount_cap=D("8000.00"), times_per_year=2, annual_months_deep=D("12"))
    first, second = students  # the dibao line of the tests is 1,000 a month: 12,000 a year
    ask(household, "8000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first)
    ask(household, "4000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=second)
    refuse(
        lambda: ask(household, "100.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=second),
        "每户每年不超过 12 个月低保标准，即 12,000.00 元",
    )


def test_the_annual_cap_names_an_earlier_years_line_still_in_force(household, ask, standard, types):
    """The cap in months of the dibao line takes last year's line while this year's is not set
    (DibaoStandard.objects.in_force): its message says so, as the household verdict does
    (households.eligibility.line_source), or staff take the cap for this year's line."""
    standard("living", year=YEAR, annual_months_deep=D("12"))

    def violations(language="zh-hans"):
        with translation.override(language):
            check = standards.check_request(
                household=household,
                assistance_type=types["living"],
                tier=Tier.GENERAL,
                amount=D("12000.01"),
                year=YEAR,
            )
        return check.violations

    cap = (
        "超出标准：生活救助每户每年不超过 12 个月低保标准，即 12,000.00 元"
        f"（广西壮族自治区总工会 {YEAR}年标准）；本年已申请 0.00 元。"
    )
    assert violations() == [cap]  # this year's line: nothing to add
    DibaoStandard.objects.filter(year=YEAR).delete()  # last year's, 1,000 too, is in force
    earlier = (
        f"比较所用的低保标准为广西壮族自治区总工会 {YEAR - 1} 年的标准"
        f"（本地区 {YEAR} 年的标准尚未设置）。"
    )
    assert violations() == [cap + earlier]
    assert violations("en")[0].endswith(
        "0.00 yuan already requested this year. The dibao line used is the one "
        f"广西壮族自治区总工会 set for {YEAR - 1} (this area's line for {YEAR} has not been "
        "set yet)."
    )
    refuse(lambda: ask(household, "12000.01", kind="living"), earlier)


def test_a_per_household_standard_still_counts_the_household(household, students, ask, standard):
    per_student(standard, scope="household")
    first, second = students
    ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first)
    refuse(
        lambda: ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=second),
        "助学（大学（专科、本科））每年最多 1 次",
    )


def test_a_per_person_request_names_its_member(household, students, ask, standard):
    per_student(standard)
    refuse(
        lambda: ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE),
        "助学按人计算次数，请选择受助成员。",
        "beneficiary",
    )
    refuse(  # an exception to the standard is no way round it
        lambda: ask(
            household, "5000.00", kind="schooling", tier=Tier.COLLEGE, exception_reason="特殊困难"
        ),
        "请选择受助成员",
        "beneficiary",
    )


def test_approval_recounts_per_student(household, students, ask, approve, standard):
    per_student(standard)
    first, second = students
    for_first = ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first)
    for_second = ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=second)
    approve(for_second)  # the first student's request does not count against the second
    approve(for_first)
    again = ask(
        household,
        "2000.00",
        kind="schooling",
        tier=Tier.COLLEGE,
        beneficiary=first,
        exception_reason="学费上涨",
    )
    assert "张一 本年已有 1 次" in again.violations[0]
    refuse(lambda: approve(again), "每人每年最多 1 次")
    services.request_cancel(user=again.requested_by, request=for_first, reason="重复申请")
    approve(again)  # re-checked at approval: the first student's other request was cancelled
    again.refresh_from_db()
    assert again.state == RequestState.APPROVED


def test_a_county_standard_overrides_the_region(household, ask, standard):
    standard("living", year=YEAR, amount_cap=D("500.00"))
    standard("living", year=YEAR, org="450102", amount_cap=D("800.00"))
    ask(household, "800.00", kind="living")


def test_one_project_a_year_warns_or_blocks(household, ask, standard):
    standard("festival", year=YEAR, amount_cap=D("1000.00"))
    standard("living", year=YEAR, one_project_rule="warn")
    standard("schooling", year=YEAR, one_project_rule="block")
    ask(household, "1000.00", kind="festival")
    warned = ask(household, "500.00", kind="living")
    assert warned.warnings == ["一户一年原则上只享受一个帮扶项目，本年已有：送温暖。"]
    refuse(lambda: ask(household, "3000.00", kind="schooling"), "只享受一个帮扶项目")


def test_the_notes_of_the_standards_are_stored_in_chinese_whoever_asks(household, ask, standard):
    """Violations and warnings are stored on the request and read by everyone: in the data
    language, not the clerk's. A refusal still speaks the clerk's language."""
    standard("living", year=YEAR, amount_cap=D("500.00"))
    ask(household, "1000.00", kind="festival")
    with translation.override("en"):
        refuse(lambda: ask(household, "900.00", kind="living"), "Above the standard")
        request = ask(household, "900.00", kind="living", exception_reason="突发大病")
    request.refresh_from_db()
    assert len(request.violations) == 1
    assert request.violations[0].startswith("超出标准：")
    assert "每次最高 500.00 元" in request.violations[0]
    assert request.warnings == ["一户一年原则上只享受一个帮扶项目，本年已有：送温暖。"]


def test_over_the_standard_needs_an_exception_then_a_supervisor_override(
    household, ask, approve, standard
):
    standard("living", year=YEAR, amount_cap=D("500.00"))
    refuse(lambda: ask(household, "900.00", kind="living"), "申请突破标准的理由")
    request = ask(household, "900.00", kind="living", exception_reason="突发大病，家中无收入")
    assert request.violations and "每次最高 500.00 元" in request.violations[0]
    refuse(lambda: approve(request), "每次最高 500.00 元")
    refuse(lambda: approve(request, override=True), "突破标准须填写理由", "reason")
    approve(request, override=True, reason="经集体研究同意突破")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    approval = request.approvals.get()
    assert approval.override and approval.reason == "经集体研究同意突破"


# --- Approval: segregation of duties, second approval, committed money --------------------


def test_nobody_approves_their_own_request(household, ask, add_user, users):
    both = add_user("clerk_supervisor_450102", "450102", "clerk")
    both.groups.add(users["supervisor_450102"].groups.get())
    request = ask(household, "100.00", by="clerk_supervisor_450102")
    refuse(lambda: services.request_approve(user=both, request=request), "不能审批自己提出的申请")
    refuse(
        lambda: services.request_reject(user=both, request=request, reason="x"),
        "不能审批自己提出的申请",
    )


def test_wrong_role_or_county_cannot_approve(household, ask, users):
    request = ask(household, "100.00")
    for username in ("clerk_450102", "finance_450102", "viewer_450000", "supervisor_450103"):
        with pytest.raises(PermissionDenied):
            services.request_approve(user=users[username], request=request)
    assert Approval.objects.count() == 0


def test_approve_twice_is_refused(household, ask, approve):
    request = approve(ask(household, "100.00"))
    refuse(lambda: approve(request), "已批准待发放")


def test_closing_a_file_cancels_what_awaits_a_decision_and_keeps_approved_money(
    household, ask, approve, users
):
    """An exit takes the file's waiting requests with it (who, when, why on each, the money
    they held no longer counted); approved money stays for finance; a relief (still on file)
    cancels nothing."""
    waiting = ask(household, "100.00", on=date(YEAR, 1, 5))
    approved = approve(ask(household, "200.00", on=date(YEAR, 1, 5)))
    supervisor = users["supervisor_450102"]
    household_services.transition_apply(
        user=supervisor, household=household, action="relieve", reason="患重病，暂不能脱困"
    )
    waiting.refresh_from_db()
    assert waiting.state == RequestState.REQUESTED
    committed = selectors.committed(organisation=household.organisation, source=waiting.source)
    with translation.override("en"):  # the reason is recorded in Chinese all the same
        household_services.transition_apply(
            user=supervisor,
            household=household,
            action="exit",
            reason="收入超过低保标准",
            effective_date=timezone.localdate(),
        )
    waiting.refresh_from_db()
    approved.refresh_from_db()
    assert waiting.state == RequestState.CANCELLED
    assert waiting.cancelled_by == supervisor
    assert waiting.cancelled_at is not None
    assert waiting.cancel_reason == (
        f"档案已于 {timezone.localdate().isoformat()} 脱困（撤档），待审批的申请随之取消。"
    )
    assert waiting.history.first().state == RequestState.CANCELLED  # the field history too
    assert approved.state == RequestState.APPROVED
    assert (
        selectors.committed(organisation=household.organisation, source=waiting.source) == committed
    )
    refuse(lambda: approve(waiting), "已取消")


def test_a_rolled_back_closure_cancels_nothing(household, ask, users, monkeypatch):
    """The cancellations belong to the closing transition's transaction."""
    waiting = ask(household, "100.00", on=date(YEAR, 1, 5))

    cancel = services.requests_close_with_file

    def cancel_then_fail(**kwargs):
        assert cancel(**kwargs) == 1
        raise RuntimeError("the closure fails after the cancellations")

    monkeypatch.setattr(services, "requests_close_with_file", cancel_then_fail)
    with pytest.raises(RuntimeError):
        household_services.transition_apply(
            user=users["supervisor_450102"],
            household=household,
            action="deregister",
            reason="迁出本市",
            deregistration_reason="moved",
        )
    waiting.refresh_from_db()
    assert waiting.state == RequestState.REQUESTED


def test_reject_needs_a_reason(household, ask, users):
    request = ask(household, "100.00")
    refuse(
        lambda: services.request_reject(
            user=users["supervisor_450102"], request=request, reason=""
        ),
        "须填写理由",
        "reason",
    )
    services.request_reject(user=users["supervisor_450102"], request=request, reason="不符合条件")
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert request.approvals.get().decision == "reject"


def test_a_second_supervisor_above_the_threshold(household, ask, approve, standard, add_user):
    standard("medical", year=YEAR, second_approval_above=D("3000.00"), second_approver="same")
    small = ask(household, "3000.00", kind="medical")
    assert small.approvals_required == 1
    large = ask(household, "5000.00", kind="medical")
    assert large.approvals_required == 2
    assert large.waiting_for == "第一级审批（兴宁区总工会审批人）"
    approve(large)
    large.refresh_from_db()
    assert large.state == RequestState.REQUESTED
    assert large.waiting_for == "第二级审批：本级另一名审批人"
    refuse(lambda: approve(large), "另一名审批人")
    add_user("supervisor2_450102", "450102", "supervisor")
    approve(large, by="supervisor2_450102")
    large.refresh_from_db()
    assert large.state == RequestState.APPROVED
    assert list(large.approvals.values_list("level", flat=True)) == [1, 2]


def test_a_threshold_set_after_the_request_asks_for_the_second_approval(
    household, ask, approve, standard, add_user
):
    """The standard in force at approval applies, its second approval as its caps: a request
    made before the year's standard named a threshold is approved once, then waits for the
    second approver the standard names."""
    request = ask(household, "5000.00", kind="medical")
    assert request.approvals_required == 1
    standard("medical", year=YEAR, second_approval_above=D("3000.00"), second_approver="same")
    approve(request)
    request.refresh_from_db()
    assert (request.state, request.approvals_required) == (RequestState.REQUESTED, 2)
    assert request.waiting_for == "第二级审批：本级另一名审批人"
    add_user("supervisor2_450102", "450102", "supervisor")
    approve(request, by="supervisor2_450102")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert list(request.approvals.values_list("level", flat=True)) == [1, 2]


def test_large_medical_aid_goes_to_the_province(household, ask, approve, standard, add_user, users):
    standard("medical", year=YEAR, second_approval_above=D("10000.00"), second_approver="region")
    add_user("supervisor_450100", "450100", "supervisor")
    add_user("supervisor_450000", "450000", "supervisor")
    request = ask(household, "20000.00", kind="medical")
    approve(request)
    request.refresh_from_db()
    assert request.waiting_for == "第二级审批：省/自治区总工会"
    add_user("supervisor2_450102", "450102", "supervisor")
    # it waits in the region's list, not in the county's
    assert request not in selectors.awaiting_approval(user=users["supervisor2_450102"])
    assert request in selectors.awaiting_approval(user=users["supervisor_450000"])
    assert request not in selectors.awaiting_approval(user=users["supervisor_450102"])
    refuse(lambda: approve(request, by="supervisor2_450102"), "省/自治区总工会的审批人")
    refuse(lambda: approve(request, by="supervisor_450100"), "省/自治区总工会的审批人")
    approve(request, by="supervisor_450000")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_second_approval_by_the_upper_level_union(household, ask, approve, standard, add_user):
    standard("living", year=YEAR, second_approval_above=D("1000.00"), second_approver="parent")
    add_user("supervisor2_450102", "450102", "supervisor")
    add_user("supervisor_450100", "450100", "supervisor")
    request = ask(household, "2000.00", kind="living")
    approve(request)
    request.refresh_from_db()
    assert request.waiting_for == "第二级审批：上级工会（南宁市总工会）"
    refuse(lambda: approve(request, by="supervisor2_450102"), "上级工会的审批人")
    approve(request, by="supervisor_450100")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_second_level_is_decided_by_the_upper_union_only(
    household, ask, approve, standard, add_user, users, decision
):
    """Rejecting at a level obeys the same rules as approving at it."""
    standard("living", year=YEAR, second_approval_above=D("1000.00"), second_approver="parent")
    add_user("supervisor2_450102", "450102", "supervisor")
    add_user("supervisor_450100", "450100", "supervisor")
    request = approve(ask(household, "2000.00", kind="living"))

    def decide(username):
        user = users[username]
        if decision == "approve":
            return services.request_approve(user=user, request=request)
        return services.request_reject(user=user, request=request, reason="不符合条件")

    refuse(lambda: decide("supervisor_450102"), "另一名审批人")
    refuse(lambda: decide("supervisor2_450102"), "上级工会的审批人")
    decide("supervisor_450100")
    request.refresh_from_db()
    assert request.state == (
        RequestState.APPROVED if decision == "approve" else RequestState.REJECTED
    )
    assert request.approvals.get(level=2).approver == users["supervisor_450100"]


def test_a_rejection_at_the_second_level_by_the_region_only(
    household, ask, approve, standard, add_user, users
):
    standard("medical", year=YEAR, second_approval_above=D("10000.00"), second_approver="region")
    add_user("supervisor_450000", "450000", "supervisor")
    request = approve(ask(household, "20000.00", kind="medical"))
    refuse(
        lambda: services.request_reject(
            user=users["supervisor_450102"], request=request, reason="x"
        ),
        "另一名审批人",
    )
    add_user("supervisor2_450102", "450102", "supervisor")
    refuse(
        lambda: services.request_reject(
            user=users["supervisor2_450102"], request=request, reason="x"
        ),
        "省/自治区总工会的审批人",
    )
    services.request_reject(user=users["supervisor_450000"], request=request, reason="x")


def test_approval_commits_money_and_never_beyond_the_balance(
    filed, receive, ask, approve, orgs, sources
):
    receive("1000.00", on=date(YEAR, 1, 2))
    household = filed()
    first = approve(ask(household, "600.00"))
    second = ask(household, "500.00")
    error = refuse(lambda: approve(second), "可用余额不足", "amount")
    assert "已批准待发放 600.00 元" in error.message_dict["amount"][0]
    assert selectors.committed(organisation=orgs["450102"], source=sources["central"]) == D(
        "600.00"
    )
    services.request_cancel(
        user=selectors.AssistanceRequest.objects.get(pk=first.pk).requested_by,
        request=first,
        reason="重复申请",
    )
    approve(second)


def test_money_of_another_source_or_county_does_not_count(filed, receive, ask, approve):
    receive("5000.00", source="union", on=date(YEAR, 1, 2))
    receive("5000.00", org="450103", on=date(YEAR, 1, 2))
    request = ask(filed(), "100.00", source="central")
    refuse(lambda: approve(request), "可用 0.00 元", "amount")


def test_cancel_rules(household, ask, approve, users):
    request = approve(ask(household, "100.00"))
    refuse(
        lambda: services.request_cancel(user=users["clerk_450102"], request=request, reason=""),
        "取消原因",
        "reason",
    )
    services.request_cancel(user=users["clerk_450102"], request=request, reason="户主已去世")
    refuse(
        lambda: services.request_cancel(user=users["clerk_450102"], request=request, reason="x"),
        "不能取消",
    )


def test_the_same_request_twice_is_refused(household, ask, users):
    """A form sent twice (or the same request entered by two clerks) would be approved and
    paid twice; the second is refused and names the first."""
    first = ask(household, "300.00", kind="living", on=timezone.localdate())
    error = refuse(
        lambda: ask(household, "300.00", kind="living", on=timezone.localdate()), "请勿重复提交"
    )
    assert f"第 {first.pk} 号" in error.messages[0]
    assert household.assistance_requests.count() == 1
    # Another kind is another request.
    ask(household, "300.00", kind="medical", on=timezone.localdate(), out_of_pocket="800.00")
    services.request_cancel(user=users["clerk_450102"], request=first, reason="重复录入")
    ask(household, "300.00", kind="living", on=timezone.localdate())  # the first no longer stands


def test_the_migration_gives_the_earlier_requests_their_members_hash(
    household, students, ask, standard
):
    from importlib import import_module

    from django.apps import apps

    per_student(standard)
    first, _second = students
    named = ask(household, "5000.00", kind="schooling", tier=Tier.COLLEGE, beneficiary=first)
    whole = ask(household, "800.00")
    AssistanceRequest.objects.update(beneficiary_id_hash="")  # as before the migration
    import_module("funds.migrations.0011_request_beneficiary_id_hash").copy_hashes(apps, None)
    hashes = dict(AssistanceRequest.objects.values_list("pk", "beneficiary_id_hash"))
    assert hashes == {named.pk: first.id_hash, whole.pk: ""}
