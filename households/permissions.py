from orgs.roles import Role

READ = {
    "households.view_household",
    "households.view_member",
    "households.view_document",
    "households.view_survey",
    "households.view_publicnotice",
    "households.view_objection",
    "households.view_closurerequest",
    "households.view_transition",
    "households.view_filingperiod",
    "households.view_dibaostandard",
    "households.view_cause",
    "households.view_category",
    # the yearly spot-check of files: its draws and results (progress, discrepancies)
    "households.view_spotchecksample",
    "households.view_spotcheck",
}

ROLE_PERMISSIONS = {
    Role.CLERK: READ
    | {
        "households.add_household",
        "households.change_household",
        "households.add_member",
        "households.change_member",
        "households.add_document",
        "households.change_document",
        "households.add_survey",
        "households.add_publicnotice",
        "households.add_objection",
        "households.change_objection",
        "households.add_closurerequest",
        "households.view_full_identifiers",
        # records what the spot-check of a sampled file found (the staff who visit the files)
        "households.change_spotcheck",
    },
    Role.SUPERVISOR: READ
    | {
        "households.approve_household",
        "households.change_closurerequest",
        "households.view_full_identifiers",
        # draws the year's spot-check: the reviewer picks the files, not the clerks who keep them
        "households.add_spotchecksample",
    },
    Role.FINANCE: {
        "households.view_household",
        "households.view_member",
        "households.view_full_identifiers",
    },
    # Upper-level unions read aggregates and masked lists, never full identifiers.
    Role.VIEWER: READ,
    Role.ADMIN: READ
    | {
        "households.add_dibaostandard",
        "households.change_dibaostandard",
        "households.add_cause",
        "households.change_cause",
        "households.add_category",
        "households.change_category",
    },
}
