from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    default = True  # this module holds LoginProtectionConfig too
    name = "orgs"
    verbose_name = _("组织与用户")

    def post_ready_sync(self, app_config, **kwargs):
        from django.apps import apps

        from orgs.roles import sync_role_permissions

        # post_migrate is sent once per app, each after its own permissions are created: sync
        # once, after the last (a sync per app cost ≈ 8 s per migrate or test database flush).
        if app_config is not [c for c in apps.get_app_configs() if c.models_module][-1]:
            return
        sync_role_permissions(using=kwargs.get("using", "default"))

    def ready(self):
        from orgs import pdf  # noqa: F401 - registers the system check orgs.W001

        # Permissions only exist after every app has migrated, so the role table is applied
        # after each migrate run (the groups themselves are created by a migration).
        post_migrate.connect(self.post_ready_sync, dispatch_uid="orgs.sync_role_permissions")


class LoginProtectionConfig(AxesConfig):
    """django-axes (login throttling) under a name of ours in the admin, which showed its bare
    label "Axes"."""

    verbose_name = _("登录保护")

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessLog

        # Its records name themselves in English ("Attempted Access: 2026-12-07 08:01:02.1+00:00"
        # in the admin's titles, confirmations and messages): in the interface language instead.
        AccessAttempt.__str__ = failed_login_text
        AccessLog.__str__ = login_text


def failed_login_text(attempt) -> str:
    return gettext("%(username)s 的登录失败（%(time)s）") % {
        "username": attempt.username,
        "time": f"{localtime(attempt.attempt_time):%Y-%m-%d %H:%M}",
    }


def login_text(log) -> str:
    return gettext("%(username)s 的登录（%(time)s）") % {
        "username": log.username,
        "time": f"{localtime(log.attempt_time):%Y-%m-%d %H:%M}",
    }
