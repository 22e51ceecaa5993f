"""Hardship funds (帮扶资金): money kept per purpose and per source (专款专用) [DOMAIN "Funds"].

Money is a ledger (ARCHITECTURE decision 2): receipts, payments, refunds and loan repayments
each write one append-only `LedgerEntry` with a signed amount; a mistake is corrected by a
reversing entry of the same kind and the opposite sign (`reverses`), never by editing or
deleting. The balance of a source for an organisation is the SUM of its entries; nothing stores
a balance that could drift. `FundAccount` is only the row the services lock
(`select_for_update`) while they re-check a balance.

Only `funds.services` writes these tables."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from households.models import SUPPORTED_STATUSES
from orgs.models import Organisation
from orgs.money import MONEY, ZERO, yuan_text
from orgs.pii import EncryptedCharField
from orgs.reference import translated_name, unique_code
from orgs.scoping import ScopedQuerySet
from orgs.text import aside

POSITIVE = [MinValueValidator(Decimal("0.01"))]


def IMPORT_KEY():  # noqa: N802 - a field factory, used like a field class
    """The row's natural key (hashed, with its occurrence number) when it came from a funds
    workbook: unique, so two imports of the same rows cannot both write them."""
    return models.CharField(
        _("导入标识"), max_length=80, null=True, blank=True, unique=True, editable=False
    )


# --- Reference tables --------------------------------------------------------------------------


class FundSource(models.Model):
    """资金来源, a reference list with stable codes (seeded by migration 0002)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    # Workbooks name it (imports match on the name): two of the same name would be one.
    name = models.CharField(_("名称"), max_length=50, unique=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "资金来源")
        verbose_name_plural = pgettext_lazy("models", "资金来源")
        ordering = ["sort", "code"]
        constraints = [unique_code("fund_source")]

    def __str__(self):
        return translated_name(self.name)


class AssistanceType(models.Model):
    """帮扶项目类型, a reference list with stable codes (seeded by migration 0002)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    # Workbooks name it (imports match on the name): two of the same name would be one.
    name = models.CharField(_("名称"), max_length=50, unique=True)
    is_loan = models.BooleanField(
        _("借款（须归还）"), default=False, help_text=_("小额借款：发放后登记还款。")
    )
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "帮扶项目类型")
        verbose_name_plural = pgettext_lazy("models", "帮扶项目类型")
        ordering = ["sort", "code"]
        constraints = [unique_code("assistance_type")]

    def __str__(self):
        return translated_name(self.name)


class Tier(models.TextChoices):
    """A sub-standard within one assistance type (e.g. cancer within medical aid, the school
    stage within schooling aid). The general standard applies where no tier has its own."""

    GENERAL = "general", _("一般")
    SERIOUS_ILLNESS = "serious_illness", _("重大疾病")
    TERMINAL = "terminal", _("癌症或重病绝症")
    COMPULSORY = "compulsory", _("义务教育")
    SENIOR = "senior", _("高中、中职")
    COLLEGE = "college", _("大学（专科、本科）")
    POSTGRADUATE = "postgraduate", _("研究生")


class SecondApprover(models.TextChoices):
    SAME_LEVEL = "same", _("本级另一名审批人")
    PARENT = "parent", _("上级工会")
    REGION = "region", _("省/自治区总工会")


class OneProjectRule(models.TextChoices):
    WARN = "warn", pgettext_lazy("one project rule", "提示")
    BLOCK = "block", _("禁止")


class StandardScope(models.TextChoices):
    """Whom a standard's number of times counts: the household (whichever member benefits) or
    each member who benefits (助学 per student per year, DOMAIN "Assistance")."""

    HOUSEHOLD = "household", _("每户")
    PERSON = "person", _("每人")


# Categories whose living-aid cap uses the "relative hardship" number of months.
RELATIVE_CATEGORIES = ("relative", "near_dibao")


class StandardQuerySet(ScopedQuerySet):
    def by_tier(self, *, organisation: Organisation, year: int, assistance_type) -> dict:
        """tier -> the standard that applies to a request of that tier: the nearest organisation
        (itself, then its ancestors) with a row for the year, type and tier or the general tier;
        its tier's own row if it has one, else its general row. Tiers with none are left out.
        Two queries (the ancestors, their rows)."""
        ancestors = organisation.ancestors_and_self
        rows = {org.pk: {} for org in ancestors}
        for row in self.filter(
            organisation__in=ancestors, year=year, assistance_type=assistance_type
        ).select_related("organisation", "assistance_type"):
            rows[row.organisation_id][row.tier] = row
        found = {}
        for tier in Tier.values:
            for org in reversed(ancestors):
                mine = rows[org.pk]
                if tier in mine or Tier.GENERAL in mine:
                    found[tier] = mine.get(tier) or mine[Tier.GENERAL]
                    break
        return found

    def for_request(self, *, organisation: Organisation, year: int, assistance_type, tier: str):
        """The standard that applies to a request (see `by_tier`), or None."""
        return self.by_tier(
            organisation=organisation, year=year, assistance_type=assistance_type
        ).get(tier)


class AssistanceStandard(models.Model):
    """帮扶标准 per organisation, year and type (inherited down the tree): caps, frequency,
    the one-project rule and the second-approval threshold [DOMAIN "Assistance"]."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("制定单位"), on_delete=models.PROTECT
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    assistance_type = models.ForeignKey(
        AssistanceType, verbose_name=_("帮扶项目"), on_delete=models.PROTECT
    )
    tier = models.CharField(
        _("细分标准"), max_length=20, choices=Tier.choices, default=Tier.GENERAL
    )
    amount_cap = models.DecimalField(
        _("每次最高金额（元）"),
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text=_("留空表示不按固定金额限制。"),
        **MONEY,
    )
    annual_months_deep = models.DecimalField(
        _("年度上限：深度困难（月低保标准的月数）"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("如生活救助每户每年不超过12个月的低保标准；低保户、意外致困同此。"),
    )
    annual_months_relative = models.DecimalField(
        _("年度上限：相对困难（月数）"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("相对困难、低保边缘户适用，如8个月。"),
    )
    cap_out_of_pocket = models.BooleanField(
        _("不超过个人自付费用"),
        default=False,
        help_text=_("医疗救助：金额不超过申请时填写的个人自付部分。"),
    )
    times_per_year = models.PositiveSmallIntegerField(
        _("每年次数"), null=True, blank=True, help_text=_("留空表示不限次数。")
    )
    scope = models.CharField(
        _("按户或按人"),
        max_length=10,
        choices=StandardScope.choices,
        default=StandardScope.HOUSEHOLD,
        help_text=_(
            "每户：每年次数按全户计算，不论哪名成员受助。每人：每年次数按受助成员分别计算"
            "（如助学每名学生每年1次），申请须选择受助成员，每次最高金额即每人每次的金额。"
            "按月低保标准计算的年度上限始终按户计算（每户每年）。"
        ),
    )
    one_project_rule = models.CharField(
        _("一户一年一个项目"),
        max_length=10,
        choices=OneProjectRule.choices,
        default=OneProjectRule.WARN,
        help_text=_("本年已享受其他帮扶项目时，是提示还是禁止。"),
    )
    second_approval_above = models.DecimalField(
        _("超过此金额须二级审批（元）"),
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text=_("留空表示不需要二级审批。"),
        **MONEY,
    )
    second_approver = models.CharField(
        _("二级审批人"),
        max_length=10,
        choices=SecondApprover.choices,
        default=SecondApprover.SAME_LEVEL,
    )
    note = models.CharField(_("依据"), max_length=200, blank=True)

    history = HistoricalRecords()
    objects = StandardQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "帮扶标准")
        verbose_name_plural = pgettext_lazy("models", "帮扶标准")
        ordering = ["organisation__path", "-year", "assistance_type__sort", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "assistance_type", "tier"],
                name="standard_unique_org_year_type_tier",
            ),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="standard_tier_valid"),
            models.CheckConstraint(
                condition=Q(one_project_rule__in=OneProjectRule.values),
                name="standard_one_project_rule_valid",
            ),
            models.CheckConstraint(
                condition=Q(second_approver__in=SecondApprover.values),
                name="standard_second_approver_valid",
            ),
            models.CheckConstraint(
                condition=Q(scope__in=StandardScope.values), name="standard_scope_valid"
            ),
        ]

    def __str__(self):
        kind = str(self.assistance_type)
        if self.tier != Tier.GENERAL:
            kind = aside(kind, self.get_tier_display())
        return f"{self.organisation.name} {self.year} {kind}"

    @property
    def per_person(self) -> bool:
        return self.scope == StandardScope.PERSON

    def months_for(self, category_code: str | None) -> Decimal | None:
        if category_code in RELATIVE_CATEGORIES:
            return self.annual_months_relative
        return self.annual_months_deep


# --- Accounts, closed years --------------------------------------------------------------------


class FundAccount(models.Model):
    """The lock row of one (organisation, source): it holds no amount. Services that move or
    commit money lock it with select_for_update and re-sum the ledger inside the transaction."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(
        FundSource, verbose_name=_("资金来源"), on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "资金账户")
        verbose_name_plural = pgettext_lazy("models", "资金账户")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source"], name="fund_account_unique_org_source"
            )
        ]

    def __str__(self):
        return f"{self.organisation_id}/{self.source_id}"


class ClosedYear(models.Model):
    """A year closed by an administrator after the annual report: no money entry dated in it,
    for this organisation and every organisation below it."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(
        _("年度"), validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结账人"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    closed_at = models.DateTimeField(_("结账时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "已结账年度")
        verbose_name_plural = pgettext_lazy("models", "已结账年度")
        ordering = ["-year", "organisation__path"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year"], name="closed_year_unique")
        ]

    def __str__(self):
        return f"{self.organisation.name} {self.year}"


# --- Receipts and refunds ----------------------------------------------------------------------


class ReversedByEntries:
    """A receipt or refund is booked as ledger entries (`entries`); reversing writes another."""

    @property
    def is_reversed(self) -> bool:
        """Its entry has been reversed (冲销). Reads `entries.all()`, so lists prefetch them."""
        return any(entry.reverses_id for entry in self.entries.all())


class Receipt(ReversedByEntries, models.Model):
    """拨入: money received for a year from a source, under a document number (文号)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("收款单位"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(FundSource, verbose_name=_("资金来源"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("资金年度"))
    amount = models.DecimalField(_("金额（元）"), validators=POSITIVE, **MONEY)
    received_on = models.DateField(_("到账日期"))
    document_number = models.CharField(
        _("文号"), max_length=60, help_text=_("如：桂财行〔2018〕72号")
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    import_key = IMPORT_KEY()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "资金拨入")
        verbose_name_plural = pgettext_lazy("models", "资金拨入")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_amount_positive"),
            models.CheckConstraint(
                condition=~Q(document_number=""), name="receipt_has_document_number"
            ),
        ]

    def __str__(self):
        return f"{self.received_on} {self.source} {yuan_text(self.amount)} {self.document_number}"


class Refund(ReversedByEntries, models.Model):
    """退回财政: unspent money returned when a recall notice comes."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("退款单位"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(FundSource, verbose_name=_("资金来源"), on_delete=models.PROTECT)
    amount = models.DecimalField(_("金额（元）"), validators=POSITIVE, **MONEY)
    refunded_on = models.DateField(_("退回日期"))
    document_number = models.CharField(
        _("收回通知文号"), max_length=60, help_text=_("如：桂财行〔2018〕72号")
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    import_key = IMPORT_KEY()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "退回财政")
        verbose_name_plural = pgettext_lazy("models", "退回财政")
        ordering = ["-refunded_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=~Q(document_number=""), name="refund_has_document_number"
            ),
        ]

    def __str__(self):
        return f"{self.refunded_on} {self.source} {yuan_text(self.amount)} {self.document_number}"


# --- Assistance requests -----------------------------------------------------------------------


class RequestState(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("assistance request", "待审批")
    APPROVED = "approved", pgettext_lazy("assistance request", "已批准待发放")
    REJECTED = "rejected", pgettext_lazy("assistance request", "未批准")
    PAID = "paid", pgettext_lazy("assistance request", "已发放")
    FAILED = "failed", pgettext_lazy("assistance request", "发放失败")
    CANCELLED = "cancelled", pgettext_lazy("assistance request", "已取消")


# Requests that count towards the standards' caps and frequencies of their year.
ACTIVE_STATES = (
    RequestState.REQUESTED,
    RequestState.APPROVED,
    RequestState.PAID,
    RequestState.FAILED,
)
# Approved but not yet paid: money committed against the balance.
COMMITTED_STATES = (RequestState.APPROVED, RequestState.FAILED)


class RequestQuerySet(ScopedQuerySet):
    def committed(self):
        return self.filter(state__in=COMMITTED_STATES)


class RequestChildQuerySet(ScopedQuerySet):
    """Records that belong to an organisation through their request."""

    org_lookup = "request__organisation"


class AssistanceRequest(models.Model):
    """帮扶申请: requested by a clerk, approved by one or two supervisors, paid by finance to the
    worker's own bank account (先建档、后帮扶、实名制)."""

    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("档案"),
        on_delete=models.PROTECT,
        related_name="assistance_requests",
    )
    # The household's organisation when requested: its funds pay, its users see the request.
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    assistance_type = models.ForeignKey(
        AssistanceType, verbose_name=_("帮扶项目"), on_delete=models.PROTECT
    )
    tier = models.CharField(
        _("细分标准"), max_length=20, choices=Tier.choices, default=Tier.GENERAL
    )
    beneficiary = models.ForeignKey(
        "households.Member",
        verbose_name=_("受助成员"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("助学的学生、医疗救助的患者等；留空表示全户。"),
    )
    beneficiary_name = models.CharField(_("受助成员"), max_length=50, blank=True)
    # The member's ID hash when the request was made: a per-person standard counts the person,
    # also after their member row was removed and entered again (the key goes to NULL then).
    beneficiary_id_hash = models.CharField(max_length=64, blank=True, editable=False)
    source = models.ForeignKey(FundSource, verbose_name=_("资金来源"), on_delete=models.PROTECT)
    amount = models.DecimalField(_("金额（元）"), validators=POSITIVE, **MONEY)
    out_of_pocket = models.DecimalField(
        _("个人自付费用（元）"),
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text=_("医疗救助：医院结算单上的个人自付部分。"),
        **MONEY,
    )
    reason = models.TextField(_("申请理由"))
    requested_on = models.DateField(_("申请日期"))
    year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    state = models.CharField(
        pgettext_lazy("assistance request", "状态"),
        max_length=12,
        choices=RequestState.choices,
        default=RequestState.REQUESTED,
        editable=False,
    )
    approvals_required = models.PositiveSmallIntegerField(_("审批级数"), default=1, editable=False)
    second_approver = models.CharField(
        _("二级审批人"), max_length=10, choices=SecondApprover.choices, blank=True, editable=False
    )
    standard = models.ForeignKey(
        AssistanceStandard,
        verbose_name=_("适用标准"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    violations = models.JSONField(_("超出标准"), default=list, blank=True, editable=False)
    warnings = models.JSONField(_("提示"), default=list, blank=True, editable=False)
    exception_reason = models.TextField(
        _("申请突破标准的理由"),
        blank=True,
        help_text=_("超出帮扶标准时填写，由审批人决定是否突破。"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, editable=False)

    # Payment: name and bank account copied from the file when the payment is made.
    paid_on = models.DateField(_("发放日期"), null=True, blank=True, editable=False)
    bank_reference = models.CharField(_("银行流水号"), max_length=60, blank=True, editable=False)
    paid_worker_name = models.CharField(_("收款人"), max_length=50, blank=True, editable=False)
    paid_bank_name = models.CharField(_("开户银行"), max_length=60, blank=True, editable=False)
    paid_bank_account = EncryptedCharField(_("收款账号"), blank=True, editable=False)
    paid_bank_account_masked = models.CharField(
        _("收款账号"), max_length=40, blank=True, editable=False
    )
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发放登记人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
    )
    # Paid by the bank to a file not on file (nor relieved) on the day its bank file was made:
    # booked as the bank paid, the warning says why, finance reviews these (filtered by it).
    paid_to_closed_file = models.BooleanField(_("代发时档案不在档"), default=False, editable=False)
    # Warnings settled since, as [{"warning": index in warnings, "reversal": entry pk}]: the
    # flag of a payment to a closed file, its payment reversed. Said once, they stay said.
    settled_warnings = models.JSONField(_("已了结的提示"), default=list, blank=True, editable=False)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True, editable=False)
    failed_at = models.DateTimeField(_("失败时间"), null=True, editable=False)
    failed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("失败登记人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
    )
    # Sent again after the failure, once the clerk corrected the file's account (the latest).
    retried_at = models.DateTimeField(_("重新发放时间"), null=True, editable=False)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("重新发放登记人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True, editable=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("取消人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, editable=False)
    # A historical payment brought in by the funds import (funds.importing): requested,
    # approved and paid by the importing user on the payment date, standards not applied.
    is_imported = models.BooleanField(_("导入的历史记录"), default=False, editable=False)
    import_key = IMPORT_KEY()

    history = HistoricalRecords(excluded_fields=["paid_bank_account"])
    objects = RequestQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "帮扶申请")
        verbose_name_plural = pgettext_lazy("models", "帮扶申请")
        ordering = ["-requested_on", "-id"]
        indexes = [
            models.Index(fields=["organisation", "state", "-id"], name="request_org_state"),
            models.Index(fields=["household", "year"], name="request_household_year"),
            models.Index(fields=["organisation", "source", "state"], name="request_committed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=RequestState.values), name="request_state_valid"
            ),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="request_tier_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="request_amount_positive"),
            models.CheckConstraint(
                condition=Q(approvals_required__in=[1, 2]), name="request_approvals_1_or_2"
            ),
            models.CheckConstraint(
                condition=~Q(state="paid") | Q(paid_on__isnull=False),
                name="request_paid_has_date",
            ),
        ]
        permissions = [
            ("approve_assistancerequest", _("审批帮扶申请")),
            ("pay_assistancerequest", _("发放帮扶资金（代发、回盘、登记发放）")),
        ]

    def __str__(self):
        return f"{self.household} {self.assistance_type} {yuan_text(self.amount)}"

    @property
    def is_paid(self) -> bool:
        return self.state == RequestState.PAID

    @property
    def unpaid_file_closed(self) -> bool:
        """Money still reserved for a file exited or deregistered since: no bank file takes
        it, only a payment dated while the file was on file; else it is to be cancelled. One
        sent in a bank file before is the bank's to settle (its return file books it whatever
        the file's status, and it cannot be cancelled until then): not this. Read only for the
        few requests of closed files."""
        if self.state not in COMMITTED_STATES or self.household.status in SUPPORTED_STATUSES:
            return False
        return not self.batch_lines.filter(result=LineResult.PENDING).exists()

    def warnings_settled_by(self, entries_by_pk: dict) -> list[tuple[str, "LedgerEntry | None"]]:
        """Each warning with the reversal that settled it (None: still open), read from the
        request's entries (`entries_by_pk`, as its page loads them)."""
        settled = {s["warning"]: entries_by_pk.get(s["reversal"]) for s in self.settled_warnings}
        return [(text, settled.get(i)) for i, text in enumerate(self.warnings)]

    @property
    def waiting_for(self) -> str:
        """Whose approval the request waits for ("" when it waits for none). Uses
        `approvals.all()`, so lists prefetch them."""
        if self.state != RequestState.REQUESTED:
            return ""
        approved = sum(1 for a in self.approvals.all() if a.decision == Approval.Decision.APPROVE)
        if approved == 0:
            if self.approvals_required == 2:
                return str(_("第一级审批（%(org)s审批人）") % {"org": self.organisation.name})
            return str(_("%(org)s审批人") % {"org": self.organisation.name})
        if self.second_approver == SecondApprover.PARENT:
            parent = self.organisation.parent
            name = parent.name if parent else ""
            return str(_("第二级审批：上级工会（%(org)s）") % {"org": name})
        if self.second_approver == SecondApprover.REGION:
            return str(_("第二级审批：省/自治区总工会"))
        return str(_("第二级审批：本级另一名审批人"))


class Approval(models.Model):
    """One supervisor's decision on a request; two rows when a second approval is required."""

    class Decision(models.TextChoices):
        # As a decision taken (the approvals table, the admin): "Approved", not the button's
        # "Approve".
        APPROVE = "approve", pgettext_lazy("decision taken", "批准")
        REJECT = "reject", pgettext_lazy("decision taken", "不批准")

    request = models.ForeignKey(
        AssistanceRequest,
        verbose_name=_("帮扶申请"),
        on_delete=models.PROTECT,
        related_name="approvals",
    )
    level = models.PositiveSmallIntegerField(_("审批级次"))
    decision = models.CharField(_("审批结果"), max_length=10, choices=Decision.choices)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT
    )
    approver_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("审批单位"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    reason = models.TextField(_("审批意见"), blank=True)
    override = models.BooleanField(_("突破标准"), default=False)
    decided_at = models.DateTimeField(_("审批时间"), auto_now_add=True)

    objects = RequestChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "审批记录")
        verbose_name_plural = pgettext_lazy("models", "审批记录")
        ordering = ["request", "level", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "level"],
                condition=Q(decision="approve"),
                name="approval_one_per_level",
            ),
            models.UniqueConstraint(
                fields=["request", "approver"],
                condition=Q(decision="approve"),
                name="approval_distinct_approvers",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["approve", "reject"]), name="approval_decision_valid"
            ),
        ]

    def __str__(self):
        return f"{self.request_id} L{self.level} {self.get_decision_display()} {self.approver}"


class Repayment(models.Model):
    """还款 of a small loan (小额借款) paid from the warmth fund: money back into its source."""

    request = models.ForeignKey(
        AssistanceRequest,
        verbose_name=_("借款"),
        on_delete=models.PROTECT,
        related_name="repayments",
    )
    amount = models.DecimalField(_("还款金额（元）"), validators=POSITIVE, **MONEY)
    repaid_on = models.DateField(_("还款日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    import_key = IMPORT_KEY()

    objects = RequestChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "借款还款")
        verbose_name_plural = pgettext_lazy("models", "借款还款")
        ordering = ["-repaid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive")
        ]

    def __str__(self):
        return f"{self.request_id} {self.repaid_on} {yuan_text(self.amount)}"


# --- The ledger --------------------------------------------------------------------------------


class EntryKind(models.TextChoices):
    RECEIPT = "receipt", _("拨入")
    PAYMENT = "payment", _("发放")
    REFUND = "refund", _("退回财政")
    REPAYMENT = "repayment", _("借款归还")


# Kinds that bring money in (positive amounts); the others take it out (negative amounts).
INFLOW_KINDS = (EntryKind.RECEIPT, EntryKind.REPAYMENT)
OUTFLOW_KINDS = (EntryKind.PAYMENT, EntryKind.REFUND)


class AppendOnlyError(Exception):
    pass


class LedgerQuerySet(ScopedQuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("ledger entries are append-only: write a reversing entry")

    def delete(self):
        raise AppendOnlyError("ledger entries are append-only: write a reversing entry")


class LedgerEntry(models.Model):
    """One movement of money, append-only. A reversal is an entry of the same kind with the
    opposite sign that names the entry it reverses, so each statement line nets its own
    corrections. Balance of (organisation, source) = SUM(amount)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(
        FundSource, verbose_name=_("资金来源"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类别"), max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(_("金额（元，收正支负）"), **MONEY)
    entry_date = models.DateField(_("日期"))
    year = models.PositiveSmallIntegerField(_("年度"))
    receipt = models.ForeignKey(
        Receipt, verbose_name=_("拨入"), on_delete=models.PROTECT, null=True, related_name="entries"
    )
    refund = models.ForeignKey(
        Refund, verbose_name=_("退回"), on_delete=models.PROTECT, null=True, related_name="entries"
    )
    request = models.ForeignKey(
        AssistanceRequest,
        verbose_name=_("帮扶申请"),
        on_delete=models.PROTECT,
        null=True,
        related_name="entries",
    )
    repayment = models.ForeignKey(
        Repayment,
        verbose_name=_("还款"),
        on_delete=models.PROTECT,
        null=True,
        related_name="entries",
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲销的分录"),
        on_delete=models.PROTECT,
        null=True,
        related_name="reversed_by",
    )
    reason = models.CharField(_("摘要"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记账人"), on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("记账时间"), auto_now_add=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "资金分录")
        verbose_name_plural = pgettext_lazy("models", "资金分录")
        ordering = ["entry_date", "id"]
        indexes = [
            models.Index(fields=["organisation", "source", "entry_date"], name="ledger_balance"),
            models.Index(fields=["kind", "entry_date"], name="ledger_kind_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="ledger_kind_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(reverses__isnull=True, kind__in=INFLOW_KINDS, amount__gt=0)
                    | Q(reverses__isnull=True, kind__in=OUTFLOW_KINDS, amount__lt=0)
                    | Q(reverses__isnull=False, kind__in=INFLOW_KINDS, amount__lt=0)
                    | Q(reverses__isnull=False, kind__in=OUTFLOW_KINDS, amount__gt=0)
                ),
                name="ledger_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="receipt", receipt__isnull=False)
                    | Q(kind="refund", refund__isnull=False)
                    | Q(kind="payment", request__isnull=False)
                    | Q(kind="repayment", repayment__isnull=False, request__isnull=False)
                ),
                name="ledger_reference_matches_kind",
            ),
        ]
        permissions = [
            ("reverse_ledgerentry", _("冲销资金分录")),
            ("view_fund_statement", _("查看资金收支情况表")),
        ]

    def __str__(self):
        return f"{self.entry_date} {self.get_kind_display()} {yuan_text(self.amount)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("ledger entries are append-only: write a reversing entry")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("ledger entries are append-only: write a reversing entry")

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


# --- Bank batch payments -----------------------------------------------------------------------


class PaymentBatch(models.Model):
    """代发批次: approved, unpaid requests of one organisation sent to the bank in one file; the
    bank's return file then marks each line paid or failed, all or nothing."""

    class State(models.TextChoices):
        EXPORTED = "exported", _("已生成，待回盘")
        RECONCILED = "reconciled", _("已回盘")

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("付款单位"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(
        FundSource,
        verbose_name=_("资金来源"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("留空表示所有来源。"),
    )
    number = models.CharField(_("批次号"), max_length=40, unique=True)
    state = models.CharField(
        pgettext_lazy("batch", "状态"), max_length=12, choices=State.choices, default="exported"
    )
    line_count = models.PositiveIntegerField(_("笔数"), default=0)
    total = models.DecimalField(_("合计金额（元）"), default=ZERO, **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("生成人"), on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    reconciled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回盘人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    reconciled_at = models.DateTimeField(_("回盘时间"), null=True)
    return_file_name = models.CharField(_("回盘文件"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "代发批次")
        verbose_name_plural = pgettext_lazy("models", "代发批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["exported", "reconciled"]), name="batch_state_valid"
            )
        ]

    def __str__(self):
        return self.number


class LineResult(models.TextChoices):
    PENDING = "pending", _("待回盘")
    PAID = "paid", _("成功")
    FAILED = "failed", _("失败")


class BatchLineQuerySet(ScopedQuerySet):
    org_lookup = "batch__organisation"


class PaymentBatchLine(models.Model):
    """One payment in a bank file, with the name, ID and account exactly as sent."""

    batch = models.ForeignKey(
        PaymentBatch, verbose_name=_("代发批次"), on_delete=models.PROTECT, related_name="lines"
    )
    request = models.ForeignKey(
        AssistanceRequest,
        verbose_name=_("帮扶申请"),
        on_delete=models.PROTECT,
        related_name="batch_lines",
    )
    reference = models.CharField(_("业务参考号"), max_length=40, unique=True)
    worker_name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedCharField(_("身份证号码"))
    id_masked = models.CharField(_("身份证号码"), max_length=18)
    bank_name = models.CharField(_("开户银行"), max_length=60)
    bank_account = EncryptedCharField(_("银行账号"))
    bank_account_masked = models.CharField(_("银行账号"), max_length=40)
    amount = models.DecimalField(_("金额（元）"), validators=POSITIVE, **MONEY)
    result = models.CharField(
        _("结果"), max_length=10, choices=LineResult.choices, default=LineResult.PENDING
    )
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    bank_reference = models.CharField(_("银行流水号"), max_length=60, blank=True)

    objects = BatchLineQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "代发明细")
        verbose_name_plural = pgettext_lazy("models", "代发明细")
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(result="pending"),
                name="batch_line_one_pending_per_request",
            ),
            models.CheckConstraint(
                condition=Q(result__in=LineResult.values), name="batch_line_result_valid"
            ),
        ]

    def __str__(self):
        return self.reference


# --- Payment verification ----------------------------------------------------------------------


class VerificationSample(models.Model):
    """A quarter's random sample of paid payments, to be confirmed with the household."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(
        _("季度"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    size = models.PositiveSmallIntegerField(_("抽查笔数"))
    population = models.PositiveIntegerField(_("本季度发放笔数"), default=0)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("抽取人"), on_delete=models.PROTECT
    )
    drawn_at = models.DateTimeField(_("抽取时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "发放核查抽样")
        verbose_name_plural = pgettext_lazy("models", "发放核查抽样")
        ordering = ["-year", "-quarter", "organisation__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "quarter"], name="sample_one_per_quarter"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="sample_quarter_valid"
            ),
        ]

    def __str__(self):
        return f"{self.organisation.name} {self.year}Q{self.quarter}"


class VerificationQuerySet(ScopedQuerySet):
    org_lookup = "sample__organisation"

    def discrepancies(self):
        return self.filter(outcome__in=["partial", "none"])


class Verification(models.Model):
    """One sampled payment: did the household receive it, in full, partly or not at all?"""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("待核实")
        FULL = "full", _("全额收到")
        PARTIAL = "partial", _("部分收到")
        NONE = "none", _("未收到")

    class Method(models.TextChoices):
        SURVEY = "survey", _("入户调查")
        PHONE = "phone", _("电话核实")

    sample = models.ForeignKey(
        VerificationSample,
        verbose_name=_("抽样"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    request = models.ForeignKey(
        AssistanceRequest,
        verbose_name=_("帮扶发放"),
        on_delete=models.PROTECT,
        related_name="verifications",
    )
    outcome = models.CharField(
        _("核实结果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    amount_received = models.DecimalField(
        _("实际收到（元）"), null=True, blank=True, validators=[MinValueValidator(ZERO)], **MONEY
    )
    method = models.CharField(_("核实方式"), max_length=10, choices=Method.choices, blank=True)
    checked_on = models.DateField(_("核实日期"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    note = models.TextField(_("核实情况"), blank=True)
    follow_up = models.TextField(_("跟进处理"), blank=True)
    resolved_at = models.DateTimeField(_("处理完毕"), null=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("跟进处理人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )

    objects = VerificationQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "发放核查")
        verbose_name_plural = pgettext_lazy("models", "发放核查")
        ordering = ["sample", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "request"], name="verification_unique"),
            models.CheckConstraint(
                condition=Q(outcome__in=["pending", "full", "partial", "none"]),
                name="verification_outcome_valid",
            ),
        ]

    def __str__(self):
        return f"{self.sample} {self.request_id} {self.get_outcome_display()}"

    @property
    def is_discrepancy(self) -> bool:
        return self.outcome in (self.Outcome.PARTIAL, self.Outcome.NONE)
