"""The household files on "my work": what clerks and supervisors have to do next, and counts of
the files in the user's scope, each linking to the filtered list."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from households import late_entries, selectors, spotchecks
from households.filters import standing_url
from households.models import Status
from orgs.text import html_message, unbroken

PANEL_ITEMS = 5


def _list_url(**params) -> str:
    return reverse("households:list") + "?" + urlencode(params)


def _detail_url(household) -> str:
    return reverse("households:detail", args=[household.pk])


def panels(request) -> list[dict]:
    user = request.user
    if not user.has_perm("households.view_household"):
        return []
    found = []
    if user.has_perm("households.change_household"):
        found.append(_clerk_panel(user))
    if user.has_perm("households.approve_household"):
        found.append(_supervisor_panel(user))
        found.append(_late_panel(user))
    spot_check = _spotcheck_panel(user)
    if spot_check is not None:
        found.append(spot_check)
    found.append(_overview_panel(user))
    return found


def _spotcheck_text(due: dict) -> str:
    if due["kind"] == "not_started":
        return _("%(year)d年档案抽查未开始") % {"year": due["year"]}
    return _("%(year)d年档案抽查（%(org)s）尚有 %(count)d 份未核查") % {
        "year": due["year"],
        "org": due["organisation"].name,
        "count": due["count"],
    }


def _spotcheck_url(due: dict) -> str:
    if due["kind"] == "not_started":
        return reverse("households:spotcheck_list")
    return reverse("households:spotcheck_detail", args=[due["sample"].pk])


def _spotcheck_panel(user) -> dict | None:
    """From 1 December: the year's draw not made yet, and the year's unchecked files."""
    due = spotchecks.reminders(user, timezone.localdate())
    if not due:
        return None
    return {
        "template": "households/_work_panel.html",
        "title": _("年度档案抽查"),
        "rows": [
            {
                "label": _spotcheck_text(each),
                "count": each["count"] if each["count"] is not None else _("未抽取"),
                "url": _spotcheck_url(each),
                "urgent": True,
            }
            for each in due
        ],
        "link": reverse("households:spotcheck_list"),
        "link_label": _("年度档案抽查"),
    }


def _clerk_panel(user) -> dict:
    queues = [
        ("drafts", _("草稿（未提交申请）"), False),
        ("to_review", _("待入户调查和审核"), False),
        ("notice_ending", _("5个工作日内公示期满"), False),
        ("diagnoses_expired", _("诊断证明已超过一年"), True),
        ("documents_incomplete", _("证明材料不全"), True),
        ("survey_due", _("30天内应入户调查"), False),
        ("survey_overdue", _("入户调查逾期"), True),
    ]
    rows = [
        {
            "label": label,
            "count": selectors.STANDING_LISTS[key](user).count(),
            "url": standing_url(key),
            "urgent": urgent,
        }
        for key, label, urgent in queues
    ]
    rejected = list(selectors.rejected_closures(user)[:PANEL_ITEMS])
    return {
        "template": "households/_work_panel.html",
        "title": _("档案待办"),
        "rows": rows,
        "entries_title": _("近30天被驳回的退出申请"),
        "entries": [
            {
                "label": f"{closure.household.file_number} {closure.household.worker_name}",
                "url": _detail_url(closure.household),
                "note": _("%(kind)s：%(note)s")
                % {"kind": closure.get_kind_display(), "note": closure.decision_note},
            }
            for closure in rejected
        ],
        "link": reverse("households:create") if user.has_perm("households.add_household") else "",
        "link_label": _("新建档案"),
    }


def _supervisor_panel(user) -> dict:
    approvals = selectors.approvals_waiting(user)
    closures = list(selectors.pending_closures(user)[: PANEL_ITEMS + 1])
    waiting = list(
        approvals.select_related("current_period__notice")
        .defer("id_number", "bank_account")
        .order_by("current_period__notice__ends_on", "pk")[:PANEL_ITEMS]
    )
    items = [
        {
            "label": f"{household.file_number} {household.worker_name}",
            "url": _detail_url(household),
            "note": html_message(
                _("公示已于 %(day)s 期满，待审批建档"),
                day=unbroken(household.current_period.notice.ends_on),
            ),
        }
        for household in waiting
    ]
    items += [
        {
            "label": f"{closure.household.file_number} {closure.household.worker_name}",
            "url": _detail_url(closure.household) + "#closure",
            "note": _("%(kind)s申请，%(who)s提出")
            % {
                "kind": closure.get_kind_display(),
                "who": closure.requested_by,
            },
        }
        for closure in closures[:PANEL_ITEMS]
    ]
    return {
        "template": "households/_work_panel.html",
        "title": _("待我审批"),
        "rows": [
            {
                "label": _("公示期满待审批建档"),
                "count": approvals.count(),
                "url": standing_url("approvals"),
                "urgent": True,
            },
            {
                "label": _("公示异议待处理"),
                "count": selectors.objections_pending(user).count(),
                "url": standing_url("objections"),
                "urgent": True,
            },
            {
                "label": _("待审批的退出申请"),
                "count": selectors.pending_closures(user).count(),
                "url": standing_url("closure_pending"),
                "urgent": True,
            },
            {
                # The approval refuses these files, so they leave the queue above: say so here.
                "label": _("农民工会员资格待核实"),
                "count": selectors.migrant_membership_unverified(user).count(),
                "url": standing_url("migrant_unverified"),
                "urgent": True,
            },
        ],
        "entries_title": _("最早的待办"),
        "entries": items,
    }


def _late_panel(user) -> dict:
    """A panel of its own: nothing in it awaits the supervisor's approval (it stood under
    待我审批), it is what an inspection would find."""
    return {
        "template": "households/_work_panel.html",
        "title": _("逾期录入"),
        "rows": _late_rows(user),
    }


def _late_rows(user) -> list[dict]:
    """The year's changes recorded more than 30 working days late, and the exit requests
    waiting as long (late_entries.py): both listed on 逾期录入."""
    year = timezone.localdate().year
    entries, waiting = late_entries.late_entries(user, year=year)
    url = reverse("households:late_entries")
    rows = [
        {
            "label": _("%(year)d年逾期录入的状态变更") % {"year": year},
            "count": len(entries),
            "url": f"{url}?year={year}",
            "urgent": True,
        }
    ]
    if waiting:
        rows.append(
            {
                "label": _("超过30个工作日未审批的退出申请"),
                "count": len(waiting),
                "url": f"{url}#waiting",
                "urgent": True,
            }
        )
    return rows


def _overview_panel(user) -> dict:
    counts = selectors.status_counts(user)
    return {
        "template": "households/_work_panel.html",
        "title": _("困难职工档案"),
        "rows": [
            {
                "label": status.label,
                "count": counts.get(status.value, 0),
                "url": _list_url(status=status.value),
            }
            for status in Status
            if counts.get(status.value)
            or status in (Status.APPLIED, Status.NOTICE, Status.ON_FILE, Status.RELIEVED)
        ],
        "link": reverse("households:standing"),
        "link_label": _("常用清单"),
    }


def admin_rows(request) -> list[dict]:
    """The supervisor's approvals for the admin index: what its actions decide, each linking to
    its filtered list in the admin (config.admin.AdminSite.index)."""
    user = request.user
    if not user.has_perm("households.approve_household"):
        return []
    return [
        {
            "label": _("公示期满待审批建档"),
            "count": selectors.approvals_waiting(user).count(),
            "url": reverse("admin:households_household_changelist") + "?awaiting=1",
        },
        {
            # The approval refuses these files too until their objections are decided.
            "label": _("公示异议待处理"),
            "count": selectors.objections_pending(user).count(),
            "url": reverse("admin:households_household_changelist") + "?awaiting=objections",
        },
        {
            "label": _("待审批的退出申请"),
            "count": selectors.pending_closures(user).count(),
            "url": reverse("admin:households_closurerequest_changelist") + "?state__exact=pending",
        },
        {
            # The approval refuses these files, so they leave the first row: say so here.
            "label": _("农民工会员资格待核实"),
            "count": selectors.migrant_membership_unverified(user).count(),
            "url": reverse("admin:households_household_changelist") + "?awaiting=migrant",
        },
        {
            # And these, until the clerk uploads what they lack (services.check_documents).
            "label": _("证明材料不全"),
            "count": selectors.documents_incomplete(user).count(),
            "url": reverse("admin:households_household_changelist") + "?awaiting=documents",
        },
    ]


def reminders(request) -> list[dict]:
    """For the admin index: the year's spot-check, from 1 December (as on "my work")."""
    return [
        {
            "message": _spotcheck_text(due),
            "url": _spotcheck_url(due),
            "link_label": _("年度档案抽查"),
        }
        for due in spotchecks.reminders(request.user, timezone.localdate())
    ]
