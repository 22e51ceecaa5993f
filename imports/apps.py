from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("导入导出")

    def ready(self):
        from imports import lookups  # noqa: F401 - registers field__any_of
