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


def may_manage_administrators(user, organisation) -> bool:
    """Whether `user` may give or take the administrator role of an account of `organisation`,
    or change such an account: a superuser, or an administrator of a union above it. Within one
    union the administrator keeps the staff accounts, not those of its peers: else a county
    administrator could make a second administrator, or reset one's password, and hold every
    role of the county through accounts of their own making."""
    if user.is_superuser:
        return True
    own = getattr(user, "organisation", None)
    if own is None or organisation is None or organisation.pk == own.pk:
        return False
    return organisation.path.startswith(own.path)


def role_permission_table() -> dict[str, set[str]]:
    """{role code: {"app_label.codename", …}} from every installed app's permissions.py."""
    table: dict[str, set[str]] = {role.value: set() for role in Role}
    for _config, module in app_modules("permissions"):
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            table[str(role)].update(perms)
    return table


def sync_role_permissions(using: str = "default") -> None:
    from django.contrib.auth.models import Group, Permission

    table = role_permission_table()
    wanted = set().union(*table.values())
    labels = {dotted.split(".", 1)[0] for dotted in wanted}
    found = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(content_type__app_label__in=labels)
        .values_list("pk", "content_type__app_label", "codename")
    }
    for role, perms in table.items():
        group, _created = Group.objects.using(using).get_or_create(name=role)
        # apps not migrated yet in this run are picked up next time
        group.permissions.set([found[dotted] for dotted in sorted(perms) if dotted in found])
