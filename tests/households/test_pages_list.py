"""The household list: one search box, filters, sorting, and pages that never count the table."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from households import idnumbers, services
from households.models import Category, Cause, Household, Origin, Status
from households.services import MemberData, set_identity
from tests.households.conftest import new_id, walk_file

LIST = reverse("households:list")


def rows(response) -> list[str]:
    """The file numbers shown, in order."""
    return [household.file_number for household in response.context["households"]]


def bulk_households(orgs, users, count, *, prefix="B", **fields):
    """Plain rows for list mechanics (paging, sorting, query counts); no lifecycle needed."""
    cause = Cause.objects.get(code="illness")
    households = []
    for n in range(count):
        household = Household(
            organisation=orgs["450102"],
            file_number=f"{prefix}-{n:05d}",
            worker_name=f"测试{n:03d}",
            sex="male",
            birth_date=date(1980, 1, 1),
            primary_cause=cause,
            created_by=users["clerk_450102"],
            status=Status.ON_FILE,
            per_capita_income=Decimal(n),
            **fields,
        )
        set_identity(household, idnumbers.make_id_number("450102", date(1980, 1, 1), n))
        households.append(household)
    return Household.objects.bulk_create(households)


@pytest.fixture
def files(make_household, walk, users, orgs):
    """Five files of county 450102 with different causes, categories, unions and states, and
    one of county 450103."""
    today = timezone.localdate()
    zhang = make_household(
        worker_name="张小明",
        is_migrant_worker=True,
        base_union=orgs["450102001"],
        category=Category.objects.get(code="deep"),
    )
    zhang2 = make_household(worker_name="张三丰", primary="disability")
    li = walk(make_household(worker_name="李四", base_union=orgs["450102002"]), "on_file")
    overdue = walk(make_household(worker_name="王五"), "on_file")
    Household.objects.filter(pk=overdue.pk).update(next_survey_due=today - timedelta(days=3))
    stock = walk(make_household(worker_name="赵六"), "on_file")
    stock.current_period.origin = Origin.STOCK
    stock.current_period.save(update_fields=["origin"])
    other = make_household(worker_name="张外县", org="450103", by="clerk_450103")
    return {
        "zhang": zhang,
        "zhang2": zhang2,
        "li": li,
        "overdue": overdue,
        "stock": stock,
        "other": other,
    }


def numbers(*households) -> set[str]:
    return {h.file_number for h in households}


def test_lists_the_files_in_scope_with_masked_numbers_only(login, files):
    response = login("clerk_450102").get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    shown = set(rows(response))
    assert files["other"].file_number not in shown
    assert len(shown) == 5
    for key in ("zhang", "li"):
        assert files[key].id_masked in page
        assert files[key].id_number not in page


def test_search_by_full_id_number_uses_the_hash(login, files):
    client = login("clerk_450102")
    number = files["li"].id_number
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"q": number.lower()})
    assert rows(response) == [files["li"].file_number]
    listing = [q["sql"] for q in queries if "households_household" in q["sql"]]
    assert any(idnumbers.id_hash(number) in sql for sql in listing)
    assert not any(number in sql for sql in listing)  # the plain number never reaches SQL


def test_search_by_a_members_id_number_finds_the_file(login, files):
    spouse = files["zhang2"].members.exclude(relation="self").get()
    response = login("clerk_450102").get(LIST, {"q": spouse.id_number})
    assert rows(response) == [files["zhang2"].file_number]


def test_search_by_name_prefix_not_substring(login, files):
    client = login("clerk_450102")
    assert set(rows(client.get(LIST, {"q": "张"}))) == numbers(files["zhang"], files["zhang2"])
    assert rows(client.get(LIST, {"q": "小明"})) == []  # startswith, never icontains


def test_search_by_file_number_prefix(login, files):
    client = login("clerk_450102")
    number = files["li"].file_number
    assert rows(client.get(LIST, {"q": number})) == [number]
    assert len(rows(client.get(LIST, {"q": "450102-"}))) == 5
    assert rows(client.get(LIST, {"q": "450103-"})) == []  # another county's, not in scope


def test_search_with_an_unknown_id_number_finds_nothing(login, files):
    response = login("clerk_450102").get(LIST, {"q": new_id()})
    assert rows(response) == []
    assert "没有符合条件的档案" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "draft"}, ["zhang", "zhang2"]),
        ({"status": "on_file"}, ["li", "overdue", "stock"]),
        ({"primary_cause": "disability"}, ["zhang2"]),
        # approved without a category, the files on file took the suggested one
        ({"category": "deep"}, ["zhang", "li", "overdue", "stock"]),
        ({"base_union": "450102002"}, ["li"]),
        ({"is_migrant_worker": "true"}, ["zhang"]),
        ({"is_migrant_worker": "false"}, ["zhang2", "li", "overdue", "stock"]),
        ({"origin": "stock"}, ["stock"]),
        ({"survey_overdue": "true"}, ["overdue"]),
        ({"survey_overdue": "false"}, ["zhang", "zhang2", "li", "stock"]),
        ({"standing": "drafts"}, ["zhang", "zhang2"]),
        ({"standing": "survey_overdue"}, ["overdue"]),
        ({"status": "on_file", "survey_overdue": "false"}, ["li", "stock"]),
    ],
)
def test_filters(login, files, params, expected):
    params = dict(params)
    if "primary_cause" in params:
        params["primary_cause"] = Cause.objects.get(code=params["primary_cause"]).pk
    if "category" in params:
        params["category"] = Category.objects.get(code=params["category"]).pk
    if "base_union" in params:
        from orgs.models import Organisation

        params["base_union"] = Organisation.objects.get(code=params["base_union"]).pk
    response = login("clerk_450102").get(LIST, params)
    assert set(rows(response)) == numbers(*(files[key] for key in expected))


def test_base_union_filter_offers_only_unions_in_scope(login, files, orgs):
    response = login("clerk_450102").get(LIST)
    choices = set(response.context["filter"].form.fields["base_union"].queryset)
    assert choices == {orgs["450102001"], orgs["450102002"]}


def test_an_invalid_filter_shows_nothing_and_says_why(login, files):
    response = login("clerk_450102").get(LIST, {"status": "nonsense"})
    assert rows(response) == []
    assert response.context["filter"].errors


def test_sorting_by_each_column(login, orgs, users):
    bulk_households(orgs, users, 6)
    client = login("clerk_450102")
    assert rows(client.get(LIST, {"sort": "file_number"}))[:2] == ["B-00000", "B-00001"]
    assert rows(client.get(LIST, {"sort": "-per_capita_income"}))[0] == "B-00005"
    assert rows(client.get(LIST, {"sort": "worker_name"}))[0] == "B-00000"
    for column in ("status_changed_on", "next_survey_due", "-file_number"):
        assert client.get(LIST, {"sort": column}).status_code == 200
    page = client.get(LIST, {"sort": "file_number"}).content.decode()
    assert 'aria-sort="ascending"' in page
    assert "sort=-file_number" in page  # the header link reverses the order


def test_pages_of_the_chosen_size_without_counting(login, orgs, users):
    bulk_households(orgs, users, 30)
    client = login("clerk_450102")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(LIST, {"sort": "file_number"})
    assert not any("COUNT(" in q["sql"].upper() for q in queries)
    assert len(rows(first)) == 25
    assert first.context["page"].has_next
    assert "第1页" in first.content.decode()
    second = client.get(LIST, {"sort": "file_number", "page": 2})
    assert rows(second) == [f"B-{n:05d}" for n in range(25, 30)]
    assert not second.context["page"].has_next
    assert "第2页" in second.content.decode()
    assert len(rows(client.get(LIST, {"size": 50}))) == 30
    assert len(rows(client.get(LIST, {"size": 7}))) == 25  # only 25, 50 or 100
    assert rows(client.get(LIST, {"page": "x", "sort": "file_number"})) == rows(first)


@pytest.mark.parametrize("number", ["99999999999999999999", "1000001", str(2**63)])
def test_a_page_number_beyond_any_list_is_not_found(login, orgs, users, number):
    bulk_households(orgs, users, 3)
    assert login("viewer_450000").get(LIST, {"page": number}).status_code == 404


def test_a_page_after_the_last_is_empty(login, orgs, users):
    bulk_households(orgs, users, 3)
    response = login("clerk_450102").get(LIST, {"page": 1_000_000})
    assert response.status_code == 200 and rows(response) == []


def test_next_and_previous_links_keep_the_filters(login, orgs, users):
    bulk_households(orgs, users, 30)
    page = login("clerk_450102").get(LIST, {"q": "B-", "size": 25}).content.decode()
    assert "page=2" in page and "q=B-" in page
    page = login("clerk_450102").get(LIST, {"q": "B-", "page": 2}).content.decode()
    assert "page=1" in page


@pytest.mark.parametrize("size", [25, 50])
def test_the_list_makes_a_fixed_number_of_queries(
    login, orgs, users, size, make_household, django_assert_num_queries
):
    bulk_households(
        orgs, users, 60, category=Category.objects.get(code="deep"), base_union=orgs["450102001"]
    )
    make_household(members=[MemberData(relation="child", name="小明")])
    client = login("clerk_450102")
    client.get(LIST)  # warm the session
    # Session, user, permissions (2), the user's organisation, ONE page of files (page size + 1
    # rows with their organisation, union, cause and category joined), roles for the menu, and
    # the choices of the cause, category and base-union filters.
    with django_assert_num_queries(10):
        response = client.get(LIST, {"size": size, "sort": "worker_name"})
    assert len(rows(response)) == size


def test_the_list_never_reads_the_encrypted_columns(login, orgs, users):
    bulk_households(orgs, users, 3)
    with CaptureQueriesContext(connection) as queries:
        login("clerk_450102").get(LIST)
    listing = [q["sql"] for q in queries if 'FROM "households_household"' in q["sql"]]
    assert listing
    assert not any('"households_household"."id_number"' in sql for sql in listing)
    assert not any('"households_household"."bank_account",' in sql for sql in listing)


def test_ties_are_broken_by_id_in_the_sort_direction(login, orgs, users):
    created = bulk_households(orgs, users, 3)
    Household.objects.update(worker_name="同名")
    ids = sorted(h.pk for h in Household.objects.all())
    assert len(created) == 3
    client = login("clerk_450102")
    ascending = client.get(LIST, {"sort": "worker_name"}).context["households"]
    descending = client.get(LIST, {"sort": "-worker_name"}).context["households"]
    assert [h.pk for h in ascending] == ids
    assert [h.pk for h in descending] == ids[::-1]


def test_only_files_under_support_are_marked_overdue(login, files, users):
    """A closed file is visited no more: no survey due date, no red mark, even if one was left
    on it (files closed before migration 0010)."""
    closed = walk_file(users, files["zhang2"], "on_file")
    services.transition_apply(
        user=users["supervisor_450102"],
        household=closed,
        action="exit",
        reason="收入连续六个月高于低保标准",
    )
    closed.refresh_from_db()
    assert closed.status == "exited" and closed.next_survey_due is None
    page = login("clerk_450102").get(LIST).content.decode()
    assert page.count('class="overdue"') == 1
    past = timezone.localdate() - timedelta(days=3)
    Household.objects.filter(pk=closed.pk).update(next_survey_due=past)
    page = login("clerk_450102").get(LIST).content.decode()
    assert page.count('class="overdue"') == 1
