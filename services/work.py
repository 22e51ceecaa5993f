"""The service centre's panel on "my work": unclosed cases past their follow-up date."""

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from services.selectors import follows_up_own_cases_only, overdue_follow_ups

PANEL_ROWS = 10


def panels(request) -> list[dict]:
    user = request.user
    if not user.has_perm("services.change_case"):
        return []
    overdue = overdue_follow_ups(user=user)
    count = overdue.count()
    if not count:
        return []
    # The link lists the cases counted: a clerk's own (the list's handler filter), or all.
    own = follows_up_own_cases_only(user)
    query = {"overdue": "true", **({"handler": user.pk} if own else {})}
    return [
        {
            "template": "services/_work_overdue.html",
            "title": _("服务案件跟进逾期"),
            "count": count,
            "cases": list(overdue[:PANEL_ROWS]),
            "own": own,
            "list_url": f"{reverse('services:case_list')}?{urlencode(query)}",
        }
    ]
