"""The yearly spot-check of household files (年度档案抽查, DOMAIN.md lifecycle 6): at least 30%
(rounded up) of the files on file in the subtree, drawn once per organisation and year, kept as
drawn; each sampled file's result recorded once, a discrepancy with its findings and what is to
be done; scoped to the user's subtree."""

import random
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from households.forms import SpotCheckDrawForm
from households.models import Household, SpotCheck, SpotCheckSample, Status
from households.spotchecks import (
    reminders,
    sample_size,
    spotcheck_draw,
    spotcheck_population,
    spotcheck_record,
)
from tests.conftest import on_day, run_at_once

YEAR = timezone.localdate().year


def put_on_file(household, status=Status.ON_FILE) -> Household:
    """The file's status as the lifecycle would leave it: the draw reads only the status (the
    steps themselves are tested with the workflow)."""
    Household.objects.filter(pk=household.pk).update(status=status)
    household.refresh_from_db()
    return household


@pytest.fixture
def county_files(make_household):
    """County A (450102): seven files on file (five 在档, two 解困: one of them in a base union),
    and files that are not on file (a draft, an exited and a deregistered one); county B
    (450103): two on file."""
    on_file = [put_on_file(make_household(worker_name=f"在档{i}")) for i in range(4)]
    on_file.append(put_on_file(make_household(org="450102001", worker_name="基层在档")))
    on_file += [
        put_on_file(make_household(worker_name=f"解困{i}"), Status.RELIEVED) for i in range(2)
    ]
    others = [
        make_household(worker_name="草稿"),
        put_on_file(make_household(worker_name="脱困"), Status.EXITED),
        put_on_file(make_household(worker_name="注销"), Status.DEREGISTERED),
    ]
    elsewhere = [
        put_on_file(make_household(by="clerk_450103", org="450103", worker_name=f"青秀{i}"))
        for i in range(2)
    ]
    return {"on_file": on_file, "others": others, "elsewhere": elsewhere}


def draw(users, orgs, *, by="supervisor_450102", org="450102", **kwargs):
    kwargs.setdefault("year", YEAR)
    return spotcheck_draw(user=users[by], organisation=orgs[org], **kwargs)


# --- The draw -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("population", "share", "size"),
    [(7, 30, 3), (10, 30, 3), (11, 30, 4), (1, 30, 1), (3, 34, 2), (7, 100, 7), (200, 30, 60)],
)
def test_the_sample_size_is_the_share_rounded_up(population, share, size):
    assert sample_size(population, share) == size


@pytest.mark.parametrize(("share", "size"), [(30, 3), (50, 4), (100, 7)])
def test_a_draw_takes_at_least_30_percent_of_the_files_on_file_in_the_subtree(
    county_files, users, orgs, share, size
):
    sample = draw(users, orgs, share=share)
    on_file = {h.pk for h in county_files["on_file"]}
    sampled = set(sample.items.values_list("household_id", flat=True))
    assert (sample.population, sample.size, sample.share) == (7, size, share)
    assert len(sampled) == size and sampled <= on_file  # never a draft, closed or other county
    assert sample.drawn_by == users["supervisor_450102"] and sample.drawn_at is not None
    statuses = dict(sample.items.values_list("household_id", "status_at_draw"))
    assert all(statuses[h.pk] == h.status for h in county_files["on_file"] if h.pk in statuses)


def test_a_base_union_draws_among_its_own_files(county_files, users, orgs):
    sample = draw(users, orgs, org="450102001")
    assert sample.population == 1 and sample.size == 1
    assert sample.items.get().household.worker_name == "基层在档"


def test_the_draw_is_random_and_kept_as_drawn(county_files, users, orgs):
    population = sorted(spotcheck_population(orgs["450102"]).values_list("id", "status"))
    sample = draw(users, orgs, rng=random.Random(7))
    expected = sorted(pk for pk, _status in random.Random(7).sample(population, 3))
    assert sorted(sample.items.values_list("household_id", flat=True)) == expected
    # Files change afterwards: one leaves the files on file, another comes on file. The sample
    # is as it was drawn.
    leaving = Household.objects.get(pk=expected[0])
    put_on_file(leaving, Status.DEREGISTERED)
    put_on_file(county_files["others"][0])
    sample.refresh_from_db()
    assert (sample.population, sample.size) == (7, 3)
    assert sorted(sample.items.values_list("household_id", flat=True)) == expected
    assert sample.items.get(household=leaving).status_at_draw != Status.DEREGISTERED


def test_different_draws_pick_differently(county_files, users, orgs):
    """Nothing fixes the choice: SystemRandom by default; two seeds choose two samples."""
    picks = set()
    for seed in range(6):
        with transaction.atomic():
            sample = draw(users, orgs, rng=random.Random(seed))
            picks.add(tuple(sorted(sample.items.values_list("household_id", flat=True))))
            transaction.set_rollback(True)
    assert len(picks) > 1


@pytest.mark.parametrize("share", [29, 0, 101, None])
def test_less_than_30_percent_is_refused(county_files, users, orgs, share):
    with pytest.raises(ValidationError) as error:
        draw(users, orgs, share=share)
    assert "抽查比例应在30%至100%之间。" in error.value.message_dict["share"]
    assert not SpotCheckSample.objects.exists() and not SpotCheck.objects.exists()


def test_one_draw_per_organisation_and_year(county_files, users, orgs):
    first = draw(users, orgs)
    with pytest.raises(ValidationError) as error:
        draw(users, orgs, share=100)
    assert error.value.message_dict["year"] == [f"兴宁区总工会 {YEAR}年度的档案抽查已经抽取。"]
    assert list(SpotCheckSample.objects.all()) == [first]
    assert SpotCheck.objects.count() == first.size
    # The county's base union and last year are draws of their own.
    draw(users, orgs, org="450102001")
    draw(users, orgs, year=YEAR - 1)
    # The database holds the rule itself.
    with pytest.raises(IntegrityError), transaction.atomic():
        SpotCheckSample.objects.create(
            organisation=orgs["450102"], year=YEAR, share=30, size=1, population=7,
            drawn_by=users["supervisor_450102"],
        )  # fmt: skip


@pytest.mark.parametrize("year", [YEAR + 1, YEAR - 2])
def test_only_this_and_last_year_are_drawn(county_files, users, orgs, year):
    with pytest.raises(ValidationError) as error:
        draw(users, orgs, year=year)
    assert "只能抽取本年度或上一年度的档案抽查" in error.value.message_dict["year"][0]
    assert not SpotCheckSample.objects.exists()


def test_an_organisation_without_files_on_file_has_nothing_to_draw(users, orgs):
    with pytest.raises(ValidationError) as error:
        draw(users, orgs)
    assert error.value.messages == ["兴宁区总工会没有在档的档案，无需抽查。"]
    assert not SpotCheckSample.objects.exists()


@pytest.mark.parametrize(
    ("by", "org"),
    [
        ("clerk_450102", "450102"),  # keeps the files: does not pick which are checked
        ("viewer_450100", "450102"),  # reads only
        ("finance_450102", "450102"),
        ("supervisor_450103", "450102"),  # another county
        ("supervisor_450102", "450100"),  # the city above
    ],
)
def test_who_may_not_draw(county_files, users, orgs, by, org):
    with pytest.raises(PermissionDenied):
        draw(users, orgs, by=by, org=org)
    assert not SpotCheckSample.objects.exists()


def test_the_city_draws_for_one_of_its_counties_not_over_them(county_files, users, orgs):
    """A draw over the city would leave its files with no clerk who may record them (clerks
    sit in the counties): the city's supervisor draws for a county, whose clerks record."""
    with pytest.raises(ValidationError) as refused:
        draw(users, orgs, by="supervisor_450100", org="450100", share=100)
    assert "按县（区）总工会或基层工会抽取" in str(refused.value.message_dict["organisation"])
    assert not SpotCheckSample.objects.exists()
    sample = draw(users, orgs, by="supervisor_450100", org="450102", share=100)
    assert sample.population == 7 and sample.size == 7
    record(users, sample.items.first(), outcome="confirmed")  # the county's clerk records it


def test_the_draw_form_offers_counties_and_base_unions_only(users):
    field = SpotCheckDrawForm(user=users["supervisor_450100"]).fields["organisation"]
    offered = {org.code for org in field.queryset}
    assert "450100" not in offered and {"450102", "450103", "450102001"} <= offered


# --- Results -------------------------------------------------------------------------------------


@pytest.fixture
def sample(county_files, users, orgs):
    return draw(users, orgs, share=100)


def record(users, item, *, by="clerk_450102", **kwargs):
    kwargs.setdefault("checked_on", timezone.localdate())
    return spotcheck_record(user=users[by], item=item, **kwargs)


def test_a_true_file_is_recorded_once(sample, users):
    item = sample.items.first()
    record(users, item, outcome="confirmed", action="deregister", note="与档案一致")
    item.refresh_from_db()
    assert (item.outcome, item.action, item.note) == ("confirmed", "", "与档案一致")
    assert item.checked_by == users["clerk_450102"] and item.checked_at is not None
    with pytest.raises(ValidationError) as error:
        record(users, item, outcome="discrepancy", note="又去了一次", action="correct")
    assert error.value.messages == ["该档案的抽查结果已登记。"]
    item.refresh_from_db()
    assert item.outcome == "confirmed" and item.note == "与档案一致"


def test_a_discrepancy_needs_its_findings_and_what_is_to_be_done(sample, users):
    item = sample.items.first()
    with pytest.raises(ValidationError) as error:
        record(users, item, outcome="discrepancy", note="  ", action="")
    assert error.value.message_dict == {
        "note": ["不属实或有出入的，请填写核查情况。"],
        "action": ["不属实或有出入的，请选择处理意见。"],
    }
    item.refresh_from_db()
    assert item.outcome == "pending" and item.checked_by is None
    record(users, item, outcome="discrepancy", note="家中已有两人就业", action="correct")
    item.refresh_from_db()
    assert (item.outcome, item.action, item.note) == ("discrepancy", "correct", "家中已有两人就业")
    assert list(SpotCheck.objects.discrepancies()) == [item]


def test_the_database_refuses_a_discrepancy_without_findings(sample):
    item = sample.items.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        SpotCheck.objects.filter(pk=item.pk).update(outcome="discrepancy", note="", action="")


@pytest.mark.parametrize(
    ("outcome", "day", "field", "message"),
    [
        ("pending", 0, "outcome", "请选择核查结果。"),
        ("confirmed", 1, "checked_on", "核查日期不能晚于今天。"),
        ("confirmed", -1, "checked_on", "核查日期不能早于抽取日期"),
    ],
)
def test_a_result_is_refused(sample, users, outcome, day, field, message):
    item = sample.items.first()
    with pytest.raises(ValidationError) as error:
        record(users, item, outcome=outcome, checked_on=timezone.localdate() + timedelta(days=day))
    assert error.value.message_dict[field][0].startswith(message)
    item.refresh_from_db()
    assert item.outcome == "pending"


@pytest.mark.parametrize("by", ["clerk_450103", "supervisor_450102", "viewer_450100"])
def test_who_may_not_record(sample, users, by):
    item = sample.items.first()
    with pytest.raises(PermissionDenied):
        record(users, item, by=by, outcome="confirmed")
    item.refresh_from_db()
    assert item.outcome == "pending"


# --- Pages ---------------------------------------------------------------------------------------


def test_the_supervisor_draws_on_the_list_page(county_files, login):
    client = login("supervisor_450102")
    page = client.get(reverse("households:spotcheck_list"))
    assert page.status_code == 200 and "随机抽取" in page.content.decode()
    refused = client.post(
        reverse("households:spotcheck_list"),
        {"organisation": county_files["on_file"][0].organisation_id, "year": YEAR, "share": 20},
    )
    assert refused.status_code == 200 and "确保该值大于或等于30" in refused.content.decode()
    assert not SpotCheckSample.objects.exists()
    response = client.post(
        reverse("households:spotcheck_list"),
        {"organisation": county_files["on_file"][0].organisation_id, "year": YEAR, "share": 50},
    )
    sample = SpotCheckSample.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("households:spotcheck_detail", args=[sample.pk])
    assert (sample.share, sample.size) == (50, 4)
    again = client.post(
        reverse("households:spotcheck_list"),
        {"organisation": sample.organisation_id, "year": YEAR, "share": 100},
    )
    assert "年度的档案抽查已经抽取" in again.content.decode()
    assert SpotCheckSample.objects.count() == 1


def test_the_list_and_the_draw_show_progress_and_masked_numbers(sample, users, login):
    first, second, *rest = sample.items.order_by("id")
    record(users, first, outcome="confirmed")
    record(users, second, outcome="discrepancy", note="已迁出", action="deregister")
    clerk = login("clerk_450102")
    listing = clerk.get(reverse("households:spotcheck_list")).content.decode()
    assert "2 / 7" in listing and "<strong>1</strong>" in listing
    assert 'name="share"' not in listing  # clerks do not draw
    detail = clerk.get(reverse("households:spotcheck_detail", args=[sample.pk])).content.decode()
    assert "已核查 2 / 7 份，不属实或有出入 1 份" in detail
    for item in sample.items.select_related("household"):
        assert item.household.id_masked in detail
        assert item.household.id_number not in detail
    assert detail.count(reverse("households:spotcheck_record", args=[rest[0].pk])) == 1
    assert reverse("households:spotcheck_record", args=[first.pk]) not in detail
    assert "注销档案" in detail and "已迁出" in detail


def test_the_clerk_records_a_result_on_its_page(sample, login):
    item = sample.items.first()
    client = login("clerk_450102")
    url = reverse("households:spotcheck_record", args=[item.pk])
    refused = client.post(
        url, {"outcome": "discrepancy", "checked_on": timezone.localdate(), "note": ""}
    )
    page = refused.content.decode()
    assert refused.status_code == 200
    assert (
        "不属实或有出入的，请填写核查情况。" in page
        and "不属实或有出入的，请选择处理意见。" in page
    )
    response = client.post(
        url,
        {
            "outcome": "discrepancy",
            "checked_on": timezone.localdate(),
            "note": "实际有两套住房",
            "action": "deregister",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.outcome, item.action) == ("discrepancy", "deregister")
    # Opened again (an old link): nothing to do there.
    again = client.get(url)
    assert again.status_code == 302
    assert again["Location"] == reverse("households:spotcheck_detail", args=[sample.pk])


def test_the_file_page_shows_the_years_spot_check(sample, users, login):
    item = sample.items.first()
    record(users, item, outcome="discrepancy", note="收入与档案不符", action="correct")
    page = login("supervisor_450102").get(reverse("households:detail", args=[item.household_id]))
    text = page.content.decode()
    assert "本年度档案抽查" in text and "收入与档案不符" in text and "更正档案" in text
    # Last year's check is not this year's.
    SpotCheckSample.objects.filter(pk=sample.pk).update(year=YEAR - 1)
    text = (
        login("supervisor_450102")
        .get(reverse("households:detail", args=[item.household_id]))
        .content.decode()
    )
    assert "本年度档案抽查" not in text


def test_another_county_finds_no_draw_nor_its_files(sample, login, orgs):
    item = sample.items.first()
    clerk = login("clerk_450103")
    assert clerk.get(reverse("households:spotcheck_detail", args=[sample.pk])).status_code == 404
    assert "兴宁区总工会" not in clerk.get(reverse("households:spotcheck_list")).content.decode()
    url = reverse("households:spotcheck_record", args=[item.pk])
    assert clerk.get(url).status_code == 404
    response = clerk.post(url, {"outcome": "confirmed", "checked_on": timezone.localdate()})
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.outcome == "pending"
    # Nor a draw for county A from county B's form: county A is not among its choices.
    response = login("supervisor_450103").post(
        reverse("households:spotcheck_list"),
        {"organisation": orgs["450102"].pk, "year": YEAR - 1, "share": 30},
    )
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    assert SpotCheckSample.objects.count() == 1


# --- Reminders -----------------------------------------------------------------------------------


def test_from_december_the_missing_draw_and_the_unchecked_files_are_reminded(
    county_files, users, orgs, login
):
    supervisor, clerk = users["supervisor_450102"], users["clerk_450102"]
    december = date(YEAR, 12, 1)

    def home(username):
        with on_day(december):
            return login(username).get(reverse("home")).content.decode()

    with on_day(date(YEAR, 11, 30)):
        assert reminders(supervisor, timezone.localdate()) == []
    with on_day(december):
        due = reminders(supervisor, timezone.localdate())
        assert [(d["kind"], d["organisation"].code) for d in due] == [("not_started", "450102")]
        assert reminders(clerk, timezone.localdate()) == []  # clerks do not draw
        admin = login("supervisor_450102").get(reverse("admin:index")).content.decode()
    assert f"{YEAR}年档案抽查未开始" in admin
    assert f"{YEAR}年档案抽查未开始" in home("supervisor_450102")
    assert "年度档案抽查" not in home("clerk_450102")

    sample = draw(users, orgs)
    record(users, sample.items.first(), outcome="confirmed")
    assert f"{YEAR}年档案抽查（兴宁区总工会）尚有 2 份未核查" in home("clerk_450102")
    assert f"{YEAR}年档案抽查未开始" not in home("supervisor_450102")
    for item in sample.items.filter(outcome="pending"):
        record(users, item, outcome="confirmed")
    with on_day(december):
        assert reminders(clerk, timezone.localdate()) == []
    assert "年度档案抽查" not in home("clerk_450102")
    with on_day(december):  # the city draws for its counties, not for itself
        assert reminders(users["supervisor_450100"], timezone.localdate()) == []


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_supervisors_drawing_at_once_make_one_draw(county_files, users, orgs):
    second = users["supervisor2_450102"]
    outcomes = run_at_once(
        [
            lambda: spotcheck_draw(user=users["supervisor_450102"], organisation=orgs["450102"],
                                   year=YEAR, share=30),
            lambda: spotcheck_draw(user=second, organisation=orgs["450102"], year=YEAR,
                                   share=100),
        ]
    )  # fmt: skip
    assert sorted(outcomes) == sorted(["ok", f"兴宁区总工会 {YEAR}年度的档案抽查已经抽取。"]), (
        outcomes
    )
    sample = SpotCheckSample.objects.get()
    assert sample.items.count() == sample.size


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clerks_recording_one_file_at_once_record_it_once(county_files, users, orgs):
    sample = draw(users, orgs)
    item = sample.items.first()
    today = timezone.localdate()
    outcomes = run_at_once(
        [
            lambda: spotcheck_record(user=users["clerk_450102"], item=item, outcome="confirmed",
                                     checked_on=today),
            lambda: spotcheck_record(user=users["clerk_450102"], item=item,
                                     outcome="discrepancy", checked_on=today, note="不符",
                                     action="correct"),
        ]
    )  # fmt: skip
    assert sorted(outcomes) == sorted(["ok", "该档案的抽查结果已登记。"]), outcomes
