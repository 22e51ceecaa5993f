"""Imported legacy files are the earlier system's record: the documents a filing needs now
(services.check_documents) do not stop their import, nor the steps the import appends; an
imported application meets the check at its review, like one entered by hand."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from households import selectors, services
from households.models import Household, Status
from tests.imports.conftest import application_row, household_row, id_number

pytestmark = pytest.mark.django_db


def test_legacy_files_are_imported_without_their_documents(workbook, run):
    worker = id_number()
    path = workbook(
        [
            household_row(档案编号="XN-0001", 身份证号=worker),
            household_row(档案编号="XN-0002", 状态="解困", 解困日期=dt.date(2019, 6, 1)),
        ]
    )
    report = run(path)
    assert report.ok, report.errors
    on_file = Household.objects.get(file_number="XN-0001")
    relieved = Household.objects.get(file_number="XN-0002")
    assert (on_file.status, relieved.status) == (Status.ON_FILE, Status.RELIEVED)
    assert not on_file.documents.exists()
    # Its page says what is missing (因病: a diagnosis too).
    assert [item.kind for item in selectors.documents_missing(on_file)] == [
        "id_copy",
        "hukou",
        "income_proof",
        "bank_card",
        "diagnosis",
    ]

    # A later export brings the exit: appended as imported history, not checked either.
    today = timezone.localdate()
    report = run(
        workbook([household_row(档案编号="XN-0001", 身份证号=worker, 状态="脱困", 脱困日期=today)])
    )
    assert report.ok, report.errors
    assert Household.objects.get(file_number="XN-0001").status == Status.EXITED


def test_an_imported_application_meets_the_check_at_its_review(workbook, run, users):
    report = run(workbook([application_row()]), user="clerk_450102")
    assert report.ok, report.errors
    household = Household.objects.get(file_number="XN-0001")
    assert household.status == Status.APPLIED
    clerk = users["clerk_450102"]
    services.survey_record(
        user=clerk,
        household=household,
        surveyed_on=timezone.localdate(),
        surveyors="王",
        findings="入户",
        incomes={},
    )
    household.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.transition_apply(user=clerk, household=household, action="review")
    assert exc.value.messages[0].startswith("证明材料不全，请先上传：身份证复印件")
