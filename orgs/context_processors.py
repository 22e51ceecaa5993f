from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orgs.roles import Role

# (label, url name, roles that see it; empty = everyone). Apps add their entries here as they
# grow; the server still checks every view, this only decides what the menu shows.
NAVIGATION = [
    (_("我的工作"), "home", set()),
    (_("困难职工档案"), "households:list", set()),
    (_("服务中心"), "services:case_list", set()),
    (
        _("帮扶申请"),
        "funds:request_list",
        {Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.VIEWER},
    ),
    (_("帮扶资金"), "funds:index", {Role.SUPERVISOR, Role.FINANCE, Role.VIEWER, Role.ADMIN}),
    (_("统计报表"), "reports:summary", set()),
    (_("导入导出"), "imports:index", {Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN}),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    for label, url_name, roles in NAVIGATION:
        if roles and not (user.is_superuser or user.has_role(*roles)):
            continue
        items.append({"label": label, "url": reverse(url_name), "name": url_name})
    role_labels = [Role(code).label for code in sorted(user.roles) if code in Role.values]
    return {"nav_items": items, "user_role_labels": role_labels}
