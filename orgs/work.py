"""What the keeper of the national calendar has to do (orgs.views.work_panels and the admin
index): enter the year's holidays, which every notice period counts its working days by."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.calendar import calendar_due
from orgs.scoping import keeps_national


def _calendar_reminder(request) -> dict | None:
    user = request.user
    if not (keeps_national(user) and user.has_perm("orgs.add_holiday")):
        return None
    year = calendar_due(timezone.localdate())
    if year is None:
        return None
    return {
        "message": _(
            "%(year)d年的全国节假日尚未录入：在录入之前，公示期等工作日只跳过周末，"
            "春节、国庆等假日会被算作工作日。"
        )
        % {"year": year},
        "url": reverse("admin:orgs_holiday_add"),
        "link_label": _("录入节假日"),
    }


def panels(request) -> list[dict]:
    reminder = _calendar_reminder(request)
    if reminder is None:
        return []
    return [{"template": "orgs/_reminder_panel.html", "title": _("节假日安排"), **reminder}]


def reminders(request) -> list[dict]:
    """For the admin index, above the approvals."""
    reminder = _calendar_reminder(request)
    return [reminder] if reminder else []
