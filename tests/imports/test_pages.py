"""The staff pages: permissions, upload → preview → confirm → result, export and download."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from households.models import Household
from imports.models import ImportJob
from orgs.models import AccessLog
from tests.imports.conftest import application_row, household_row, member_row

pytestmark = pytest.mark.django_db


def upload(client, path, kind="households", name="档案.xlsx"):
    with open(path, "rb") as handle:
        return client.post(
            reverse("imports:upload", args=[kind]),
            {"file": SimpleUploadedFile(name, handle.read())},
        )


@pytest.mark.parametrize(
    ("username", "status"),
    [
        (None, 302),
        ("viewer_450100", 403),
        ("finance_450102", 403),
        ("clerk_450102", 200),
        ("supervisor_450102", 200),
        ("admin_450102", 200),
    ],
)
def test_who_may_import_households(login, username, status):
    client = login(username)
    assert client.get(reverse("imports:upload", args=["households"])).status_code == status
    assert client.get(reverse("imports:template", args=["households"])).status_code == status


def test_index_lists_what_the_role_may_do(login):
    assert login("viewer_450100").get(reverse("imports:index")).status_code == 403
    page = login("clerk_450102").get(reverse("imports:index")).content.decode()
    assert reverse("imports:template", args=["households"]) in page
    assert reverse("imports:upload", args=["funds"]) not in page


def test_template_has_the_declared_columns(login, orgs):
    import io

    from python_calamine import CalamineWorkbook

    response = login("clerk_450102").get(reverse("imports:template", args=["households"]))
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    from households.importing import HOUSEHOLD_HEADERS, MEMBER_HEADERS

    assert tuple(book.get_sheet_by_name("households").to_python()[0]) == HOUSEHOLD_HEADERS
    assert tuple(book.get_sheet_by_name("members").to_python()[0]) == MEMBER_HEADERS
    assert "说明" in book.sheet_names


def test_upload_preview_confirm_result(login, workbook, orgs):
    client = login("clerk_450102")
    response = upload(client, workbook([application_row()], [member_row()]))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "imports:job", args=[job.pk]
    )
    assert job.state == "checked" and not Household.objects.exists()
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "确认导入" in page and "households" in page
    assert "message success" not in page  # the status card speaks; no banner left behind
    client.post(reverse("imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "done" and job.result["sheets"]["households"]["created"] == 1
    assert Household.objects.count() == 1
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "导入结果" in page and "正在导入" not in page
    # A second confirmation does nothing.
    client.post(reverse("imports:confirm", args=[job.pk]))
    assert Household.objects.count() == 1


def test_a_workbook_named_after_numbers_is_stored_and_shown_masked(login, workbook, orgs):
    """The name is shown on the job pages and the admin, to readers who see numbers masked: a
    worker's ID, bank or phone number in it is masked at upload, as a document's name is."""
    client = login("clerk_450102")
    name = "450102198003150011韦小宝 6222020200112233445 13812345678.xlsx"
    upload(client, workbook([application_row()], [member_row()]), name=name)
    job = ImportJob.objects.get()
    assert job.original_name == "450102********0011韦小宝 622202*********3445 1******5678.xlsx"
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "450102198003150011" not in page and job.original_name in page


def test_errors_are_listed_and_there_is_nothing_to_confirm(login, workbook, orgs):
    client = login("clerk_450102")
    upload(client, workbook([household_row(组织代码="999999")], []))
    job = ImportJob.objects.get()
    assert job.state == "rejected"
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "组织代码“999999”不存在" in page and "确认导入" not in page
    client.post(reverse("imports:confirm", args=[job.pk]))
    assert not Household.objects.exists()


def test_a_preview_with_errors_still_counts_the_other_rows(login, workbook, orgs):
    """The counts of a workbook with errors were all zero: the clerk could not tell whether
    the rest of it would create or update files."""
    client = login("clerk_450102")
    rows = [
        application_row(档案编号="XN-0001"),
        application_row(档案编号="XN-0002", 组织代码="999999"),
    ]
    upload(client, workbook(rows, [member_row("XN-0001")]))
    job = ImportJob.objects.get()
    assert job.state == "rejected"
    counts = job.preview["sheets"]["households"]
    assert (counts["created"], counts["invalid"]) == (1, 1)
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "有错误" in page and "其余各行改正错误后" in page
    assert not Household.objects.exists()


def test_a_clerk_uploads_but_approved_rows_are_refused(login, workbook, orgs):
    """The clerk keeps the upload page; a file on record in the workbook is refused on its row
    (an approval is a supervisor's), and there is nothing to confirm."""
    client = login("clerk_450102")
    assert client.get(reverse("imports:upload", args=["households"])).status_code == 200
    upload(client, workbook([application_row(), household_row(档案编号="XN-0002")], []))
    job = ImportJob.objects.get()
    assert job.state == "rejected"
    [error] = job.preview["errors"]
    assert (error["row"], error["column"]) == (3, "状态")
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "档案 XN-0002 的状态为“在档”" in page and "需要审批权限" in page
    assert "确认导入" not in page
    client.post(reverse("imports:confirm", args=[job.pk]))
    assert not Household.objects.exists()


def test_the_errors_are_in_the_uploaders_language(login, workbook, orgs):
    """The check runs in a worker, with no request and so no language of its own: it writes
    in the language the file was uploaded in."""
    from django.utils import translation

    from imports.tasks import run_job

    client = login("clerk_450102")
    client.cookies["django_language"] = "en"
    upload(client, workbook([household_row(组织代码="999999")], []))
    job = ImportJob.objects.get()
    assert job.language == "en"
    job.state, job.preview = ImportJob.State.QUEUED, None
    job.save()
    with translation.override("zh-hans"):  # a worker speaks the default language
        run_job.call(job.pk)
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Organisation code “999999” does not exist." in page


@pytest.mark.parametrize(
    ("uploaded_in", "read_in", "note"),
    [
        ("en", "zh-hans", "以下错误信息为导入人所用语言（英语）。"),
        (
            "zh-hans",
            "en",
            "The error messages below are in the uploader's language (Simplified Chinese).",
        ),
        ("en", "en", None),
        ("zh-hans", "zh-hans", None),
    ],
)
def test_errors_read_in_another_language_say_they_are_the_uploaders(
    login, workbook, orgs, uploaded_in, read_in, note
):
    """The errors are stored as written, in the uploader's language: the job's page and its
    page in the admin say so to a reader of the other language, and nothing to one of the same."""
    client = login("admin_450102")
    client.cookies["django_language"] = uploaded_in
    upload(client, workbook([household_row(组织代码="999999")], []))
    job = ImportJob.objects.get()
    assert job.state == "rejected"
    notes = {
        "以下错误信息为导入人所用语言（英语）。",
        "The error messages below are in the uploader's language (Simplified Chinese).",
    }
    for username, url in [
        ("admin_450102", reverse("imports:job", args=[job.pk])),
        ("admin_450102", reverse("admin:imports_importjob_change", args=[job.pk])),
        ("supervisor_450102", reverse("admin:imports_importjob_change", args=[job.pk])),
    ]:
        client = login(username)
        client.cookies["django_language"] = read_in
        page = client.get(url).content.decode().replace("&#x27;", "'")
        assert {text for text in notes if text in page} == ({note} if note else set()), url


def test_a_non_excel_upload_is_refused_on_the_form(login, tmp_path, orgs):
    path = tmp_path / "x.xlsx"
    path.write_text("档案编号,姓名\n1,2\n")
    response = upload(login("clerk_450102"), path)
    assert response.status_code == 400 and "CSV" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_other_users_jobs_answer_404(login, workbook, orgs):
    upload(login("clerk_450102"), workbook([application_row()], [member_row()]))
    job = ImportJob.objects.get()
    for username in ("supervisor_450102", "clerk_450103"):
        client = login(username)
        assert client.get(reverse("imports:job", args=[job.pk])).status_code == 404
        assert client.post(reverse("imports:confirm", args=[job.pk])).status_code == 404
    assert ImportJob.objects.get().state == "checked"


def test_progress_partial_polls_while_running(login, workbook, orgs):
    client = login("clerk_450102")
    upload(client, workbook([household_row()], [member_row()]))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="writing", done=5, total=10)
    html = client.get(reverse("imports:job_status", args=[job.pk])).content.decode()
    assert "<progress" in html and 'value="5"' in html and "hx-trigger" in html


def test_export_and_download_are_logged(login, orgs, make_household):
    household = make_household()
    client = login("clerk_450102")
    response = client.post(reverse("imports:export", args=["households"]), {"full": "on"})
    job = ImportJob.objects.get(operation="export")
    assert response["Location"] == reverse("imports:job", args=[job.pk])
    assert job.state == "done" and job.full_identifiers
    download = client.get(reverse("imports:download", args=[job.pk]))
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert data[:2] == b"PK"
    log = AccessLog.objects.get(action="export")
    assert log.user.username == "clerk_450102"
    assert login("clerk_450103").get(reverse("imports:download", args=[job.pk])).status_code == 404
    assert household.file_number


def test_an_export_of_full_numbers_is_not_downloaded_once_its_reader_may_no_longer_see_them(
    login, users, make_household
):
    """The download reads the requester's rights when it happens, not when the export ran: a
    clerk made administrator since (who sees numbers masked) no longer takes the workbook of
    full numbers, and is told to export again; one who may no longer export takes none."""
    from django.contrib.auth.models import Group

    make_household()
    client = login("clerk_450102")
    client.post(reverse("imports:export", args=["households"]), {"full": "on"})
    client.post(reverse("imports:export", args=["households"]))
    full, masked = ImportJob.objects.filter(operation="export").order_by("pk")
    assert full.full_identifiers and not masked.full_identifiers
    clerk = users["clerk_450102"]
    clerk.groups.set([Group.objects.get(name="admin")])
    client = login("clerk_450102")  # a fresh user object: permissions are cached on it
    download = reverse("imports:download", args=[full.pk])
    assert client.get(download).status_code == 403
    page = client.get(reverse("imports:job", args=[full.pk])).content.decode()
    assert download not in page and "请重新导出" in page
    response = client.get(reverse("imports:download", args=[masked.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"
    assert AccessLog.objects.filter(action="export").count() == 1  # the masked one
    clerk.groups.set([Group.objects.get(name="viewer")])
    client = login("clerk_450102")
    assert client.get(reverse("imports:download", args=[masked.pk])).status_code == 404


def test_an_export_queued_with_full_numbers_says_masked_when_its_role_lost_them(users):
    """The role changed between the request and the worker: the workbook is written masked,
    and the job (its download's log line, its page) says so."""
    from imports import tasks

    admin = users["admin_450102"]  # exports households, sees numbers masked
    job = ImportJob.objects.create(
        organisation=admin.organisation,
        created_by=admin,
        kind="households",
        operation=ImportJob.Operation.EXPORT,
        token="f" * 32,
        full_identifiers=True,
    )
    assert tasks.run_job.call(job.pk) == ImportJob.State.DONE
    job.refresh_from_db()
    assert job.file and not job.full_identifiers
    assert job.downloadable_by(admin)


def test_the_funds_export_offers_no_full_numbers_it_does_not_hold(login, orgs):
    """The funds workbook carries no ID or bank numbers: no "full numbers" box, and a posted
    one is ignored (it was logged as an export of full numbers)."""
    client = login("finance_450102")
    page = client.get(reverse("imports:index")).content.decode()
    funds = page[page.index('id="kind-funds"') :]
    assert 'name="full"' not in funds[: funds.index("</section>")]
    client.post(reverse("imports:export", args=["funds"]), {"full": "on"})
    job = ImportJob.objects.get(operation="export")
    assert job.state == "done" and not job.full_identifiers


def test_admin_lists_jobs_in_scope_and_links_to_the_pages(login, workbook, orgs):
    upload(login("clerk_450102"), workbook([household_row()], [member_row()]))
    page = login("supervisor_450102").get(reverse("admin:imports_importjob_changelist"))
    assert page.status_code == 200 and reverse("imports:index") in page.content.decode()
    other = login("supervisor_450103").get(reverse("admin:imports_importjob_changelist"))
    assert "档案.xlsx" not in other.content.decode()
    households = login("supervisor_450102").get(reverse("admin:households_household_changelist"))
    assert reverse("imports:index") in households.content.decode()


def a_job(users, username, kind, name, **fields) -> ImportJob:
    """A finished job of `username`, uploaded as `name` (what the admin's list shows)."""
    user = users[username]
    return ImportJob.objects.create(
        organisation=user.organisation,
        created_by=user,
        kind=kind,
        operation=ImportJob.Operation.IMPORT,
        token=name.encode().hex()[:32],
        original_name=name,
        **{"state": ImportJob.State.DONE, **fields},
    )


@pytest.fixture
def jobs(users, orgs):
    """A job of every kind in county A (兴宁区 450102), and one in county B (青秀区 450103)."""
    return {
        "a_households": a_job(users, "clerk_450102", "households", "兴宁档案.xlsx"),
        "a_funds": a_job(users, "finance_450102", "funds", "兴宁资金.xlsx"),
        "a_admins": a_job(users, "admin_450102", "households", "兴宁管理员档案.xlsx"),
        "b_households": a_job(users, "clerk_450103", "households", "青秀档案.xlsx"),
    }


@pytest.mark.parametrize(
    ("username", "listed"),
    [
        # the household kinds need the household permissions, the funds kinds the funds ones
        ("supervisor_450102", {"a_households", "a_admins"}),
        ("finance_450102", {"a_funds"}),
        ("admin_450102", {"a_households", "a_funds", "a_admins"}),
        ("supervisor_450103", {"b_households"}),
        # the region's administrator: the whole subtree
        ("admin_450000", {"a_households", "a_funds", "a_admins", "b_households"}),
    ],
)
def test_the_admin_lists_the_jobs_of_the_kinds_the_user_may_import_or_export(
    login, jobs, username, listed
):
    """Finance saw the household imports and their file names; the list is the user's
    subtree, in the kinds the user may import or export, and so is each job's page there."""
    client = login(username)
    page = client.get(reverse("admin:imports_importjob_changelist")).content.decode()
    assert {key for key, job in jobs.items() if job.original_name in page} == listed
    for key, job in jobs.items():
        change = client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
        assert change.status_code == (200 if key in listed else 404)


@pytest.mark.parametrize("username", ["admin_450102", "finance_450102", "admin_450000"])
def test_every_link_of_the_admins_job_list_opens(login, jobs, username):
    """打开 led to the staff page of every job, which opens for its uploader only: 404 on
    anybody else's. Now it is offered on the user's own jobs; the others link to their page in
    the admin, which shows their result."""
    client = login(username)
    page = client.get(reverse("admin:imports_importjob_changelist")).content.decode()
    opened = set(re.findall(r'href="(/imports/jobs/\d+/)"', page))
    own = ImportJob.objects.filter(created_by__username=username)
    assert opened == {reverse("imports:job", args=[job.pk]) for job in own}
    links = set(re.findall(r'href="(/admin/imports/importjob/\d+/change/[^"]*)"', page))
    assert links  # every row, by its first column and, when not the user's, by 查看结果
    for url in opened | links:
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url


def test_the_admin_shows_anybody_elses_job_result_read_only(login, workbook, orgs):
    upload(login("clerk_450102"), workbook([household_row(组织代码="999999")], []))
    job = ImportJob.objects.get()
    client = login("admin_450102")
    listed = client.get(reverse("admin:imports_importjob_changelist")).content.decode()
    assert reverse("imports:job", args=[job.pk]) not in listed
    assert "查看结果" in listed
    page = client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "组织代码“999999”不存在" in content  # the check's errors, as the job page lists them
    assert "import-errors" in content and '"errors"' not in content  # a table, not JSON
    assert "确认导入" not in content  # read-only: the confirmation is the uploader's


def test_the_admin_shows_no_number_of_anybody_elses_upload_in_full(login, workbook, orgs):
    """The errors quote the bad cell, and the admin shows another user's job to readers who see
    ID, bank and phone numbers masked (a county administrator): a number typed as a number, or
    a cell too long, is quoted masked."""
    row = application_row(
        身份证号=450102197506010123,  # a number: Excel keeps 15 digits
        银行账号=6217000012345678,
        联系电话="13800138000，0771-5551234",  # two phones in one cell: too long
    )
    upload(login("clerk_450102"), workbook([row], [member_row()]))
    job = ImportJob.objects.get()
    assert job.state == "rejected"
    page = login("admin_450102").get(reverse("admin:imports_importjob_change", args=[job.pk]))
    content = page.content.decode()
    assert "数字格式" in content and "过长" in content  # the errors are there
    for number in ("450102197506010", "621700001234567", "13800138000"):
        assert number not in content
    assert "450102********0000" in content


def test_a_failed_jobs_reason_keeps_numbers_masked(login, workbook, orgs, monkeypatch):
    """A job that fails unexpectedly keeps the exception's text, which the admin shows to readers
    who see numbers masked: a number in it is masked as in the cell errors."""
    from imports import tasks

    upload(login("clerk_450102"), workbook([application_row()], [member_row()]))
    job = ImportJob.objects.get()
    job.state, job.preview = ImportJob.State.QUEUED, None
    job.save()

    def fail(job_id):
        raise RuntimeError("unexpected value 450102197506010123 for 13800138000")

    monkeypatch.setattr(tasks, "_check", fail)
    assert tasks.run_job.call(job.pk) == ImportJob.State.FAILED
    job.refresh_from_db()
    assert job.failure == "unexpected value 450102********0123 for 1******8000"


def test_a_job_whose_worker_died_can_be_run_again(login, workbook, orgs, settings):
    """A worker killed while writing leaves the job 'writing' for ever: after
    IMPORT_STALL_MINUTES without progress its page says so and its uploader may run it again."""
    import os
    import time

    from imports.tasks import progress_path

    client = login("clerk_450102")
    upload(client, workbook([application_row()], [member_row()]))
    job = ImportJob.objects.get()
    job.state = ImportJob.State.WRITING  # as the dead worker left it
    job.save()
    path = progress_path(job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"done": 1, "total": 4}')
    restart = reverse("imports:restart", args=[job.pk])

    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "重新运行" not in page  # still reporting: not stalled
    client.post(restart)
    job.refresh_from_db()
    assert job.state == "writing" and not Household.objects.exists()

    old = time.time() - 16 * 60
    os.utime(path, (old, old))
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "可能因服务器重启而中断" in page
    for other in ("clerk_450103", "supervisor_450102"):  # the staff page is its uploader's
        assert login(other).post(restart).status_code == 404
    job.refresh_from_db()
    assert job.state == "writing"
    before = timezone.now()
    login("clerk_450102").post(restart)
    job.refresh_from_db()
    assert job.state == "done" and Household.objects.count() == 1
    # Who ran it again, and when, is on the job and where jobs are listed.
    assert job.restarted_by.username == "clerk_450102" and job.restarted_at >= before
    when = f"{timezone.localtime(job.restarted_at):%Y-%m-%d %H:%M}"
    mine = login("clerk_450102").get(reverse("imports:index")).content.decode()
    assert f"{job.restarted_by} 于 {when} 重新运行" in mine
    listed = login("admin_450102").get(reverse("admin:imports_importjob_changelist"))
    assert f"{when} {job.restarted_by}" in listed.content.decode()


def test_the_preview_says_how_many_recorded_members_an_update_deletes(login, workbook, orgs):
    from households.models import Member
    from tests.imports.conftest import id_number

    client = login("clerk_450102")
    child = member_row(姓名="韦小", 与户主关系="子女", 身份证号=id_number(2010), 月收入=0)
    worker_id = id_number()
    worker = application_row(家庭月收入=None, 身份证号=worker_id)
    upload(client, workbook([worker], [member_row(), child]))
    client.post(reverse("imports:confirm", args=[ImportJob.objects.get().pk]))
    assert Member.objects.exclude(relation="self").count() == 2
    # The spouse's row is left out: the update would delete her.
    upload(client, workbook([worker], [child]))
    job = ImportJob.objects.latest("pk")
    assert job.state == "checked" and job.preview["sheets"]["members"]["removed"] == 1
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "1 名系统中已有的家庭成员不在 members 工作表中，导入后将被删除" in page
    client.post(reverse("imports:confirm", args=[job.pk]))
    assert list(Member.objects.exclude(relation="self").values_list("name", flat=True)) == ["韦小"]
    # A file updated with all its members listed deletes nobody: no column, no warning.
    upload(
        client,
        workbook(
            [application_row(家庭月收入=None, 身份证号=worker_id, 联系电话="13900000000")], [child]
        ),
    )
    job = ImportJob.objects.latest("pk")
    assert job.preview["sheets"]["households"]["updated"] == 1
    assert job.preview["sheets"]["members"]["removed"] == 0
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "导入后将被删除" not in page


def test_summary_lines_name_the_deleted_rows_only_when_there_are_some():
    from django.utils import translation

    from imports.base import ImportReport, SheetCounts
    from imports.runner import summary_lines

    report = ImportReport(
        kind="households",
        dry_run=True,
        sheets={
            "households": SheetCounts(updated=2),
            "members": SheetCounts(created=1, skipped=3, removed=2),
        },
    )
    assert summary_lines(report) == [
        "households：新增 0，更新 2，无变化跳过 0",
        "members：新增 1，更新 0，无变化跳过 3，删除 2",
    ]
    with translation.override("en"):
        assert summary_lines(report)[1] == (
            "members: 1 new, 0 updated, 3 unchanged and skipped, 2 deleted"
        )


@pytest.mark.parametrize(
    ("username", "may"),
    [
        ("clerk_450102", True),  # who started it
        ("supervisor_450102", True),  # a colleague of the county who imports files too
        ("admin_450102", True),  # the county's administrator
        ("admin_450000", True),  # the region's administrator: the county is in the subtree
        ("root", True),  # a superuser
        ("finance_450102", False),  # the county's finance: no household imports
        ("viewer_450100", False),  # the city's reader: imports nothing
        ("clerk_450103", False),  # another county
    ],
)
def test_who_may_run_a_colleagues_stalled_job_again(users, orgs, monkeypatch, username, may):
    """A stalled job of someone away is run again by whoever sees it and holds the right to
    import its kind (a superuser: any), who is recorded; anybody else is refused, the job
    untouched. A job still running is run again by nobody."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from imports import services
    from imports.tasks import progress_path
    from orgs.models import User

    monkeypatch.setattr(services, "_enqueue", lambda job: None)  # no worker: the state shows it
    users["root"] = User.objects.create_superuser("root", password="x" * 12)
    job = a_job(users, "clerk_450102", "households", "兴宁档案.xlsx", state="writing")
    progress_path(job.pk).unlink(missing_ok=True)
    running = a_job(users, "clerk_450102", "households", "运行中.xlsx", state="writing")
    progress_path(running.pk).unlink(missing_ok=True)
    old = timezone.now() - timedelta(minutes=16)
    ImportJob.objects.filter(pk=job.pk).update(created_at=old)
    user = users[username]
    if may:
        before = timezone.now()
        services.job_restart(user=user, job=job)
        job.refresh_from_db()
        assert job.state == "confirmed"  # the confirmed write, queued again
        assert job.restarted_by == user and job.restarted_at >= before
        with pytest.raises(ValidationError):
            services.job_restart(user=user, job=running)
    else:
        with pytest.raises(PermissionDenied):
            services.job_restart(user=user, job=job)
        job.refresh_from_db()
        assert (job.state, job.restarted_by, job.restarted_at) == ("writing", None, None)


def test_a_colleague_runs_a_stalled_job_again_from_the_admin(login, users, orgs, monkeypatch):
    """The staff page is its uploader's: a colleague runs the job again from the admin's list,
    which says which selected jobs could not be."""
    from imports import services
    from imports.tasks import progress_path

    monkeypatch.setattr(services, "_enqueue", lambda job: None)
    stalled = a_job(users, "clerk_450102", "households", "兴宁档案.xlsx", state="writing")
    done = a_job(users, "clerk_450102", "households", "已完成.xlsx")
    for job in (stalled, done):
        progress_path(job.pk).unlink(missing_ok=True)
    old = timezone.now() - timedelta(minutes=16)
    ImportJob.objects.filter(pk=stalled.pk).update(created_at=old)
    client = login("supervisor_450102")
    response = client.post(
        reverse("admin:imports_importjob_changelist"),
        {"action": "restart_selected", "_selected_action": [stalled.pk, done.pk]},
        follow=True,
    )
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert shown == [
        ("error", f"{done}：该任务没有中断，不能重新运行。"),
        ("success", "已重新运行 1 个任务。"),
    ]
    stalled.refresh_from_db()
    assert (stalled.state, stalled.restarted_by) == ("confirmed", users["supervisor_450102"])
