from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Report(models.Model):
    """No table: it only carries the reports' permissions (Django attaches permissions to
    models), so roles can be granted "view the summary" and "download the roster"."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_summary", _("查看和下载解困脱困工作总结")),
            ("view_roster", _("下载困难职工花名册")),
        ]
        verbose_name = pgettext_lazy("model", "报表")
        verbose_name_plural = pgettext_lazy("models", "报表")

    def __str__(self):
        return str(self._meta.verbose_name)
