"""The timeline of a household file: every trace the file has left, newest first.

`timeline_for(household, user)` gathers the entries of every installed app that has a module
`<app>.timeline` with a function `timeline_entries(household, user) -> list[dict]`; this module
is one of them. An entry is a dict with `date` (a date or an aware datetime), `kind`, `title`,
`detail` and optionally `url`, `actor`, `flags` (short labels) and `changes` (lines of
"field: old → new"). Each app decides what the user may see of its own entries."""

from datetime import date, datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from households.models import (
    AMEND,
    Category,
    Cause,
    ClosureRequest,
    Household,
    Member,
    Objection,
    Status,
)
from households.workflow import STEPS
from orgs.models import Organisation, User
from orgs.money import is_money, yuan_text
from orgs.pii import FULL_NUMBERS, PHONE_FIELDS, mask_phone, masks_phones
from orgs.reference import translated_name
from orgs.registry import app_modules
from orgs.text import aside, listing

# Edits saved within this gap by the same person are one change (one form submission saves the
# file, its members and the recomputed income one after another).
CHANGE_SET_GAP = timedelta(seconds=2)

# Fields whose changes the field history shows. State, survey dates and the current period
# have entries of their own (transitions, surveys); ID and bank numbers show only masked.
HOUSEHOLD_FIELDS = [
    "organisation",
    "base_union",
    "worker_name",
    "sex",
    "id_masked",
    "phone",
    "employer",
    "is_migrant_worker",
    "is_union_member",
    "labour_relation_since",
    "is_model_worker",
    "address",
    "bank_name",
    "bank_account_masked",
    "other_monthly_income",
    "rigid_spending_annual",
    "accident_spending_annual",
    "household_size",
    "monthly_income",
    "per_capita_income",
    "primary_cause",
    "secondary_cause_codes",
    "category",
    "owns_multiple_homes",
    "owns_business",
    "children_private_school",
    "uses_vehicles",
    "responsible_staff",
    "responsible_chair",
    "responsible_chair_phone",
]
MEMBER_FIELDS = [
    "relation",
    "name",
    "id_masked",
    "health",
    "disability",
    "employment",
    "school_stage",
    "monthly_income",
]
RELATED = {"organisation": Organisation, "base_union": Organisation, "primary_cause": Cause}
RELATED |= {"category": Category, "responsible_staff": User}


def timeline_for(household: Household, user) -> list[dict]:
    """Entries of every app about this file, newest first."""
    entries: list[dict] = []
    for config, module in app_modules("timeline"):
        collect = getattr(module, "timeline_entries", None)
        if collect is not None:
            for entry in collect(household, user):
                entry.setdefault("app", config.label)
                entry["timed"] = isinstance(entry["date"], datetime)
                entries.append(entry)
    return sorted(entries, key=_sort_key, reverse=True)


def _sort_key(entry: dict):
    value = entry["date"]
    at = entry.get("at")
    if isinstance(value, datetime):
        at = value
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(at, datetime) and timezone.is_aware(at):
        at = timezone.localtime(at)
    moment = at.time() if isinstance(at, datetime) and at.date() == value else time.min
    return (value, moment, entry.get("order", 0))


def _same_day(day: date, moment: datetime | None) -> datetime | None:
    """The recording time, when it fell on the entry's date (orders entries within a day)."""
    if moment is not None and timezone.localtime(moment).date() == day:
        return moment
    return None


def timeline_entries(household: Household, user) -> list[dict]:
    """The household app's own entries, each kind only for users who may read it."""
    entries: list[dict] = []
    transitions: list[dict] = []
    if user.has_perm("households.view_transition"):
        transitions = _transitions(household)
        entries += transitions
    if user.has_perm("households.view_survey"):
        entries += _surveys(household)
    if user.has_perm("households.view_document"):
        entries += _documents(household, user)
    if user.has_perm("households.view_objection"):
        entries += _objections(household)
    if user.has_perm("households.view_closurerequest"):
        entries += _closures(household)
    if user.has_perm("households.view_household"):
        history = field_history(household, masked=PHONE_FIELDS if masks_phones(user) else ())
        entries += _into_transitions(history, transitions)
    return entries


def _into_transitions(history: list[dict], transitions: list[dict]) -> list[dict]:
    """A step that also changed fields (an approval giving the file the suggested category)
    shows those changes under the step, not as a separate edit beside it. Returns the history
    entries left."""
    by_actor: dict[int, list[dict]] = {}
    for entry in transitions:
        if entry["action"] == "approve":  # the one step that changes a field the trail shows
            by_actor.setdefault(entry["actor_id"], []).append(entry)
    left = []
    for entry in history:
        step = next(
            (
                t
                for t in by_actor.get(entry["actor_id"], [])
                if abs(t["recorded"] - entry["date"]) <= CHANGE_SET_GAP
                and t["reason"] == entry["reason"]  # the step's save names the step's reason
                and "changes" not in t
            ),
            None,
        )
        if step is None:
            left.append(entry)
        else:
            step["changes"] = entry["changes"]
    return left


def _person(user) -> str:
    return str(user) if user is not None else ""


def _transitions(household: Household) -> list[dict]:
    entries = []
    # A fact change (AMEND) is told by the field history, with what changed.
    rows = (
        household.transitions.exclude(action=AMEND)
        .select_related("actor")
        .order_by("effective_date", "id")
    )
    for row in rows:
        step = STEPS.get(row.action)
        title = step.label if step else _("录入档案") if row.action == "create" else row.action
        flags = []
        if row.is_imported:
            flags.append(_("导入的历史记录"))
        if row.against_verdict:
            flags.append(_("与认定结果不一致"))
        status = (
            _("%(old)s → %(new)s")
            % {"old": Status(row.from_status).label, "new": Status(row.to_status).label}
            if row.from_status
            else str(Status(row.to_status).label)
        )
        detail = [status]
        if row.deregistration_reason:
            detail.append(
                _("注销原因：%(reason)s") % {"reason": row.get_deregistration_reason_display()}
            )
        if row.reason:
            detail.append(row.reason)
        entries.append(
            {
                "date": row.effective_date,
                "at": _same_day(row.effective_date, row.created_at),
                "order": row.pk,
                "kind": "transition",
                "title": str(title),
                "detail": "\n".join(detail),
                "actor": _person(row.actor),
                "actor_id": row.actor_id,
                "action": row.action,
                "recorded": row.created_at,
                "reason": Truncator(row.reason).chars(100),  # as transition_apply saves it
                "flags": flags,
            }
        )
    return entries


def _surveys(household: Household) -> list[dict]:
    entries = []
    for survey in household.surveys.select_related("recorded_by").order_by("surveyed_on", "id"):
        if survey.dibao_line is None:
            income = _("核实月人均收入 %(pc)s 元（当年未设低保标准）") % {
                "pc": yuan_text(survey.per_capita_income)
            }
        else:
            income = _("核实月人均收入 %(pc)s 元，低保标准 %(line)s 元，%(side)s") % {
                "pc": yuan_text(survey.per_capita_income),
                "line": yuan_text(survey.dibao_line),
                "side": pgettext("survey result", "高于低保标准")
                if survey.is_above_line
                else _("不高于低保标准"),
            }
        entries.append(
            {
                "date": survey.surveyed_on,
                "at": _same_day(survey.surveyed_on, survey.created_at),
                "order": survey.pk,
                "kind": "survey",
                "title": _("入户调查（%(who)s）") % {"who": survey.surveyors},
                "detail": f"{income}\n{survey.findings}",
                "actor": _person(survey.recorded_by),
            }
        )
    return entries


def _documents(household: Household, user) -> list[dict]:
    entries = []
    may_download = user.has_perm(FULL_NUMBERS)
    documents = household.documents.select_related("uploaded_by", "withdrawn_by")
    for document in documents.order_by("uploaded_at"):
        if document.withdrawn_at is not None:
            entries.append(
                {
                    "date": document.withdrawn_at,
                    "order": document.pk,
                    "kind": "document",
                    "title": _("作废材料：%(kind)s") % {"kind": document.get_kind_display()},
                    "detail": f"{document.original_name}\n{document.withdraw_reason}".strip(),
                    "actor": _person(document.withdrawn_by),
                    "flags": [],
                    "url": "",
                }
            )
        entries.append(
            {
                "date": document.uploaded_at,
                "order": document.pk,
                "kind": "document",
                "title": _("上传材料：%(kind)s") % {"kind": document.get_kind_display()},
                "detail": document.original_name,
                "actor": _person(document.uploaded_by),
                "flags": [] if document.is_active else [_("已作废")],
                "url": reverse("households:document_download", args=[document.pk])
                if may_download
                else "",
            }
        )
    return entries


def _objections(household: Household) -> list[dict]:
    entries = []
    rows = household.objections.select_related("recorded_by", "resolved_by").order_by("id")
    for objection in rows:
        entries.append(
            {
                "date": objection.raised_on,
                "order": objection.pk,
                "kind": "objection",
                "title": _("公示异议：%(who)s") % {"who": objection.raised_by},
                "detail": objection.content,
                "actor": _person(objection.recorded_by),
            }
        )
        if objection.outcome != Objection.Outcome.PENDING and objection.resolved_at:
            entries.append(
                {
                    "date": objection.resolved_at,
                    "order": objection.pk,
                    "kind": "objection",
                    "title": _("异议处理：%(outcome)s")
                    % {"outcome": objection.get_outcome_display()},
                    "detail": objection.finding,
                    "actor": _person(objection.resolved_by),
                }
            )
    return entries


# In a sentence of the trail the kind of a closure is a noun: "Exit requested", not "Exited".
CLOSURE_NOUNS = {
    ClosureRequest.Kind.RELIEVED: pgettext_lazy("closure as a noun", "解困"),
    ClosureRequest.Kind.EXITED: pgettext_lazy("closure as a noun", "脱困"),
    ClosureRequest.Kind.DEREGISTERED: pgettext_lazy("closure as a noun", "注销"),
}


def _closures(household: Household) -> list[dict]:
    entries = []
    rows = household.closures.select_related("requested_by", "decided_by").order_by("id")
    for closure in rows:
        entries.append(
            {
                "date": closure.requested_at,
                "order": closure.pk,
                "kind": "closure",
                "title": _("申请%(kind)s（%(day)s起）")
                % {"kind": CLOSURE_NOUNS[closure.kind], "day": closure.effective_date},
                "detail": closure.reason,
                "actor": _person(closure.requested_by),
                "flags": [closure.get_deregistration_reason_display()]
                if closure.deregistration_reason
                else [],
            }
        )
        # An approval is told by the step it applied (its transition: who, when, the request's
        # reason and the decision's note); only a refusal needs an entry of its own.
        if closure.state == ClosureRequest.State.REJECTED and closure.decided_at:
            entries.append(
                {
                    "date": closure.decided_at,
                    "order": closure.pk,
                    "kind": "closure",
                    "title": _("%(kind)s申请已驳回") % {"kind": CLOSURE_NOUNS[closure.kind]},
                    "detail": closure.decision_note,
                    "actor": _person(closure.decided_by),
                }
            )
    return entries


# --- Field history (django-simple-history) ------------------------------------------------------


def field_history(household: Household, masked: tuple[str, ...] = ()) -> list[dict]:
    """Changes of the file's and its members' fields: old → new, who and when. Saves of one
    submission are one entry; the file's creation is the transition "录入档案". The phone
    fields named in `masked` show masked."""
    records = [
        ("household", record)
        for record in household.history.select_related("history_user")
        .defer("id_number", "bank_account")
        .order_by("history_date", "history_id")
    ]
    records += [
        ("member", record)
        for record in Member.history.filter(household_id=household.pk)
        .select_related("history_user")
        .defer("id_number")
        .order_by("history_date", "history_id")
    ]
    records.sort(key=lambda item: (item[1].history_date, item[0] != "household"))
    groups: list[list[tuple[str, object]]] = []
    for item in records:
        record = item[1]
        if groups:
            last = groups[-1][-1][1]
            if (
                record.history_user_id == last.history_user_id
                and record.history_date - last.history_date <= CHANGE_SET_GAP
            ):
                groups[-1].append(item)
                continue
        groups.append([item])

    names = _related_names(records)
    entries = []
    household_state = None
    member_states: dict[int, object] = {}
    for group in groups:
        created = any(kind == "household" and r.history_type == "+" for kind, r in group)
        changes: list[dict] = []
        last_household = [r for kind, r in group if kind == "household"]
        if last_household:
            new = last_household[-1]
            if household_state is not None and not created:
                changes += _diff(
                    Household, HOUSEHOLD_FIELDS, household_state, new, names, masked=masked
                )
            household_state = new
        latest_members: dict[int, object] = {}
        for kind, record in group:
            if kind == "member":
                latest_members[record.id] = record
        for member_id, record in latest_members.items():
            before = member_states.get(member_id)
            member_states[member_id] = record
            if created:
                continue
            if record.history_type == "-":
                changes.append({"field": _("删除家庭成员"), "old": record.name, "new": ""})
            elif before is None or before.history_type == "-":
                changes.append(
                    {
                        "field": _("新增家庭成员"),
                        "old": "",
                        "new": aside(record.name, _label(Member, "relation", record.relation)),
                    }
                )
            else:
                for change in _diff(Member, MEMBER_FIELDS, before, record, names):
                    change["field"] = f"{record.name} · {change['field']}"
                    changes.append(change)
        if created or not changes:
            continue
        first = group[0][1]
        reasons = [r.history_change_reason for _kind, r in group if r.history_change_reason]
        entries.append(
            {
                "date": first.history_date,
                "order": first.history_id,
                "kind": "history",
                "title": _("修改档案信息"),
                "detail": _("修改原因：%(reason)s") % {"reason": reasons[0]} if reasons else "",
                "actor": _person(first.history_user),
                "actor_id": first.history_user_id,
                "reason": reasons[0] if reasons else "",
                "changes": changes,
            }
        )
    return entries


def _related_names(records) -> dict[tuple[type, int], str]:
    wanted: dict[type, set[int]] = {}
    for kind, record in records:
        if kind != "household":
            continue
        for field, model in RELATED.items():
            value = getattr(record, f"{field}_id")
            if value is not None:
                wanted.setdefault(model, set()).add(value)
    names = {}
    for model, ids in wanted.items():
        for obj in model.objects.filter(pk__in=ids):
            if model in (Cause, Category):
                names[(model, obj.pk)] = str(obj)  # in the reader's language
            else:
                names[(model, obj.pk)] = obj.name if hasattr(obj, "name") else str(obj)
    if any(kind == "household" and record.secondary_cause_codes for kind, record in records):
        for code, name in Cause.objects.values_list("code", "name"):
            names[(Cause, code)] = translated_name(name)
    return names


def _label(model, field_name: str, value) -> str:
    field = model._meta.get_field(field_name)
    if value is None or value == "":
        return _("（空）")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if is_money(field):
        return yuan_text(value)  # as the page prints amounts: 15,000.00
    return str(value)


def _cause_names(codes: str, names) -> str:
    if not codes:
        return _("（空）")
    return listing(names.get((Cause, code), code) for code in codes.split(","))


def _diff(model, fields, old, new, names, *, masked=()) -> list[dict]:
    changes = []
    for name in fields:
        field = model._meta.get_field(name)
        if field.is_relation:
            before, after = getattr(old, f"{name}_id"), getattr(new, f"{name}_id")
            if before == after:
                continue
            related = RELATED[name]
            shown = [
                names.get((related, value), str(value)) if value is not None else _("（空）")
                for value in (before, after)
            ]
        elif name == "secondary_cause_codes":
            before, after = getattr(old, name), getattr(new, name)
            if before == after:
                continue
            shown = [_cause_names(codes, names) for codes in (before, after)]
        else:
            before, after = getattr(old, name), getattr(new, name)
            if before == after:
                continue
            if name in masked:
                before, after = mask_phone(before or ""), mask_phone(after or "")
            shown = [_label(model, name, before), _label(model, name, after)]
        changes.append(
            {"field": capfirst(str(field.verbose_name)), "old": shown[0], "new": shown[1]}
        )
    return changes
