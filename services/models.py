"""The service centre (职工服务中心): windows, the case log, legal aid, job referrals, trainings.

DOMAIN.md "The service centre": staff log each letter, call or visit with window, worker,
matter and outcome; legal-aid cases record wages recovered (migrant workers separately); job
referrals record placements; trainings record attendees and certificates.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from orgs.pii import EncryptedCharField, keyed_hash, mask
from orgs.reference import translated_name, unique_code
from orgs.scoping import ScopedQuerySet
from orgs.text import aside
from services.validators import normalise_id_number, validate_resident_id_number

FOLLOW_UP_BEFORE_CASE_MESSAGE = _("跟进日期不能早于登记日期。")
WAGES_NEGATIVE_MESSAGE = _("追回拖欠工资不能为负数。")
FEES_NEGATIVE_MESSAGE = _("减免费用不能为负数。")
COURSE_DATES_MESSAGE = _("结束日期不能早于开始日期。")
# Dates typed at the counter before the centre's records begin are typing errors (as cases').
FIRST_YEAR = 2000
REFERRED_LATER_MESSAGE = _("介绍日期不能晚于今天。")
REFERRED_EARLIER_MESSAGE = _("介绍日期不能早于 2000 年。")
REFERRED_BEFORE_CASE_MESSAGE = _("介绍日期不能早于来源案件的登记日期。")
COURSE_STARTS_EARLIER_MESSAGE = _("开始日期不能早于 2000 年。")
COURSE_ENDS_EARLIER_MESSAGE = _("结束日期不能早于 2000 年。")
CERTIFICATE_NAME_MESSAGE = _("请填写所获证书名称。")
CERTIFICATE_BEFORE_END_MESSAGE = _(
    "培训班 %(ends_on)s 结束，结束前不能登记“取得证书”：学员尚未结业。"
)
ATTENDEE_TWICE_MESSAGE = _("该职工已是本培训班的学员（身份证号码相同）。")


class WindowQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Window(models.Model):
    """A service window (窗口). Reference rows with a stable code, seeded by migration 0002;
    administrators rename, add or retire them. Retired windows keep their cases."""

    code = models.SlugField(
        _("代码"),
        max_length=40,
        unique=True,
        help_text=_("稳定的英文代码，统计和报表按此归类，启用后请勿修改。"),
    )
    name = models.CharField(_("名称"), max_length=50)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用后不再用于新登记，已有记录保留。")
    )
    history = HistoricalRecords()

    objects = WindowQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "服务窗口")
        verbose_name_plural = pgettext_lazy("models", "服务窗口")
        ordering = ["sort_order", "code"]
        constraints = [unique_code("window")]

    def __str__(self):
        return translated_name(self.name)


class CaseQuerySet(ScopedQuerySet):
    org_lookup = "organisation"

    def unclosed(self):
        return self.filter(status__in=[Case.Status.OPEN, Case.Status.REFERRED])

    def follow_up_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.unclosed().filter(follow_up_on__lt=today)


class WorkerMixin(models.Model):
    """The worker as typed at the counter. The ID number is optional; like the household file
    it is stored encrypted, with a keyed hash for exact search and a masked copy for lists
    (orgs/pii.py)."""

    worker_name = models.CharField(_("职工姓名"), max_length=50)
    worker_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    worker_id_number = EncryptedCharField(
        _("身份证号码"),
        blank=True,
        validators=[validate_resident_id_number],
        help_text=_("可不填；填写时须为有效号码：18位，或15位旧号码。"),
    )
    worker_id_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    worker_id_masked = models.CharField(_("身份证号码"), max_length=18, blank=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.normalise_worker()
        super().save(*args, **kwargs)

    def normalise_worker(self):
        """Tidy what was typed and refresh the search hash and masked copy of the ID number."""
        self.worker_name = (self.worker_name or "").strip()
        self.worker_phone = "".join((self.worker_phone or "").split())
        self.worker_id_number = normalise_id_number(self.worker_id_number)
        self.worker_id_hash = keyed_hash(self.worker_id_number) if self.worker_id_number else ""
        self.worker_id_masked = mask(self.worker_id_number)


class Case(WorkerMixin):
    """One letter, call or visit at the service centre (来信、来电、来访)."""

    class Channel(models.TextChoices):
        LETTER = "letter", _("来信")
        CALL = "call", _("来电")
        HOTLINE = "hotline_12351", _("12351热线")
        VISIT = "visit", _("来访")
        ONLINE = "online", _("网上")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("case status", "办理中")
        REFERRED = "referred", pgettext_lazy("case status", "已转办")
        CLOSED = "closed", pgettext_lazy("case status", "已办结")

    organisation = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("受理组织"),
        on_delete=models.PROTECT,
        related_name="service_cases",
    )
    channel = models.CharField(
        _("渠道"), max_length=20, choices=Channel.choices, default=Channel.VISIT
    )
    received_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    window = models.ForeignKey(
        Window, verbose_name=_("窗口"), on_delete=models.PROTECT, related_name="cases"
    )
    matter = models.TextField(_("事由"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="handled_service_cases",
    )
    outcome = models.TextField(_("办理结果"), blank=True)
    status = models.CharField(
        pgettext_lazy("case", "状态"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    referred_to = models.CharField(_("转办单位"), max_length=100, blank=True)
    follow_up_on = models.DateField(_("跟进日期"), null=True, blank=True)
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("困难职工档案"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_cases",
        editable=False,
        help_text=_("按身份证号码自动关联本辖区的在档家庭。"),
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    history = HistoricalRecords()

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "服务案件")
        verbose_name_plural = pgettext_lazy("models", "服务案件")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "received_at"], name="svc_case_org_received"),
            models.Index(fields=["worker_phone"], name="svc_case_worker_phone"),
            models.Index(fields=["worker_name"], name="svc_case_worker_name"),
            models.Index(fields=["status", "follow_up_on"], name="svc_case_status_follow_up"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["letter", "call", "hotline_12351", "visit", "online"]),
                name="svc_case_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "referred", "closed"]),
                name="svc_case_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="svc_case_closed_at_iff_closed",
            ),
        ]

    def __str__(self):
        return f"{self.worker_name} · {timezone.localtime(self.received_at):%Y-%m-%d}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def is_follow_up_overdue(self) -> bool:
        return (
            not self.is_closed
            and self.follow_up_on is not None
            and self.follow_up_on < timezone.localdate()
        )

    def clean(self):
        super().clean()
        self.normalise_worker()
        if self.follow_up_on and self.received_at:
            if self.follow_up_on < timezone.localtime(self.received_at).date():
                raise ValidationError({"follow_up_on": FOLLOW_UP_BEFORE_CASE_MESSAGE})


class CaseEventQuerySet(ScopedQuerySet):
    org_lookup = "case__organisation"


class CaseEvent(models.Model):
    """A step of a case (logged, referred, closed, reopened, followed up, linked to a household
    file), written by the service that takes it, in the same transaction (architecture.md rule
    7). A follow-up and a link keep the status: from_status and to_status are the same."""

    class Action(models.TextChoices):
        # What was done, as the case's history and the file's timeline tell it (the buttons
        # of the same words say what to do: English reads Closed there, Close here).
        LOGGED = "logged", _("登记")
        REFERRED = "referred", pgettext_lazy("case event", "转办")
        CLOSED = "closed", pgettext_lazy("case event", "办结")
        REOPENED = "reopened", pgettext_lazy("case event", "重新打开")
        FOLLOWED_UP = "followed_up", pgettext_lazy("case event", "跟进")
        # 为其建档: the file started from the case was saved and linked to it.
        LINKED = "linked", _("关联困难职工档案")

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("原状态"), max_length=10, choices=Case.Status.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=10, choices=Case.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.TextField(_("说明"), blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "案件状态记录")
        verbose_name_plural = pgettext_lazy("models", "案件状态记录")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=["logged", "referred", "closed", "reopened", "followed_up", "linked"]
                ),
                name="svc_case_event_action_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class LegalAidCaseQuerySet(ScopedQuerySet):
    org_lookup = "case__organisation"


class LegalAidCase(models.Model):
    """The legal-aid details of a case; wages recovered feed "recovered X yuan, of which Y for
    migrant workers" (DOMAIN.md "The service centre")."""

    class DisputeType(models.TextChoices):
        WAGE_ARREARS = "wage_arrears", _("拖欠工资")
        LABOUR_CONTRACT = "labour_contract", _("劳动合同")
        INJURY = "injury", _("工伤")
        SOCIAL_INSURANCE = "social_insurance", _("社会保险")
        DISMISSAL = "dismissal", _("解除劳动关系")
        OTHER = "other", _("其他")

    case = models.OneToOneField(
        Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="legal_aid"
    )
    dispute_type = models.CharField(_("纠纷类型"), max_length=20, choices=DisputeType.choices)
    employer = models.CharField(_("用人单位"), max_length=100, blank=True)
    lawyer = models.CharField(_("承办律师"), max_length=50, blank=True)
    fees_waived = models.DecimalField(
        _("减免费用（元）"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"), message=FEES_NEGATIVE_MESSAGE)],
    )
    outcome = models.TextField(_("援助结果"), blank=True)
    wages_recovered = models.DecimalField(
        _("追回拖欠工资（元）"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"), message=WAGES_NEGATIVE_MESSAGE)],
    )
    is_migrant_worker = models.BooleanField(_("农民工"), default=False)
    history = HistoricalRecords()

    objects = LegalAidCaseQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "法律援助案件")
        verbose_name_plural = pgettext_lazy("models", "法律援助案件")
        ordering = ["-case__received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    dispute_type__in=[
                        "wage_arrears",
                        "labour_contract",
                        "injury",
                        "social_insurance",
                        "dismissal",
                        "other",
                    ]
                ),
                name="svc_legal_aid_dispute_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(wages_recovered__gte=0), name="svc_legal_aid_wages_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(fees_waived__gte=0), name="svc_legal_aid_fees_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.get_dispute_type_display()} · {self.case.worker_name}"


class JobReferral(WorkerMixin):
    """A worker referred to an employer for a position (职业介绍)."""

    class Result(models.TextChoices):
        PENDING = "pending", _("待反馈")
        PLACED = "placed", _("已上岗")
        NOT_PLACED = "not_placed", _("未上岗")

    organisation = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("受理组织"),
        on_delete=models.PROTECT,
        related_name="job_referrals",
    )
    case = models.ForeignKey(
        Case,
        verbose_name=_("来源案件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="job_referrals",
    )
    employer = models.CharField(_("用人单位"), max_length=100)
    position = models.CharField(_("岗位"), max_length=100)
    referred_on = models.DateField(_("介绍日期"), default=timezone.localdate)
    result = models.CharField(
        _("结果"), max_length=20, choices=Result.choices, default=Result.PENDING
    )
    note = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "职业介绍")
        verbose_name_plural = pgettext_lazy("models", "职业介绍")
        ordering = ["-referred_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=["pending", "placed", "not_placed"]),
                name="svc_job_referral_result_valid",
            ),
        ]

    def __str__(self):
        return f"{self.worker_name} → {self.employer} {self.position}"

    def clean(self):
        super().clean()
        self.normalise_worker()
        # A referral is recorded once made: a date to come is a typing error.
        if self.referred_on and self.referred_on > timezone.localdate():
            raise ValidationError({"referred_on": REFERRED_LATER_MESSAGE})
        if self.referred_on and self.referred_on.year < FIRST_YEAR:
            raise ValidationError({"referred_on": REFERRED_EARLIER_MESSAGE})
        # Made from a case, the referral follows the worker's visit (as a follow-up does).
        if self.referred_on and self.case_id:
            if self.referred_on < timezone.localtime(self.case.received_at).date():
                raise ValidationError({"referred_on": REFERRED_BEFORE_CASE_MESSAGE})


class TrainingCourse(models.Model):
    """A training course (技能培训) run or organised by the centre."""

    organisation = models.ForeignKey(
        "orgs.Organisation",
        verbose_name=_("举办组织"),
        on_delete=models.PROTECT,
        related_name="training_courses",
    )
    name = models.CharField(_("培训名称"), max_length=100)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    description = models.TextField(pgettext_lazy("course", "说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "培训班")
        verbose_name_plural = pgettext_lazy("models", "培训班")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="svc_course_dates_ordered"
            ),
        ]

    def __str__(self):
        return aside(self.name, self.starts_on)

    def clean(self):
        """A course may be planned ahead, but not dated before the records begin."""
        super().clean()
        errors = {}
        if self.starts_on and self.starts_on.year < FIRST_YEAR:
            errors["starts_on"] = COURSE_STARTS_EARLIER_MESSAGE
        if self.ends_on and self.ends_on.year < FIRST_YEAR:
            errors["ends_on"] = COURSE_ENDS_EARLIER_MESSAGE
        elif self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = COURSE_DATES_MESSAGE
        if errors:
            raise ValidationError(errors)


class TrainingAttendeeQuerySet(ScopedQuerySet):
    org_lookup = "course__organisation"


class TrainingAttendee(WorkerMixin):
    """A worker attending a course, and the certificate obtained, if any."""

    course = models.ForeignKey(
        TrainingCourse,
        verbose_name=_("培训班"),
        on_delete=models.PROTECT,
        related_name="attendees",
    )
    certificate_obtained = models.BooleanField(_("取得证书"), default=False)
    certificate_name = models.CharField(_("证书名称"), max_length=100, blank=True)
    history = HistoricalRecords()

    objects = TrainingAttendeeQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "培训学员")
        verbose_name_plural = pgettext_lazy("models", "培训学员")
        ordering = ["course", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(certificate_obtained=True) | Q(certificate_name=""),
                name="svc_attendee_certificate_name_needs_certificate",
            ),
            # A worker attends a course once: entered twice, they counted as two trainees.
            # (Without an ID number the service compares name and phone.)
            models.UniqueConstraint(
                fields=["course", "worker_id_hash"],
                condition=~Q(worker_id_hash=""),
                name="svc_attendee_once_per_course",
                violation_error_message=ATTENDEE_TWICE_MESSAGE,
            ),
        ]

    def __str__(self):
        return aside(self.worker_name, self.course.name)

    def clean(self):
        super().clean()
        self.normalise_worker()
        # A certificate is obtained on completing the course: one recorded before its last day
        # counted in the yearly figures for a course still running (or never held).
        if self.certificate_obtained and self.course_id:
            ends_on = self.course.ends_on
            if ends_on and ends_on > timezone.localdate():
                raise ValidationError(
                    {
                        "certificate_obtained": CERTIFICATE_BEFORE_END_MESSAGE
                        % {"ends_on": ends_on.isoformat()}
                    }
                )
        if self.certificate_obtained and not self.certificate_name.strip():
            raise ValidationError({"certificate_name": CERTIFICATE_NAME_MESSAGE})
        if not self.certificate_obtained:
            self.certificate_name = ""
