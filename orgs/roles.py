"""Roles are Django groups named by the codes below; their model permissions come from the
`ROLE_PERMISSIONS` tables of each app's `permissions.py`, gathered here and applied after every
`migrate`. The groups themselves are created by a migration (orgs 0002)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs.registry import app_modules


class Role(models.TextChoices):
    CLERK = "clerk", _("录入员")
    SUPERVISOR = "supervisor", _("审核审批")
    FINANCE = "finance", _("财务")
    VIEWER = "viewer", _("上级工会（只读）")
    ADMIN = "admin", _("系统管理员")


# Roles that work in the Django admin get is_staff.
ADMIN_SITE_ROLES = {Role.SUPERVISOR, Role.FINANCE, Role.ADMIN}


def role_permission_table() -> dict[str, set[str]]:
    """{role code: {"app_label.codename", …}} from every installed app's permissions.py."""
    table: dict[str, set[str]] = {role.value: set() for role in Role}
    for _config, module in app_modules("permissions"):
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            table[str(role)].update(perms)
    return table


def sync_role_permissions(using: str = "default") -> None:
    from django.contrib.auth.models import Group, Permission

    for role, wanted in role_permission_table().items():
        group, _created = Group.objects.using(using).get_or_create(name=role)
        perms = []
        for dotted in sorted(wanted):
            app_label, codename = dotted.split(".", 1)
            perm = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if perm is not None:  # apps not migrated yet in this run are picked up next time
                perms.append(perm)
        group.permissions.set(perms)
