from orgs.roles import Role

HOUSEHOLDS = {"imports.import_households", "imports.export_households", "imports.view_importjob"}
FUNDS = {"imports.import_funds", "imports.export_funds", "imports.view_importjob"}

# Clerks, supervisors and administrators bring household files in and out; finance and
# administrators the funds ledger. Upper-level viewers do neither.
ROLE_PERMISSIONS = {
    Role.CLERK: HOUSEHOLDS,
    Role.SUPERVISOR: HOUSEHOLDS,
    Role.FINANCE: FUNDS,
    Role.ADMIN: HOUSEHOLDS | FUNDS,
}
