from orgs.roles import Role

# Who works cases at the counter and may be named their handler (经办人, selectors.case_handlers):
# clerks and supervisors. Administrators hold services.change_case to correct records, not to
# handle cases.
CASE_HANDLER_ROLES = (Role.CLERK, Role.SUPERVISOR)

RECORDS = ["case", "legalaidcase", "jobreferral", "trainingcourse", "trainingattendee"]


def _perms(*actions: str, models=RECORDS) -> set[str]:
    return {f"services.{action}_{model}" for action in actions for model in models}


ROLE_PERMISSIONS = {
    # The counter: logs cases, legal aid, referrals and trainings.
    Role.CLERK: _perms("view", "add", "change") | {"services.view_window"},
    Role.SUPERVISOR: _perms("view", "change") | {"services.view_window"},
    Role.FINANCE: _perms("view") | {"services.view_window"},
    # Upper-level unions read only.
    Role.VIEWER: _perms("view") | {"services.view_window"},
    # Administrators also rename, add and retire windows (used windows are never deleted).
    Role.ADMIN: _perms("view", "add", "change")
    | _perms("view", "add", "change", "delete", models=["window"]),
}
