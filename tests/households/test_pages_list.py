"""The household list: one search box, filters, sorting, and pages that never count the table."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from households import idnumbers, services
from households.filters import STANDING_LIST_CHOICES
from households.models import Category, Cause, Household, Origin, Status
from households.services import MemberData, set_identity
from tests.households.conftest import MIGRANT, new_id, walk_file
from tests.id_search import assert_number_in_no_url, csrf_checked_search

LIST = reverse("households:list")
COUNT = reverse("households:list_total")


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
        **MIGRANT,
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


def search(client, text, **fields):
    """Type in the box and press 查找: the form is posted and answered with a redirect."""
    return client.post(LIST, {"q": text, **fields}, follow=True)


def test_search_by_full_id_number_uses_the_hash(login, files):
    client = login("clerk_450102")
    number = files["li"].id_number
    with CaptureQueriesContext(connection) as queries:
        response = search(client, number.lower())
    assert rows(response) == [files["li"].file_number]
    listing = [q["sql"] for q in queries if "households_household" in q["sql"]]
    assert any(idnumbers.id_hash(number) in sql for sql in listing)
    assert not any(number in sql for sql in listing)  # the plain number never reaches SQL


def test_an_id_number_search_keeps_the_number_out_of_every_url(login, files):
    """PIPL: a URL lands in access logs, history and bookmarks. The box's text goes by POST,
    the list's address carries the keyed hash, and the box shows the masked number."""
    number = files["li"].id_number
    response = search(login("clerk_450102"), f" {number[:6]} {number[6:]} ")
    assert [status for _url, status in response.redirect_chain] == [303]
    assert response.redirect_chain[0][0] == f"{LIST}?idh={idnumbers.id_hash(number)}"
    assert_number_in_no_url(response, number)
    page = response.content.decode()
    assert number not in page
    assert f'value="{files["li"].id_masked}"' in page  # 450102********1234 in the box
    assert f'name="idh" value="{idnumbers.id_hash(number)}"' in page


def test_a_first_generation_number_finds_its_holder_and_stays_out_of_urls(login, files):
    """An old 15-digit number (from a paper file, say) is the same person as its 18-character
    form: it finds the file and, being an ID number, goes by its hash."""
    number = files["li"].id_number
    assert number[6:8] == "19"
    old = number[:6] + number[8:17]
    response = search(login("clerk_450102"), old)
    assert rows(response) == [files["li"].file_number]
    assert response.redirect_chain[0][0] == f"{LIST}?idh={idnumbers.id_hash(number)}"
    assert_number_in_no_url(response, old)


def test_search_by_a_members_id_number_finds_the_file(login, files):
    spouse = files["zhang2"].members.exclude(relation="self").get()
    response = search(login("clerk_450102"), spouse.id_number)
    assert rows(response) == [files["zhang2"].file_number]
    assert_number_in_no_url(response, spouse.id_number)
    assert f'value="{spouse.id_masked}"' in response.content.decode()


def test_search_with_an_unknown_id_number_finds_nothing(login, files):
    number = new_id()
    response = search(login("clerk_450102"), number)
    assert rows(response) == []
    page = response.content.decode()
    assert "没有符合条件的档案" in page
    assert f'value="{number[:6]}********{number[-4:]}"' in page  # what was searched
    assert_number_in_no_url(response, number)


def test_another_countys_id_number_finds_nothing(login, files):
    response = search(login("clerk_450102"), files["other"].id_number)
    assert rows(response) == []


def test_an_id_number_in_an_old_address_is_redirected_to_its_hash(login, files):
    """A bookmark or typed address with ?q=<ID number> still finds the file, by a redirect at
    once (the number reached the access log with that request, but leaves the address)."""
    number = files["li"].id_number
    response = login("clerk_450102").get(LIST, {"q": number, "status": "on_file"}, follow=True)
    assert rows(response) == [files["li"].file_number]
    location = response.redirect_chain[0][0]
    assert "status=on_file" in location and f"idh={idnumbers.id_hash(number)}" in location
    assert_number_in_no_url(response, number)
    assert f'value="{files["li"].id_masked}"' in response.content.decode()


def test_sorting_paging_and_filters_keep_the_hash(login, files):
    client = login("clerk_450102")
    number = files["li"].id_number
    key = idnumbers.id_hash(number)
    search(client, number)  # the session knows the masked number
    response = client.get(LIST, {"idh": key, "page": 2, "sort": "worker_name"})
    context = response.context
    links = [context["previous_url"], *(c["url"] for c in context["columns"].values())]
    links += [option["url"] for option in context["page_sizes"]]
    assert all(f"idh={key}" in link for link in links)
    # A filter changed below the box, which still shows the masked number: the hash stays.
    response = client.post(
        LIST, {"q": files["li"].id_masked, "idh": key, "status": "on_file"}, follow=True
    )
    assert response.redirect_chain[0][0] == f"{LIST}?idh={key}&status=on_file"
    assert rows(response) == [files["li"].file_number]
    # Another text typed over it: a text search, the hash gone.
    response = client.post(LIST, {"q": "张", "idh": key}, follow=True)
    assert response.redirect_chain[0][0] == f"{LIST}?q=%E5%BC%A0"
    assert set(rows(response)) == numbers(files["zhang"], files["zhang2"])


@pytest.mark.parametrize(
    "value", ["", "nonsense", "g" * 64, "A" * 64, "0" * 63, "' OR 1=1 --", "0" * 65]
)
def test_a_bogus_hash_matches_nothing(login, files, value):
    response = login("clerk_450102").get(LIST, {"idh": value})
    assert response.status_code == 200
    assert rows(response) == []


def test_a_hash_searched_elsewhere_shows_a_placeholder_in_the_box(login, files):
    """A bookmarked ?idh= opened in another session: the session does not know the masked
    number; the list still finds the file and the box says what it searches."""
    key = idnumbers.id_hash(files["li"].id_number)
    response = login("clerk_450102").get(LIST, {"idh": key})
    assert rows(response) == [files["li"].file_number]
    assert 'value="（按身份证号码查找）"' in response.content.decode()


def test_the_search_form_is_posted_with_the_csrf_token(users, files):
    number = files["li"].id_number
    response = csrf_checked_search(
        users["clerk_450102"], LIST, number, form_id='<form method="post" class="card filters'
    )
    assert rows(response) == [files["li"].file_number]
    assert_number_in_no_url(response, number)


def test_name_and_file_number_searches_go_by_the_text(login, files):
    client = login("clerk_450102")
    response = search(client, files["li"].file_number)
    assert rows(response) == [files["li"].file_number]
    assert response.redirect_chain[0][0] == f"{LIST}?q={files['li'].file_number}"
    response = search(client, "张", status="draft")
    assert set(rows(response)) == numbers(files["zhang"], files["zhang2"])


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


@pytest.mark.parametrize("key", [key for key, _label in STANDING_LIST_CHOICES])
def test_a_standing_list_narrows_the_lists_own_query(login, files, key):
    """As a subquery of its own (`pk IN (SELECT …)`), the never-assisted list of 100,000 files
    took 3 s on PostgreSQL; the list's query takes the standing list's conditions instead, and
    combines them with the other filters."""
    client = login("clerk_450102")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"standing": key, "status": "on_file"})
    assert response.status_code == 200
    listed = [q["sql"] for q in queries if 'FROM "households_household"' in q["sql"]]
    assert listed and not any('"households_household"."id" IN (SELECT' in sql for sql in listed)
    statuses = {h.status for h in response.context["households"]}
    assert statuses <= {"on_file"}


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


def test_files_without_a_survey_due_come_last_in_both_directions(login, orgs, users):
    bulk_households(orgs, users, 6)
    today = timezone.localdate()
    dated = {"B-00002": today + timedelta(days=3), "B-00004": today + timedelta(days=9)}
    for number, due in dated.items():
        Household.objects.filter(file_number=number).update(next_survey_due=due)
    Household.objects.exclude(file_number__in=dated).update(next_survey_due=None)
    client = login("clerk_450102")
    assert rows(client.get(LIST, {"sort": "next_survey_due"}))[:2] == ["B-00002", "B-00004"]
    assert rows(client.get(LIST, {"sort": "-next_survey_due"}))[:2] == ["B-00004", "B-00002"]


def test_pages_of_the_chosen_size_without_counting(login, orgs, users):
    bulk_households(orgs, users, 30)
    client = login("clerk_450102")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(LIST, {"sort": "file_number"})
    assert not any("COUNT(" in q["sql"].upper() for q in queries)  # the total comes after
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
    # the choices of the cause, category and base-union filters. (The total comes after.)
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


@pytest.mark.parametrize(
    ("url", "field"),
    [("/households/", "status"), ("/funds/requests/", "state"), ("/services/", "channel")],
)
def test_list_filters_offer_all_rather_than_dashes(login, orgs, url, field):
    page = login("clerk_450102").get(url).content.decode()
    select = page[page.index(f'name="{field}"') :]
    select = select[: select.index("</select>")]
    assert '<option value="" selected>全部</option>' in select and "---------" not in page
    english = login("clerk_450102")
    english.cookies["django_language"] = "en"
    assert ">All</option>" in english.get(url).content.decode()


def test_the_default_sort_is_named(login, orgs):
    page = login("clerk_450102").get("/households/").content.decode()
    assert '<option value="" selected>最新录入在前</option>' in page


def test_the_list_fetches_how_many_files_match_once_shown(login, orgs, users, monkeypatch):
    from households import views

    bulk_households(orgs, users, 60)
    client = login("clerk_450102")
    page = client.get(LIST, {"size": 25, "q": "B-"}).content.decode()
    assert 'hx-get="/households/count/?size=25&amp;q=B-"' in page and 'hx-trigger="load"' in page
    with CaptureQueriesContext(connection) as queries:
        total = client.get(COUNT, {"size": 25, "q": "B-"}).content.decode()
    assert "共 60 户" in total
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 10001" in counts[0]  # never the whole result
    assert "共 0 户" in login("clerk_450103").get(COUNT).content.decode()  # scoped
    client = login("clerk_450102")
    assert "共 0 户" in client.get(COUNT, {"q": "没有这个人"}).content.decode()
    # Beyond the cap the count stops reading and says "more than".
    monkeypatch.setattr(views, "COUNT_CAP", 50)
    total = client.get(COUNT).content.decode()
    assert "超过 50 户" in total and "60" not in total
    assert client.post(COUNT).status_code == 405
    client.cookies["django_language"] = "en"
    monkeypatch.setattr(views, "COUNT_CAP", 10_000)
    assert "60 households" in client.get(COUNT).content.decode()
    assert ">1 household<" in client.get(COUNT, {"q": "B-00001"}).content.decode()


def test_a_page_past_the_last_leads_back_to_the_first(login, orgs, users):
    bulk_households(orgs, users, 3)
    page = login("clerk_450102").get(LIST, {"page": 99, "status": "on_file"}).content.decode()
    assert "这一页已没有档案。" in page and 'href="?status=on_file">回到第一页</a>' in page
