from orgs.roles import Role

ROLE_PERMISSIONS = {
    Role.CLERK: {"orgs.view_organisation"},
    Role.SUPERVISOR: {"orgs.view_organisation", "orgs.view_user"},
    Role.FINANCE: {"orgs.view_organisation"},
    Role.VIEWER: {"orgs.view_organisation"},
    Role.ADMIN: {
        "orgs.view_organisation",
        "orgs.add_organisation",
        "orgs.change_organisation",
        "orgs.view_user",
        "orgs.add_user",
        "orgs.change_user",
        "orgs.view_holiday",
        "orgs.add_holiday",
        "orgs.change_holiday",
        "orgs.delete_holiday",
        "orgs.view_accesslog",
        # django-axes: see failed logins, unlock (delete the attempt), see the login log
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
    },
}
