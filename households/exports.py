"""Household files and their members as a workbook in the import template's layout, so an
export (with full numbers) imports again unchanged. Scoped to the user's subtree; ID, bank
and phone numbers masked unless the export asks for them in full and the role may see them.
The access log entry is written where the file is handed out (imports.views)."""

from django.utils import timezone

from households.importing import REASON_OF, STATE_OF, workbook_spec
from households.models import AMEND, Household, Member, Status, Transition
from imports.xlsx import export_workbook
from orgs.pii import mask_phone

CHUNK = 2000


def _phone(phone: str, full: bool) -> str:
    return phone if full else mask_phone(phone)


def household_rows(households, *, full: bool, tick):
    fields = [
        "pk",
        "file_number",
        "organisation__code",
        "worker_name",
        "sex",
        "id_masked",
        "phone",
        "employer",
        "is_migrant_worker",
        "household_size",
        "monthly_income",
        "primary_cause__name",
        "category__name",
        "status",
        "current_period_id",
        "current_period__filed_on",
        "current_period__closed_on",
        "bank_name",
        "bank_account_masked",
        "address",
    ]
    if full:  # decrypting costs: only when the numbers are wanted
        fields += ["id_number", "bank_account"]
    last = 0
    while True:
        chunk = list(households.filter(pk__gt=last).order_by("pk").values(*fields)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1]["pk"]
        periods = [h["current_period_id"] for h in chunk]
        steps = {}
        for t in (
            Transition.objects.filter(
                period_id__any_of=periods,
                to_status__in=[Status.RELIEVED, Status.DEREGISTERED],
            )
            .exclude(action=AMEND)  # the date of the step, not of a later fact change
            .values("period_id", "to_status", "effective_date", "deregistration_reason")
        ):
            steps[(t["period_id"], t["to_status"])] = t
        for h in chunk:
            status = h["status"]
            closed = h["current_period__closed_on"]
            relieved = steps.get((h["current_period_id"], Status.RELIEVED))
            deregistered = steps.get((h["current_period_id"], Status.DEREGISTERED))
            under_review = STATE_OF[status] == "申请中"
            yield [
                h["file_number"],
                h["organisation__code"],
                h["worker_name"],
                {"male": "男", "female": "女"}.get(h["sex"], ""),
                h["id_number"] if full else h["id_masked"],
                _phone(h["phone"], full),
                h["employer"],
                h["is_migrant_worker"],
                h["household_size"],
                h["monthly_income"],
                h["primary_cause__name"],
                h["category__name"] or "",
                None if under_review else h["current_period__filed_on"],
                STATE_OF[status],
                relieved["effective_date"] if relieved and not under_review else None,
                closed if status == Status.EXITED else None,
                closed if status == Status.DEREGISTERED else None,
                REASON_OF.get(deregistered["deregistration_reason"], "")
                if deregistered and status == Status.DEREGISTERED
                else "",
                h["bank_name"],
                (h["bank_account"] if full else h["bank_account_masked"]) or "",
                h["address"],
            ]
            tick()


def member_rows(members, *, full: bool, tick):
    from households.importing import EMPLOYMENT_LABELS, HEALTH_LABELS, RELATION_LABELS

    relation = {code: label for label, code in RELATION_LABELS.items()}
    health = {code: label for label, code in HEALTH_LABELS.items()}
    employment = {code: label for label, code in EMPLOYMENT_LABELS.items()}
    fields = [
        "pk",
        "household__file_number",
        "name",
        "relation",
        "id_masked",
        "health",
        "employment",
        "monthly_income",
    ]
    if full:
        fields.append("id_number")
    last = 0
    while True:
        chunk = list(members.filter(pk__gt=last).order_by("pk").values(*fields)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1]["pk"]
        for m in chunk:
            yield [
                m["household__file_number"],
                m["name"],
                relation[m["relation"]],
                (m["id_number"] if full else m["id_masked"]) or "",
                health[m["health"]],
                employment[m["employment"]],
                m["monthly_income"],
            ]
            tick()


def export_households(*, user, full: bool = False, progress=None) -> bytes:
    """The user's households (all but refused applications and withdrawn drafts, which the
    template cannot express) and their members, worker's own row included."""
    full = full and user.has_perm("households.view_full_identifiers")
    exported_at = timezone.now()  # before reading: a change made meanwhile counts as later
    never_filed = (Status.REJECTED, Status.WITHDRAWN)
    households = Household.objects.visible_to(user).exclude(status__in=never_filed)
    members = Member.objects.visible_to(user).exclude(household__status__in=never_filed)
    total = households.count() + members.count()
    done = [0]

    def tick():
        done[0] += 1
        if progress is not None and done[0] % 500 == 0:
            progress(done[0], total)

    data = export_workbook(
        workbook_spec(),
        {
            "households": household_rows(households, full=full, tick=tick),
            "members": member_rows(members, full=full, tick=tick),
        },
        exported_at=exported_at,
    )
    if progress is not None:
        progress(total, total)
    return data
