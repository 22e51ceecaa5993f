from orgs.roles import Role

EVERY_ROLE = {"reports.view_summary", "reports.view_roster"}

ROLE_PERMISSIONS = {
    Role.CLERK: EVERY_ROLE,
    Role.SUPERVISOR: EVERY_ROLE,
    Role.FINANCE: {"reports.view_summary"},
    Role.VIEWER: EVERY_ROLE,
    Role.ADMIN: EVERY_ROLE,
}
