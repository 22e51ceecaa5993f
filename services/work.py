"""The service centre's panel on "my work": unclosed cases past their follow-up date."""

from django.utils.translation import gettext as _

from services.selectors import overdue_follow_ups

PANEL_ROWS = 10


def panels(request) -> list[dict]:
    user = request.user
    if not user.has_perm("services.change_case"):
        return []
    overdue = overdue_follow_ups(user=user)
    count = overdue.count()
    if not count:
        return []
    return [
        {
            "template": "services/_work_overdue.html",
            "title": _("服务案件跟进逾期"),
            "count": count,
            "cases": list(overdue[:PANEL_ROWS]),
        }
    ]
