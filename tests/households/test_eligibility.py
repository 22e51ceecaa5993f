"""The filing standard on worked examples (DOMAIN.md "Eligibility"; seed 002)."""

from decimal import Decimal

import pytest

from households import eligibility
from households.services import MemberData, verdict_for

D = Decimal
ZERO = Decimal("0")


def assess(
    org, *, per_capita, causes=("illness",), special=True, exclusions=(), accident=ZERO, **extra
):
    income = eligibility.Income(size=1, monthly=per_capita, per_capita=per_capita)
    from django.utils import timezone

    return eligibility.assess(
        organisation=org,
        on=timezone.localdate(),
        income=income,
        cause_codes=set(causes),
        special_cause=special,
        accident_spending_annual=accident,
        exclusions=list(exclusions),
        **extra,
    )


@pytest.fixture
def county(orgs, dibao):
    return orgs["450102"]


def with_multiple(org, multiple):
    org.eligibility_multiple = D(multiple)
    org.save()
    return type(org).objects.get(pk=org.pk)


def test_below_the_line_is_deep_hardship(county):
    verdict = assess(county, per_capita=D("800.00"), causes=("low_income",), special=False)
    assert verdict.eligible is True and verdict.category_code == "deep"
    assert "不高于当地低保标准 1,000.00 元" in verdict.reasons[0]


def test_140_percent_with_illness_under_the_1_5_multiple(county):
    county = with_multiple(county, "1.5")
    verdict = assess(county, per_capita=D("1400.00"))
    assert verdict.eligible is True and verdict.category_code == "relative"
    assert verdict.ratio == D("1.40")


def test_160_percent_with_illness_under_the_1_5_multiple_is_refused(county):
    county = with_multiple(county, "1.5")
    verdict = assess(county, per_capita=D("1600.00"))
    assert verdict.eligible is False
    assert "超过低保标准 1,000.00 元的 1.50 倍" in verdict.reasons[0]


def test_180_percent_with_illness_under_the_2_multiple(county):
    county = with_multiple(county, "2.0")
    assert assess(county, per_capita=D("1800.00")).eligible is True


def test_within_the_multiple_without_a_special_cause_is_refused(county):
    verdict = assess(county, per_capita=D("1200.00"), causes=("low_income",), special=False)
    assert verdict.eligible is False and "没有特殊致困原因" in verdict.reasons[0]


def test_two_homes_exclude_even_below_the_line(county):
    verdict = assess(county, per_capita=D("300.00"), exclusions=["owns_multiple_homes"])
    assert verdict.eligible is False
    assert "拥有两套及以上住房" in verdict.reasons[0]


def test_accident_spending_over_80_percent_of_income(county):
    # 3,000 a month is 36,000 a year; 30,000 of accident spending is 83%.
    verdict = assess(county, per_capita=D("3000.00"), causes=("accident",), accident=D(30000))
    assert verdict.eligible is True and verdict.category_code == "accident"
    assert (
        assess(county, per_capita=D("3000.00"), causes=("accident",), accident=D(28000)).eligible
        is False
    )


def test_legacy_scheme_names_the_categories_dibao_and_near_dibao(county):
    county.category_scheme = "2015"
    county.eligibility_multiple = D("1.5")
    county.save()
    county = type(county).objects.get(pk=county.pk)
    assert assess(county, per_capita=D("900")).category_code == "dibao"
    assert assess(county, per_capita=D("1400")).category_code == "near_dibao"


def test_near_dibao_is_up_to_150_percent_of_the_line_under_the_2015_scheme(orgs, make_household):
    """The 2015–2020 rules file a near-dibao household up to 1.5× the line (DOMAIN.md): with no
    multiple set, the scheme's applies, not the current scheme's 2×; the scheme is inherited
    like any setting."""
    region = orgs["450000"]
    region.category_scheme = "2015"
    region.save()
    # 600 + 3,000 between two: 1,800 a head, 1.8 times the line, with illness.
    household = make_household(
        members=[MemberData(relation="spouse", name="李芳", monthly_income=D("3000.00"))]
    )
    verdict = verdict_for(household)
    assert verdict.multiple == D("1.5")
    assert verdict.eligible is False and verdict.category_code is None
    assert "超过低保标准 1,000.00 元的 1.5 倍" in verdict.reasons[0]
    assert assess(orgs["450102"], per_capita=D("1500")).category_code == "near_dibao"


def test_a_multiple_the_union_sets_holds_whatever_the_scheme(county):
    """An organisation that sets its multiple keeps it: the scheme only fills a blank one."""
    county.category_scheme = "2015"
    county = with_multiple(county, "2.0")
    verdict = assess(county, per_capita=D("1800"))
    assert verdict.eligible is True and verdict.category_code == "near_dibao"
    county.category_scheme = "current"
    county = with_multiple(county, "1.5")
    assert assess(county, per_capita=D("1800")).eligible is False


def test_the_current_scheme_keeps_twice_the_line(county):
    verdict = assess(county, per_capita=D("1800"))
    assert verdict.multiple == D("2.0") and verdict.category_code == "relative"


def test_no_dibao_line_means_no_verdict(orgs):
    verdict = assess(orgs["450102"], per_capita=D("100"))
    assert verdict.eligible is None and "尚未设置" in verdict.reasons[0]


def test_the_dibao_line_in_force_is_the_areas_own_latest(orgs):
    """The line of an area for a year is the latest its own government set up to that year (a
    line stays in force until the next is published, and is not always raised every year), else
    the nearest organisation's above it: a county that sets its own line keeps it in January,
    before the year's is entered, rather than taking the region's figure, another area's; a
    line of a later year is never used for an earlier one."""
    from households.models import DibaoStandard

    region, city, county = orgs["450000"], orgs["450100"], orgs["450102"]
    other = orgs["450103"]
    year = 2024

    def line(org, y, amount):
        DibaoStandard.objects.create(organisation=org, year=y, monthly_amount=D(amount))

    line(region, year, "800.00")
    line(region, year - 1, "750.00")
    line(city, year - 2, "900.00")
    line(county, year - 1, "1050.00")
    line(county, year + 1, "1200.00")
    found = DibaoStandard.objects.lines_for([county, other, city, region], year)
    assert found == {
        county.pk: D("1050.00"),  # its own of last year, not the region's of this year
        other.pk: D("900.00"),  # none of its own: the city's, its nearest, of two years ago
        city.pk: D("900.00"),
        region.pk: D("800.00"),  # its own of this year, not last year's
    }
    assert DibaoStandard.objects.line_for(county, year + 1) == D("1200.00")
    assert DibaoStandard.objects.line_for(county, year - 3) is None
    line(county, year, "1100.00")
    assert DibaoStandard.objects.line_for(county, year) == D("1100.00")


def test_unavoidable_spending_is_deducted():
    # 3 people, 4,500 a month: 54,000 a year; 18,000 of medical costs leaves 36,000 → 1,000.
    income = eligibility.compute_income(
        member_incomes=[D("3000"), D("1500"), D("0")],
        other_monthly=D("0"),
        rigid_annual=D("18000"),
        rule="net_annual",
    )
    assert (income.size, income.monthly, income.per_capita) == (3, D("4500.00"), D("1000.00"))
    plain = eligibility.compute_income(
        member_incomes=[D("3000"), D("1500"), D("0")],
        other_monthly=D("0"),
        rigid_annual=D("18000"),
        rule="monthly",
    )
    assert plain.per_capita == D("1500.00")


def test_spending_above_income_gives_zero_not_negative():
    income = eligibility.compute_income(
        member_incomes=[D("100")], other_monthly=D("0"), rigid_annual=D("5000"), rule="net_annual"
    )
    assert income.per_capita == D("0.00")


def test_file_verdict_uses_its_members_and_causes(make_household):
    household = make_household(
        worker_income="2400.00",
        members=[MemberData(relation="child", name="张小红", monthly_income=D("0"))],
        rigid_spending_annual=D("0"),
    )
    # 2,400 ÷ 2 = 1,200: within 2× the line, illness is a special cause.
    household.refresh_from_db()
    assert household.per_capita_income == D("1200.00") and household.household_size == 2
    verdict = verdict_for(household)
    assert verdict.eligible is True and verdict.category_code == "relative"


def test_the_verdict_names_a_line_of_another_year_or_organisation(orgs):
    """The line compared with is named when it is an earlier year's still in force (in_force),
    its own or the nearest organisation's above it: staff would otherwise take the figure for
    this year's line. A line of the year asked goes unnamed, whoever set it."""
    from datetime import date

    from django.utils import translation

    from households.models import DibaoStandard

    region, county, other = orgs["450000"], orgs["450102"], orgs["450103"]
    DibaoStandard.objects.create(organisation=region, year=2024, monthly_amount=D("800.00"))
    DibaoStandard.objects.create(organisation=county, year=2023, monthly_amount=D("1000.00"))

    def reasons(org):
        income = eligibility.Income(size=1, monthly=D("700.00"), per_capita=D("700.00"))
        verdict = eligibility.assess(
            organisation=type(org).objects.get(pk=org.pk),
            on=date(2024, 6, 1),
            income=income,
            cause_codes={"low_income"},
            special_cause=False,
            accident_spending_annual=ZERO,
            exclusions=[],
        )
        return verdict.reasons

    assert reasons(county)[1:] == [
        "比较所用的低保标准为兴宁区总工会 2023 年的标准（本地区 2024 年的标准尚未设置）。"
    ]
    assert reasons(other)[1:] == []  # the region's line of the year: nothing to add
    assert reasons(region)[1:] == []
    with translation.override("en"):
        assert reasons(county)[1:] == [
            "The dibao line used is the one 兴宁区总工会 set for 2023"
            " (this area's line for 2024 has not been set yet)."
        ]


def test_a_notices_verdicts_name_the_line_as_the_files_verdict_does(make_household):
    """verdicts_for (a notice's files at once) passes the lines it read in bulk: the verdicts
    name them as verdict_for's own look-up does."""
    from django.utils import timezone

    from households.services import verdicts_for

    household = make_household()  # of 兴宁区总工会, which has no line: the region's
    today = timezone.localdate()
    on = today.replace(year=today.year + 2, month=6, day=1)  # no line yet: next year's serves
    named = (
        f"比较所用的低保标准为广西壮族自治区总工会 {today.year + 1} 年的标准"
        f"（本地区 {on.year} 年的标准尚未设置）。"
    )
    assert verdict_for(household, on).reasons[-1] == named
    assert verdicts_for([household], on)[household.pk].reasons == verdict_for(household, on).reasons


RETIRED = "职工本人已退休：退休、内退人员原则上不纳入困难职工建档范围，请核实。"


def test_a_retired_worker_is_a_warning_not_a_refusal(county):
    """Seed 002 (filing scope): retired and internally retired staff are in principle (原则上)
    not filed. The verdict says so after its reasons, whatever it is, and stays what it was:
    the supervisor decides."""
    from django.utils import translation

    for facts in [
        {"per_capita": D("800.00"), "causes": ("low_income",), "special": False},
        {"per_capita": D("3000.00")},
        {"per_capita": D("800.00"), "exclusions": ["owns_business"]},
    ]:
        plain = assess(county, **facts)
        warned = assess(county, **facts, worker_retired=True)
        assert (warned.eligible, warned.category_code) == (plain.eligible, plain.category_code)
        assert warned.reasons == [*plain.reasons, RETIRED]
    with translation.override("en"):
        assert assess(county, per_capita=D("800.00"), worker_retired=True).reasons[-1] == (
            "The worker is retired: retired and internally retired staff are in principle not"
            " filed as hardship households; please verify."
        )


def test_a_retired_worker_is_warned_also_where_no_line_is_set(orgs):
    verdict = assess(orgs["450102"], per_capita=D("100"), worker_retired=True)
    assert verdict.eligible is None and verdict.reasons[-1] == RETIRED


def test_the_files_verdicts_warn_of_a_retired_worker_only(make_household):
    """verdict_for and verdicts_for (a notice's) read the worker's own row: a retired spouse
    is no reason to warn."""
    from django.utils import timezone

    from households.models import Member
    from households.services import verdicts_for

    household = make_household(
        members=[MemberData(relation="spouse", name="李芳", employment=Member.Employment.RETIRED)]
    )
    today = timezone.localdate()
    assert RETIRED not in verdict_for(household).reasons
    assert RETIRED not in verdicts_for([household], today)[household.pk].reasons
    household.members.filter(relation=Member.Relation.SELF).update(
        employment=Member.Employment.RETIRED
    )
    verdict = verdict_for(household)
    assert verdict.reasons[-1] == RETIRED and verdict.eligible is True
    assert verdicts_for([household], today)[household.pk].reasons == verdict.reasons
