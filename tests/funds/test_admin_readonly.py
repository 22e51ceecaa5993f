"""What the admin prints read-only (orgs/readonly.py): amounts as the staff pages print them, on
change pages, inlines, earlier versions and their list of changes."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from funds.models import AssistanceStandard
from households.models import Member
from orgs.models import Organisation
from orgs.money import is_money
from orgs.readonly import ReadonlyValuesMixin

YEAR = timezone.localdate().year


def readonly(page: str, name: str) -> str:
    """The read-only value printed for field `name` on a change page."""
    match = re.search(rf'field-{name}\b.*?<div class="readonly">(.*?)</div>', page, re.S)
    return match.group(1).strip()


def cells(page: str, name: str) -> list[str]:
    """The read-only values of field `name` in a tabular inline."""
    return [c.strip() for c in re.findall(rf'<td class="field-{name}">\s*<p>(.*?)</p>', page, re.S)]


@pytest.fixture
def money(filed, receive, ask, approve):
    receipt = receive("50000.00", on=date(YEAR, 1, 2))
    household = filed()
    request = approve(ask(household, "1200.50", kind="festival"))
    return {"receipt": receipt, "household": household, "request": request}


def test_every_admin_of_the_site_prints_read_only_values_alike():
    assert all(isinstance(ma, ReadonlyValuesMixin) for ma in admin.site._registry.values())


def test_amounts_are_money_and_other_decimals_are_not():
    assert is_money(AssistanceStandard._meta.get_field("amount_cap"))
    assert not is_money(AssistanceStandard._meta.get_field("annual_months_deep"))
    assert not is_money(Organisation._meta.get_field("eligibility_multiple"))  # 1.50 times


def test_a_view_only_page_prints_its_amounts_in_yuan(login, money):
    """A receipt (nobody changes it in the admin): 50,000.00, not 50000.00."""
    url = reverse("admin:funds_receipt_change", args=[money["receipt"].pk])
    page = login("finance_450102").get(url).content.decode()
    assert readonly(page, "amount") == "50,000.00"
    assert "50000.00" not in page


def test_declared_read_only_fields_print_in_yuan_and_an_empty_one_as_a_dash(login, money):
    url = reverse("admin:funds_assistancerequest_change", args=[money["request"].pk])
    page = login("supervisor_450102").get(url).content.decode()
    assert readonly(page, "amount") == "1,200.50"
    assert readonly(page, "out_of_pocket") == "-"  # none: the admin's dash, not "None"
    # still labelled and classed as the field
    assert re.search(r'<label>金额（元）:</label>\s*<div class="readonly">1,200.50', page)


def test_an_inline_prints_its_amounts_in_yuan(login, money):
    household = money["household"]
    Member.objects.filter(household=household, relation="self").update(
        monthly_income=Decimal("12345.60")
    )
    url = reverse("admin:households_household_change", args=[household.pk])
    page = login("supervisor_450102").get(url).content.decode()
    assert "12,345.60" in cells(page, "monthly_income")
    assert "12345.60" not in page
    # the column's header is the field's
    assert re.search(r'<th class="column-monthly_income">\s*月收入（元）', page)


def test_the_list_of_changes_prints_amounts_in_yuan(login, standard, orgs):
    row = standard("living", year=YEAR, org="450102", amount_cap=Decimal("5000.00"))
    client = login("admin_450102")
    change = reverse("admin:funds_assistancestandard_change", args=[row.pk])
    form = client.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(organisation=orgs["450102"].pk, amount_cap="6000.00")
    assert client.post(change, data).status_code == 302
    history = reverse("admin:funds_assistancestandard_history", args=[row.pk])
    page = client.get(history).content.decode()
    assert "5,000.00" in page and "6,000.00" in page
    assert "5000.00" not in page and "6000.00" not in page


@pytest.mark.parametrize(
    "language, label",
    [("zh-hans", "每次最高金额（元）："), ("en", "Maximum per payment (yuan): ")],
)
def test_the_list_of_changes_reads_in_the_interface_language(
    login, standard, orgs, language, label
):
    """A change made without a reason shows an empty reason, not "None"; a changed field's
    name is followed by the language's colon (full-width in Chinese)."""
    row = standard("living", year=YEAR, org="450102", amount_cap=Decimal("5000.00"))
    client = login("admin_450102")
    client.cookies["django_language"] = language
    change = reverse("admin:funds_assistancestandard_change", args=[row.pk])
    form = client.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(organisation=orgs["450102"].pk, amount_cap="6000.00")
    assert client.post(change, data).status_code == 302
    history = reverse("admin:funds_assistancestandard_history", args=[row.pk])
    page = client.get(history).content.decode()
    assert f"<strong>{label}</strong>" in page
    body = page.split('<table id="change-history"')[1].split("<tbody>")[1].split("</tbody>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in body.split("</tr>")[:-1]]
    reasons = [cells[4].strip() for cells in rows]  # object, date, comment, by, reason
    assert reasons == ["", ""]


def test_an_earlier_version_prints_amounts_in_yuan(login, money):
    request = money["request"]
    version = request.history.earliest()
    url = reverse("admin:funds_assistancerequest_simple_history", args=[request.pk, version.pk])
    page = login("supervisor_450102").get(url).content.decode()
    assert readonly(page, "amount") == "1,200.50"


# --- Related records: a link only to a page the user may open ----------------------------------


def readonly_cell(page: str, name: str, text: str) -> str:
    """The read-only cell of field `name` that names `text`, link or not (a form or an inline)."""
    match = re.search(
        rf'field-{name}\b[^>]*>(?:(?!field-).)*?((?:<a href="[^"]*">)?{re.escape(text)})',
        page,
        re.S,
    )
    return match.group(1)


def link_in(cell: str) -> str | None:
    match = re.match(r'<a href="([^"]*)">', cell)
    return match.group(1) if match else None


@pytest.fixture
def decided_by_the_city(money, ask, approve, standard, add_user):
    """A request of county 450102 approved by its supervisor, then by the city's above it."""
    standard(
        "living", year=YEAR, second_approval_above=Decimal("1000.00"), second_approver="parent"
    )
    add_user("supervisor_450100", "450100", "supervisor")
    request = ask(money["household"], "2000.00", kind="living")
    approve(request)
    return approve(request, by="supervisor_450100")


def test_a_county_sees_the_city_above_and_its_approver_named_not_linked(
    client, login, users, orgs, decided_by_the_city
):
    url = reverse("admin:funds_assistancerequest_change", args=[decided_by_the_city.pk])
    county = login("supervisor_450102")
    page = county.get(url).content.decode()
    city, city_supervisor = orgs["450100"], users["supervisor_450100"]
    for name, target in [("approver_organisation", city), ("approver", city_supervisor)]:
        assert link_in(readonly_cell(page, name, str(target))) is None
        opts = target._meta
        own_page = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[target.pk])
        assert own_page not in page
        assert county.get(own_page).status_code == 404  # what the link would have opened
    # the county's own: links that open
    for name, target in [
        ("organisation", orgs["450102"]),
        ("approver_organisation", orgs["450102"]),
        ("approver", users["supervisor_450102"]),
    ]:
        link = link_in(readonly_cell(page, name, str(target)))
        assert link is not None and county.get(link).status_code == 200
    # the city's supervisor opens both
    page = login("supervisor_450100").get(url).content.decode()
    assert link_in(readonly_cell(page, "approver_organisation", str(city))) is not None
    assert link_in(readonly_cell(page, "approver", str(city_supervisor))) is not None


def test_a_record_the_user_has_no_right_to_view_is_named_not_linked(login, users, money):
    """Finance reads a receipt: the user who entered it is a name (finance may not view users,
    its page answers 403); the organisation and the fund source are links."""
    url = reverse("admin:funds_receipt_change", args=[money["receipt"].pk])
    finance = login("finance_450102")
    page = finance.get(url).content.decode()
    assert link_in(readonly_cell(page, "created_by", str(users["finance_450102"]))) is None
    user_page = reverse("admin:orgs_user_change", args=[users["finance_450102"].pk])
    assert user_page not in page and finance.get(user_page).status_code == 403
    for name, target in [
        ("organisation", money["receipt"].organisation),
        ("source", money["receipt"].source),
    ]:
        link = link_in(readonly_cell(page, name, str(target)))
        assert link is not None and finance.get(link).status_code == 200
    # a supervisor of the county may view its users: a link
    page = login("supervisor_450102").get(url).content.decode()
    assert link_in(readonly_cell(page, "created_by", str(users["finance_450102"]))) == user_page
