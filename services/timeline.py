"""The service centre's entries on a household file's timeline (collected by
households/timeline.py): each step (logged, referred, followed up, closed, reopened) of a case
linked to the file or logged with the worker's ID number before it existed, so that staff
reading the file see the help given at the counter beside the money paid. Only the cases the
reader may open (their scope), and only with the right to read cases."""

from django.urls import reverse
from django.utils.translation import gettext as _

from services.models import CaseEvent
from services.selectors import cases_for_household


def timeline_entries(household, user) -> list[dict]:
    if not user.has_perm("services.view_case"):
        return []
    cases = cases_for_household(household, user).order_by().values("pk")
    events = (
        CaseEvent.objects.filter(case__in=cases)
        .select_related("case__window", "actor")
        .order_by("case_id", "at", "id")
    )
    entries = []
    for event in events:
        case = event.case
        first = event.action == CaseEvent.Action.LOGGED
        entries.append(
            {
                "date": event.at,
                "order": event.pk,
                "kind": f"service_case_{event.action}",
                "title": _("服务中心%(action)s：%(window)s")
                % {"action": event.get_action_display(), "window": case.window},
                # What the worker came for, then what each later step says.
                "detail": case.matter if first else event.note,
                "actor": str(event.actor),
                "flags": [case.get_channel_display()] if first else [],
                "url": reverse("services:case_detail", args=[case.pk]),
            }
        )
    return entries
