"""An import in a real browser with a real job queue: the clerk uploads a workbook, watches the
progress bar while the job waits for the worker, reads the preview, confirms, and reads the
result; the worker (django-tasks-db's db_worker) runs between the steps."""

import pytest
from django.core.management import call_command

from households.models import Household
from tests.imports.conftest import application_row, member_row, write_workbook

pytestmark = pytest.mark.browser


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_upload_progress_preview_confirm_result(browser_login, live_users, settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    path = write_workbook(
        tmp_path / "档案.xlsx",
        {
            # applications: the clerk may not import approved files (a supervisor's rows)
            "households": [application_row(档案编号="BR-1"), application_row(档案编号="BR-2")],
            "members": [member_row("BR-1"), member_row("BR-2")],
        },
    )
    page = browser_login("clerk_450102")
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.get_by_role("link", name="导入导出").first.click()
    page.get_by_role("link", name="上传导入文件").first.click()
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_url("**/imports/jobs/*/")
    # Queued: the progress bar shows and the page polls.
    page.locator("#job-progress").wait_for()
    queued = page.locator("#job-status").inner_text()
    assert "排队等待检查" in queued and "任务已排队" in queued and "0 / 0" not in queued

    run_worker()
    page.get_by_role("button", name="确认导入").wait_for()  # the poll brought the preview
    preview = page.locator("#job-status").inner_text()
    assert "检查结果（尚未写入）" in preview and "households" in preview
    assert not Household.objects.exists()

    page.get_by_role("button", name="确认导入").click()
    page.locator("#job-progress").wait_for()
    run_worker()
    page.get_by_role("heading", name="导入结果").wait_for()
    assert Household.objects.filter(file_number__in=["BR-1", "BR-2"]).count() == 2
    assert problems == []


def test_the_job_page_lays_out_its_heading_and_progress_bar(browser_login, live_users):
    """The imports' pages used the file pages' heading row without their stylesheet: the link
    back to the imports touched the card below. The progress bar was the browser's 150 px."""
    from imports.models import ImportJob

    clerk = live_users["clerk_450102"]
    job = ImportJob.objects.create(
        organisation=clerk.organisation,
        created_by=clerk,
        kind=ImportJob.Kind.HOUSEHOLDS,
        operation=ImportJob.Operation.IMPORT,
        state=ImportJob.State.CHECKING,
        done=1234,
        total=5000,
    )
    page = browser_login("clerk_450102")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(page.base_url + f"/imports/jobs/{job.pk}/")
    link = page.locator(".page-head .head-tools").bounding_box()
    card = page.locator("#job-status").bounding_box()
    assert card["y"] - (link["y"] + link["height"]) >= 8
    assert page.locator("#job-progress").bounding_box()["width"] >= card["width"] / 2
