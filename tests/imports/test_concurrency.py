"""Two imports of the same workbook at once: the database's unique keys decide, one wins, the
other reports a clean error and writes nothing."""

import threading

import pytest
from django.db import connection

from households.models import Household, IdentityClaim, Member
from imports.runner import run_import
from tests.imports.conftest import household_row, member_row

pytestmark = pytest.mark.postgres_only


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_workbook_twice_at_once_creates_one_set_of_files(
    live_users, workbook, monkeypatch
):
    from households import importing

    path = workbook(
        [household_row(档案编号=f"C-{i}") for i in range(30)],
        [member_row(f"C-{i}") for i in range(30)],
    )
    user = live_users["supervisor_450102"]
    barrier = threading.Barrier(2)
    both_checked = threading.Barrier(2, timeout=60)
    reports = []
    write = importing._Run.write

    def write_after_both_checked(self):
        both_checked.wait()  # neither has written when both have validated
        return write(self)

    monkeypatch.setattr(importing._Run, "write", write_after_both_checked)

    def work():
        try:
            barrier.wait()
            reports.append(run_import("households", path, user=user, dry_run=False))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(report.ok for report in reports) == [False, True]
    failed = next(report for report in reports if not report.ok)
    assert "同时导入" in failed.errors[0].message
    assert Household.objects.count() == 30
    assert Member.objects.count() == 60
    assert IdentityClaim.objects.count() == 60
