"""A job's errors as a workbook (下载错误清单), and the job page's list of them held to its first
ERRORS_SHOWN with a line saying how many more the download has."""

import re
from io import BytesIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from imports.errors import ERRORS_SHOWN
from imports.models import ImportJob
from orgs.models import AccessLog, User
from tests.imports.conftest import application_row, household_row, member_row
from tests.imports.test_pages import a_job, upload

pytestmark = pytest.mark.django_db

HEADERS = ("工作表", "行", "列", "错误")


def error(row, message="组织代码“999999”不存在。", sheet="households", column="组织代码"):
    return {"sheet": sheet, "row": row, "column": column, "message": message}


def rejected(users, errors, username="clerk_450102", name="历年档案.xlsx") -> ImportJob:
    """A households import of `username` whose check found `errors` (stored as a job does)."""
    preview = {"kind": "households", "dry_run": True, "sheets": {}, "errors": errors}
    return a_job(users, username, "households", name, state="rejected", preview=preview)


def rows_of(response) -> tuple[list[tuple], object]:
    book = load_workbook(BytesIO(response.content))
    [sheet] = book.worksheets
    return list(sheet.iter_rows(values_only=True)), sheet


def listed(job) -> list[tuple]:
    return [(e["sheet"], e["row"], e["column"], e["message"]) for e in job.preview["errors"]]


@pytest.fixture
def root(orgs):
    return User.objects.create_superuser("root", password="x" * 12)


@pytest.mark.parametrize("uploader", ["clerk_450102", "admin_450102"])
def test_the_error_list_is_the_pages_with_numbers_masked(login, workbook, orgs, uploader):
    """What the check found, row for row as the page lists it: the cells it quotes with their
    ID, bank and phone numbers masked, under a frozen header row, in a file naming the job."""
    row = application_row(
        身份证号=450102197506010123,  # a number: Excel keeps 15 digits
        银行账号=6217000012345678,
        联系电话="13800138000，0771-5551234",  # two phones in one cell: too long
    )
    client = login(uploader)
    upload(client, workbook([row, household_row(组织代码="999999")], [member_row()]))
    job = ImportJob.objects.get()
    assert job.state == "rejected" and len(job.preview["errors"]) >= 3
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    url = reverse("imports:errors", args=[job.pk])
    assert f'href="{url}"' in page and "下载错误清单" in page

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"-{job.pk}-" in response["Content-Disposition"]
    assert "attachment" in response["Content-Disposition"]
    rows, sheet = rows_of(response)
    assert rows[0] == HEADERS
    assert rows[1:] == listed(job)
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["D"].width > sheet.column_dimensions["B"].width
    text = " ".join(str(cell) for line in rows for cell in line)
    for number in ("450102197506010", "621700001234567", "13800138000"):
        assert number not in text
    assert "450102********0000" in text
    # the page quotes the same messages
    for message in [r[3] for r in rows[1:]]:
        assert message.replace("“", "&ldquo;") in page or message in page


def test_a_superuser_downloads_anybody_elses_error_list(client, users, root):
    """The page opens for its uploader and for a superuser (ImportJobQuerySet.openable_by),
    and so does the download."""
    job = rejected(users, [error(2), error(3)])
    client.force_login(root)
    assert client.get(reverse("imports:job", args=[job.pk])).status_code == 200
    rows, _sheet = rows_of(client.get(reverse("imports:errors", args=[job.pk])))
    assert rows[1:] == listed(job)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        # colleagues who see the job in the admin and may export its kind (downloadable_by)
        ("supervisor_450102", 200),
        ("admin_450102", 200),
        ("admin_450000", 200),  # the region's administrator: the county is in its subtree
        # finance and the city's viewer do not see household jobs at all; another county's
        # staff not this county's
        ("finance_450102", 404),
        ("viewer_450100", 404),
        ("clerk_450103", 404),
        ("supervisor_450103", 404),
    ],
)
def test_the_error_list_downloads_for_whom_may_export_the_jobs_kind(login, users, username, status):
    """The job's page stays its uploader's (404 to everybody else), but the whole error list
    downloads for a colleague of the subtree who may take the kind out (ImportJob
    .errors_downloadable_by, the export download's rule): the admin shows them its first
    ERRORS_SHOWN errors, and the messages are stored masked. Nothing of the job leaks to the
    others."""
    job = rejected(users, [error(2), error(3, message="独有的错误信息")])
    client = login(username)
    assert client.get(reverse("imports:job", args=[job.pk])).status_code == 404
    response = client.get(reverse("imports:errors", args=[job.pk]))
    assert response.status_code == status
    if status == 200:
        rows, _sheet = rows_of(response)
        assert rows[1:] == listed(job)
    else:
        assert "独有的错误信息".encode() not in response.content
        assert job.original_name.encode() not in response.content
        assert not AccessLog.objects.exists()


@pytest.fixture
def importer(users, orgs):
    """A user of the county who may import household files (so sees their jobs in the admin)
    but not export them: no role is so today, a group may be made so."""
    group = Group.objects.create(name="importers only")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="imports",
            codename__in=["import_households", "view_importjob"],
        )
    )
    user = User.objects.create_user(
        "importer_450102", password="x" * 12, organisation=orgs["450102"], is_staff=True
    )
    user.groups.add(group)
    return user


def test_who_sees_the_job_but_may_not_export_its_kind_gets_403(client, users, importer):
    job = rejected(users, [error(2, message="独有的错误信息")])
    client.force_login(importer)
    page = client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
    assert page.status_code == 200 and "独有的错误信息" in page.content.decode()
    assert reverse("imports:errors", args=[job.pk]) not in page.content.decode()
    response = client.get(reverse("imports:errors", args=[job.pk]))
    assert response.status_code == 403
    assert "独有的错误信息".encode() not in response.content
    assert not AccessLog.objects.exists()


def test_every_download_of_an_error_list_is_in_the_access_log(login, users):
    """Who, when and which job, as an export's download: the list quotes the upload's cells."""
    job = rejected(users, [error(2)])
    before = timezone.now()
    login("clerk_450102").get(reverse("imports:errors", args=[job.pk]))
    login("supervisor_450102").get(reverse("imports:errors", args=[job.pk]))
    login("clerk_450103").get(reverse("imports:errors", args=[job.pk]))  # 404: not logged
    logs = AccessLog.objects.order_by("id")
    assert [(log.user.username, log.action, log.target, log.organisation) for log in logs] == [
        (name, AccessLog.Action.EXPORT, f"imports.ImportJob:{job.pk}", job.organisation)
        for name in ("clerk_450102", "supervisor_450102")
    ]
    assert all(log.at >= before for log in logs)
    assert "错误清单" in logs[0].detail and f"#{job.pk}" in logs[0].detail


def test_a_job_without_errors_logs_no_download(login, users):
    job = rejected(users, [])
    assert login("clerk_450102").get(reverse("imports:errors", args=[job.pk])).status_code == 404
    assert not AccessLog.objects.exists()


def test_anonymous_is_sent_to_log_in(client, users):
    job = rejected(users, [error(2)])
    response = client.get(reverse("imports:errors", args=[job.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_formulas_in_the_errors_are_neutralised(login, users):
    """A message quotes the bad cell, which may be a formula someone typed as text: Excel
    would run it when the clerk opens the error list."""
    job = rejected(
        users,
        [
            error(2, message='=HYPERLINK("http://x","点此")', column="+列"),
            error(3, message="-1+2", sheet="@sheet"),
        ],
    )
    rows, _sheet = rows_of(login("clerk_450102").get(reverse("imports:errors", args=[job.pk])))
    assert rows[1] == ("households", 2, "'+列", '\'=HYPERLINK("http://x","点此")')
    assert rows[2] == ("'@sheet", 3, "组织代码", "'-1+2")


def test_the_headers_are_in_the_readers_language(login, users):
    """The headers are the page's, in the reader's language; the messages stay as written."""
    job = rejected(users, [error(2), error(None, message="缺少工作表 members。", column="")])
    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    response = client.get(reverse("imports:errors", args=[job.pk]))
    rows, sheet = rows_of(response)
    assert rows[0] == ("Sheet", "Row", "Column", "Error")
    assert sheet.title == "Error list"
    assert rows[1:] == [
        ("households", 2, "组织代码", "组织代码“999999”不存在。"),
        ("households", None, None, "缺少工作表 members。"),  # a sheet's error: no row, no column
    ]
    assert "Error%20list" in response["Content-Disposition"]


def test_the_list_is_the_writes_when_the_write_found_errors(login, users):
    """The page lists the write's errors once it ran (result), and so does the download."""
    job = rejected(users, [])
    job.result = {
        "kind": "households",
        "dry_run": False,
        "sheets": {},
        "errors": [error(7, message="写入时发现的错误")],
    }
    job.save()
    rows, _sheet = rows_of(login("clerk_450102").get(reverse("imports:errors", args=[job.pk])))
    assert rows[1:] == [("households", 7, "组织代码", "写入时发现的错误")]


def test_a_job_without_errors_has_no_error_list(login, users):
    job = a_job(users, "clerk_450102", "households", "好档案.xlsx", state="checked")
    job.preview = {"kind": "households", "dry_run": True, "sheets": {}, "errors": []}
    job.save()
    client = login("clerk_450102")
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "下载错误清单" not in page
    assert client.get(reverse("imports:errors", args=[job.pk])).status_code == 404


def table_rows(page: str) -> int:
    table = page[page.index('class="data import-errors"') :]
    return table[: table.index("</table>")].count("<tr>") - 1  # the header row


def test_a_long_list_shows_its_first_errors_and_says_how_many_more_download(login, users):
    """The page rendered every error: 20,000 of them made a page of megabytes. It shows the
    first ERRORS_SHOWN and says how many more the download holds; the count stays the whole."""
    total = 20_000
    job = rejected(users, [error(row) for row in range(2, total + 2)])
    client = login("clerk_450102")
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert table_rows(page) == ERRORS_SHOWN
    assert f"发现 {total} 处错误" in page
    more = total - ERRORS_SHOWN
    assert f"以上是前 {ERRORS_SHOWN} 处错误，另有 {more} 处未列出，请下载错误清单查看全部。" in page
    rows, _sheet = rows_of(client.get(reverse("imports:errors", args=[job.pk])))
    assert len(rows) == total + 1 and rows[-1][1] == total + 1

    client.cookies["django_language"] = "en"
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert (
        f"These are the first {ERRORS_SHOWN} errors; {more} more are not listed here. "
        "Download the error list to see them all." in page
    )


def test_a_list_of_exactly_the_shown_errors_has_no_more_line(login, users):
    job = rejected(users, [error(row) for row in range(2, ERRORS_SHOWN + 2)])
    page = login("clerk_450102").get(reverse("imports:job", args=[job.pk])).content.decode()
    assert table_rows(page) == ERRORS_SHOWN
    assert "处未列出" not in page and "下载错误清单" in page


def test_the_admin_holds_its_list_alike_and_offers_the_download_to_whom_may_have_it(
    client, login, users, root
):
    """The admin shows the same report to the uploader's colleagues, who may not open the job's
    page: a colleague who may download the list (errors_downloadable_by) gets the link, and the
    link's view checks that rule itself; another county's staff get 404 on both."""
    job = rejected(users, [error(row) for row in range(2, ERRORS_SHOWN + 13)])
    url = reverse("admin:imports_importjob_change", args=[job.pk])
    download = reverse("imports:errors", args=[job.pk])
    for username in ("supervisor_450102", "admin_450102"):
        client = login(username)
        page = client.get(url).content.decode()
        assert table_rows(page) == ERRORS_SHOWN
        assert re.search(f'href="{download}"', page), username
        assert "另有 11 处未列出，请下载错误清单查看全部。" in page
        rows, _sheet = rows_of(client.get(download))
        assert len(rows) == ERRORS_SHOWN + 12
    client.force_login(root)
    page = client.get(url).content.decode()
    assert re.search(f'href="{download}"', page) and "请下载错误清单查看全部" in page
    outsider = login("supervisor_450103")
    assert outsider.get(url).status_code == 404
    response = outsider.get(download)
    assert response.status_code == 404 and "组织代码".encode() not in response.content
    logged = AccessLog.objects.values_list("user__username", flat=True).order_by("id")
    assert list(logged) == ["supervisor_450102", "admin_450102"]
