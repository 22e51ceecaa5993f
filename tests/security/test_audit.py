"""Audit completeness: changes made on the staff pages keep field history with the user, old and
new values; the admin shows that history read-only (no revert), with ID numbers masked; money
records are never edited (receipts and refunds are read-only, ledger entries append-only)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from funds.models import AppendOnlyError, LedgerEntry
from households.models import Document, Member
from services.models import Case, Window
from services.services import case_create
from tests.households.conftest import dibao, make_household, new_id, walk  # noqa: F401

PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def form_data(response, **typed) -> dict:
    """What the page's form would post untouched, with `typed` on top."""
    data = {}
    forms = [response.context["form"]]
    formset = response.context.get("formset")
    if formset is not None:
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value
    data.update(typed)
    return data


def test_a_member_change_keeps_who_when_old_and_new(login, users, make_household):  # noqa: F811
    household = make_household()
    spouse = household.members.get(relation="spouse")
    clerk = login("clerk_450102")
    url = reverse("households:edit", args=[household.pk])
    page = clerk.get(url)
    prefix = next(
        form.prefix for form in page.context["formset"].forms if form["name"].value() == "李芳"
    )
    response = clerk.post(url, form_data(page, **{f"{prefix}-monthly_income": "450.00"}))
    assert response.status_code == 302, response.context and response.context["formset"].errors

    latest = Member.history.filter(id=spouse.pk).latest("history_date")
    assert latest.history_type == "~"
    assert latest.history_user == users["clerk_450102"]
    delta = latest.diff_against(latest.prev_record)
    [change] = [c for c in delta.changes if c.field == "monthly_income"]
    assert (str(change.old), str(change.new)) == ("0.00", "450.00")
    # The file's timeline on the staff page shows it.
    detail = clerk.get(reverse("households:detail", args=[household.pk]))
    history = [e for e in detail.context["timeline"] if e["kind"] == "history"]
    changes = [c for e in history for c in e["changes"]]
    assert any(c["field"].startswith("李芳") and c["new"] == "450.00" for c in changes), changes
    assert all(e["actor"] == str(users["clerk_450102"]) for e in history)


@pytest.fixture
def case(users):
    return case_create(
        user=users["clerk_450102"],
        case=Case(
            organisation=users["clerk_450102"].organisation,
            window=Window.objects.get(code="legal_aid"),
            handler=users["clerk_450102"],
            worker_name="王芳",
            worker_id_number=new_id(1975),
            matter="欠薪",
        ),
    )


def test_a_service_case_change_and_closing_keep_history(login, users, case):
    clerk = login("clerk_450102")
    url = reverse("services:case_update", args=[case.pk])
    page = clerk.get(url)
    new_number = new_id(1976)
    response = clerk.post(
        url, form_data(page, matter="欠薪三个月", worker_id_number=new_number, window="legal_aid")
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    edit = case.history.latest("history_date")
    assert edit.history_user == users["clerk_450102"] and edit.history_type == "~"
    fields = {c.field: (c.old, c.new) for c in edit.diff_against(edit.prev_record).changes}
    assert fields["matter"] == ("欠薪", "欠薪三个月")

    close = reverse("services:case_close", args=[case.pk])
    response = clerk.post(close, form_data(clerk.get(close), outcome="已追回工资"))
    assert response.status_code == 302
    closed = case.history.latest("history_date")
    assert closed.status == "closed" and closed.history_user == users["clerk_450102"]
    event = case.events.latest("at")
    assert (event.action, event.actor) == ("closed", users["clerk_450102"])

    # The admin's history of the case: read-only, and the ID numbers only masked.
    supervisor = login("supervisor_450102")
    history = supervisor.get(reverse("admin:services_case_history", args=[case.pk]))
    assert history.status_code == 200
    html = history.content.decode()
    assert new_number not in html and case.worker_id_number not in html
    assert new_number[:6] + "********" + new_number[-4:] in html


def test_admin_history_cannot_revert(login, users, make_household, settings):  # noqa: F811
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
    household = make_household()
    clerk = login("clerk_450102")
    url = reverse("households:edit", args=[household.pk])
    clerk.post(url, form_data(clerk.get(url), phone="13800138000"))
    household.refresh_from_db()
    first = household.history.earliest("history_date")

    supervisor = login("supervisor_450102")
    version = reverse(
        "admin:households_household_simple_history", args=[household.pk, first.history_id]
    )
    page = supervisor.get(version)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert supervisor.post(version, {"phone": ""}).status_code == 403
    household.refresh_from_db()
    assert household.phone == "13800138000"


def test_documents_keep_history(login, users, make_household):  # noqa: F811
    household = make_household(documents=False)
    clerk = login("clerk_450102")
    clerk.post(
        reverse("households:document_upload", args=[household.pk]),
        {"kind": "income_proof", "file": SimpleUploadedFile("证明.pdf", PDF)},
    )
    document = Document.objects.get()
    clerk.post(reverse("households:document_withdraw", args=[document.pk]), {"reason": "错传"})
    kinds = list(document.history.order_by("history_date").values_list("history_type", "is_active"))
    assert kinds == [("+", True), ("~", False)]
    assert {h.history_user for h in document.history.all()} == {users["clerk_450102"]}


def test_money_records_are_never_edited(login, users, orgs):
    from decimal import Decimal

    from django.utils import timezone

    from funds import services as funds
    from funds.models import FundSource

    receipt = funds.receipt_record(
        user=users["finance_450102"],
        organisation=orgs["450102"],
        source=FundSource.objects.get(code="central"),
        year=timezone.localdate().year,
        amount=Decimal("100.00"),
        received_on=timezone.localdate(),
        document_number="桂财行〔2026〕9号",
    )
    entry = receipt.entries.get()
    entry.amount = Decimal("1.00")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    # In the admin receipts and refunds are shown, not changed, even to administrators.
    admin = login("admin_450102")
    change = reverse("admin:funds_receipt_change", args=[receipt.pk])
    assert admin.post(change, {"amount": "1.00"}).status_code == 403
    receipt.refresh_from_db()
    assert receipt.amount == Decimal("100.00") and receipt.created_by == users["finance_450102"]
