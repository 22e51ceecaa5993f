"""The home page ("my work") in a real browser: its panels fit a laptop and a phone in English,
whose labels and notes are the longest, and no date breaks across two lines."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import BROKEN
from tests.households.conftest import walk_file

pytestmark = pytest.mark.browser
DATE = r"\d{4}-\d{2}-\d{2}"  # 2026-04-25, broken over two lines if BROKEN finds it


def test_the_home_page_fits_and_keeps_dates_whole(browser_login, live_users, make_household):
    from services.models import Case, Window
    from services.services import case_create

    clerk = live_users["clerk_450102"]
    walk_file(live_users, make_household(), "notice")  # its notice ended: awaiting approval
    # Overdue follow-ups: "吴海燕 · Hardship-worker aid follow up by 2026-04-25", each window's
    # name moving the date along the line to where its hyphens once broke.
    for window in Window.objects.all():
        case = Case(
            organisation=clerk.organisation,
            window=window,
            handler=clerk,
            worker_name="吴海燕",
            matter="咨询",
            channel=Case.Channel.VISIT,
        )
        case_create(user=clerk, case=case)
        Case.objects.filter(pk=case.pk).update(
            follow_up_on=timezone.localdate() - timedelta(days=10)
        )

    page = browser_login("supervisor_450102")
    page.select_option("#language-select", "en")
    page.click(".lang-switch button")
    page.wait_for_load_state()
    assert "Notice ended on" in page.locator(".panels").inner_text()
    assert "follow up by" in page.locator(".panels").inner_text()
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
        assert page.evaluate(BROKEN, DATE) == [], width
