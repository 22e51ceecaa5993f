"""Import and export jobs: the uploaded workbook (or the export written), its stage and
progress, and the report of the dry run and of the write. A job runs in the background
(imports/tasks.py) and survives the user closing the page."""

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, Q, Value
from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from imports.registry import KINDS
from orgs.models import Organisation
from orgs.scoping import ScopedQuerySet


class ImportJobQuerySet(ScopedQuerySet):
    """Who sees a job and who opens it: the one rule of the admin's list and the staff pages."""

    def visible_to(self, user):
        """The jobs of the user's subtree in the kinds the user may import or export
        (imports/registry.py, imports/permissions.py): finance does not see the household
        imports (nor their file names), a clerk or supervisor not the funds ledger's."""
        jobs = super().visible_to(user)
        if getattr(user, "is_superuser", False):
            return jobs
        kinds = [
            code
            for code, kind in KINDS.items()
            if user.has_perm(kind.import_permission) or user.has_perm(kind.export_permission)
        ]
        return jobs.filter(kind__in=kinds)

    def openable_by(self, user):
        """The visible jobs whose staff page (preview, confirmation, result, download) opens
        for the user: their own, a superuser's every one; anybody else's answer 404 there."""
        jobs = self.visible_to(user)
        return jobs if user.is_superuser else jobs.filter(created_by=user)

    def with_opens(self, user):
        """Each job annotated `opens`: whether `openable_by(user)` holds it (for links)."""
        opens = Value(True) if user.is_superuser else Q(created_by=user)
        return self.annotate(opens=ExpressionWrapper(opens, output_field=models.BooleanField()))


def job_path(instance, filename):
    # Never the user's file name on disk (it is kept in a column); never served directly.
    return f"imports/{instance.operation}-{instance.kind}-{instance.token}.xlsx"


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        HOUSEHOLDS = "households", _("困难职工档案")
        FUNDS = "funds", _("帮扶资金收支")

    class Operation(models.TextChoices):
        IMPORT = "import", _("导入")
        EXPORT = "export", _("导出")

    class State(models.TextChoices):
        QUEUED = "queued", _("排队等待检查")
        CHECKING = "checking", _("正在检查")
        CHECKED = "checked", _("检查通过，待确认")
        REJECTED = "rejected", _("有错误，未导入")
        CONFIRMED = "confirmed", _("已确认，排队等待导入")
        WRITING = "writing", _("正在导入")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        EXPORTING = "exporting", _("正在导出")

    RUNNING = (State.QUEUED, State.CHECKING, State.CONFIRMED, State.WRITING, State.EXPORTING)

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("数据类型"), max_length=20, choices=Kind.choices)
    operation = models.CharField(_("操作"), max_length=10, choices=Operation.choices)
    token = models.CharField(max_length=32, editable=False)
    file = models.FileField(_("文件"), upload_to=job_path, blank=True)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    full_identifiers = models.BooleanField(_("导出完整号码"), default=False)
    # The uploader's interface language: the job's messages are written in it (a worker has no
    # request to take it from).
    language = models.CharField(_("语言"), max_length=10, blank=True, editable=False)
    state = models.CharField(
        pgettext_lazy("job", "状态"), max_length=12, choices=State.choices, default=State.QUEUED
    )
    done = models.PositiveIntegerField(_("已处理行数"), default=0)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    preview = models.JSONField(_("检查结果"), null=True, blank=True)
    result = models.JSONField(_("导入结果"), null=True, blank=True)
    failure = models.TextField(_("失败原因"), blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    checked_at = models.DateTimeField(_("检查完成时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # The last run again of a stalled job (services.job_restart): who, when.
    restarted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("重新运行人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    restarted_at = models.DateTimeField(_("重新运行时间"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "导入导出任务")
        verbose_name_plural = pgettext_lazy("models", "导入导出任务")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("import_households", _("导入困难职工档案")),
            ("export_households", _("导出困难职工档案")),
            ("import_funds", _("导入帮扶资金收支")),
            ("export_funds", _("导出帮扶资金收支")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "queued",
                        "checking",
                        "checked",
                        "rejected",
                        "confirmed",
                        "writing",
                        "done",
                        "failed",
                        "exporting",
                    ]
                ),
                name="importjob_state_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_operation_display()} {self.get_kind_display()} #{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.state in self.RUNNING

    def downloadable_by(self, user) -> bool:
        """Whether `user` may download this export now, by their rights of today, not those of
        when it ran: they still export its kind, and a workbook of full numbers only while they
        still see numbers in full (a role changed since takes it away; a masked export is
        theirs to start)."""
        from orgs.pii import FULL_NUMBERS

        if not user.has_perm(KINDS[self.kind].export_permission):
            return False
        return not self.full_identifiers or user.has_perm(FULL_NUMBERS)

    def errors_downloadable_by(self, user) -> bool:
        """Whether `user`, who sees this job (ImportJobQuerySet.visible_to), may download its
        whole error list: its uploader or a superuser (the job's page is theirs), and a
        colleague who may take the kind out (`downloadable_by`, the export's rule): the admin
        shows them the first errors, and the list quotes the upload's cells, masked."""
        return user.is_superuser or self.created_by_id == user.pk or self.downloadable_by(user)

    def language_note(self) -> str:
        """Says that the job's messages are in its uploader's language when the reader's is
        another ("" when it is the same): they are stored as written (imports/tasks.py)."""
        written = self.language or settings.LANGUAGE_CODE
        reading = translation.get_language() or settings.LANGUAGE_CODE
        if written.lower() == reading.lower():
            return ""
        names = dict(settings.LANGUAGES)
        return gettext("以下错误信息为导入人所用语言（%(language)s）。") % {
            "language": str(names.get(written, written)),
        }

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, round(100 * self.done / self.total))
