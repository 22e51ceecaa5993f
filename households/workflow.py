"""The filing lifecycle as one table: which action moves a file from which states to which,
and the permission it takes. `services.transition_apply` is the only code that uses it.

申请 → 审核 → 公示 → 审批 → 在档 [003]; exits and deregistrations are approved too [000]."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from households.models import Status as S

CLERK = "households.change_household"
SUPERVISOR = "households.approve_household"


@dataclass(frozen=True)
class Step:
    label: str
    sources: tuple[str, ...]
    target: str
    permission: str
    needs_reason: bool = False


STEPS: dict[str, Step] = {
    "submit": Step(_("提交申请"), (S.DRAFT,), S.APPLIED, CLERK),
    "review": Step(_("完成审核（入户调查）"), (S.APPLIED,), S.REVIEWED, CLERK),
    "start_notice": Step(_("开始公示"), (S.REVIEWED,), S.NOTICE, CLERK),
    "approve": Step(_("审批建档"), (S.NOTICE,), S.ON_FILE, SUPERVISOR),
    "reject": Step(_("不予建档"), (S.APPLIED, S.REVIEWED, S.NOTICE), S.REJECTED, SUPERVISOR, True),
    "withdraw": Step(_("撤回草稿"), (S.DRAFT,), S.WITHDRAWN, CLERK, True),
    # Closures: requested by a clerk (ClosureRequest), applied when a supervisor approves.
    "relieve": Step(_("解困"), (S.ON_FILE,), S.RELIEVED, SUPERVISOR, True),
    "exit": Step(_("脱困（撤档）"), (S.ON_FILE, S.RELIEVED), S.EXITED, SUPERVISOR, True),
    "deregister": Step(
        _("注销（退档）"), (S.ON_FILE, S.RELIEVED), S.DEREGISTERED, SUPERVISOR, True
    ),
    "reopen": Step(
        _("重新申请"),
        (S.EXITED, S.DEREGISTERED, S.REJECTED, S.WITHDRAWN),
        S.APPLIED,
        CLERK,
        True,
    ),
}

# Steps shown as buttons on the staff pages; the closures go through a request form instead.
DIRECT_ACTIONS = ("submit", "review", "start_notice", "approve", "reject", "withdraw", "reopen")
CLOSURE_ACTIONS = {"relieved": "relieve", "exited": "exit", "deregistered": "deregister"}


def allowed_actions(user, household) -> list[str]:
    """The direct actions this user may take on this file now (state and permission only; the
    service checks the remaining conditions and explains a refusal)."""
    return [
        action
        for action in DIRECT_ACTIONS
        if household.status in STEPS[action].sources and user.has_perm(STEPS[action].permission)
    ]
