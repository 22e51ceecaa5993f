from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Concat, Lower, Substr
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from orgs.scoping import ScopedQuerySet
from orgs.text import aside

# Defaults for the per-organisation settings; a county inherits its parents' values unless it
# sets its own (DOMAIN.md: "make it configurable per organisation").
SETTING_DEFAULTS = {
    "stock_baseline_date": date(2015, 12, 31),
    "notice_min_working_days": 5,
    "income_rule": "net_annual",
    "category_scheme": "current",
    "survey_interval_months": 6,
    "exit_rate_goal": Decimal("0.30"),
}
# The eligibility multiple no organisation up the tree sets follows the category scheme in force:
# near-dibao (低保边缘户) is up to 150% of the line under the 2015–2020 rules, relative hardship
# below twice the line under the current ones (DOMAIN.md "Eligibility").
MULTIPLE_BY_SCHEME = {"2015": Decimal("1.5"), "current": Decimal("2.0")}


class OrganisationQuerySet(ScopedQuerySet):
    org_lookup = ""  # an organisation is scoped by its own path

    def subtree(self, org: "Organisation"):
        return self.filter(path__startswith=org.path)


class Organisation(models.Model):
    class Level(models.TextChoices):
        REGION = "region", _("省/自治区总工会")
        CITY = "city", _("市总工会")
        COUNTY = "county", _("县（区）总工会")
        BASE = "base", _("基层工会")

    class IncomeRule(models.TextChoices):
        NET_ANNUAL = "net_annual", _("（年可支配收入 − 刚性支出）÷ 12 ÷ 家庭人口")
        MONTHLY = "monthly", _("家庭月收入 ÷ 家庭人口")

    code = models.CharField(
        _("组织代码"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Za-z]+$", _("组织代码只能包含数字和字母。"))],
        help_text=_("按行政区划代码编制，如 450102；基层工会在县代码后加序号，如 450102001。"),
    )
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # Materialised path of codes ("/450000/450100/450102/"): a subtree is one indexed prefix match.
    path = models.CharField(_("路径"), max_length=255, editable=False, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)

    # Per-organisation settings; empty means "inherit from the parent".
    stock_baseline_date = models.DateField(
        _("存量基准日"),
        null=True,
        blank=True,
        help_text=_("此日期前建档的为存量档案。留空则沿用上级设置。"),
    )
    notice_min_working_days = models.PositiveSmallIntegerField(
        _("公示最少工作日"),
        null=True,
        blank=True,
        # The notice lasts at least five working days [003]; a month is the most any asks.
        validators=[MinValueValidator(5), MaxValueValidator(30)],
    )
    eligibility_multiple = models.DecimalField(
        _("相对困难认定倍数"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1.00")), MaxValueValidator(Decimal("5.00"))],
        help_text=_(
            "人均收入在低保标准的该倍数以内且有特殊致困原因的可建档。"
            "本组织及上级均未设置时按困难类别标准：2015—2020年标准1.5倍，现行标准2倍。"
        ),
    )
    income_rule = models.CharField(
        _("人均收入计算口径"), max_length=20, choices=IncomeRule.choices, blank=True
    )
    category_scheme = models.CharField(
        _("困难类别标准"),
        max_length=10,
        choices=[
            ("current", _("现行标准：深度困难、相对困难、意外致困")),
            ("2015", _("2015—2020年标准：低保户、低保边缘户、意外致困户")),
        ],
        blank=True,
    )
    survey_interval_months = models.PositiveSmallIntegerField(
        _("入户调查间隔（月）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
    )
    exit_rate_goal = models.DecimalField(
        _("年度解困脱困目标比例"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(Decimal("1.00"))],
        help_text=_("0 至 1 之间的小数，如 0.30 表示 30%。"),
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "组织")
        verbose_name_plural = pgettext_lazy("models", "组织")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="org_path_prefix", opclasses=["varchar_pattern_ops"])
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=["region", "city", "county", "base"]), name="org_level_valid"
            ),
            # As the reference tables' codes (orgs.reference.unique_code): imports find an
            # organisation by its code whatever the case, and on SQLite a subtree's prefix match
            # (LIKE) ignores case, so "4501a" beside "4501A" would see into each other.
            models.UniqueConstraint(
                Lower("code"),
                name="org_code_unique_ci",
                violation_error_message=_("已有相同的组织代码（组织代码不区分大小写）。"),
            ),
        ]

    def __str__(self):
        return aside(self.name, self.code)

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = f"{self.parent.path if self.parent_id else '/'}{self.code}/"
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Code or parent changed: move the whole subtree in one statement.
            Organisation.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(models.Value(self.path), Substr("path", len(old_path) + 1))
            )

    def clean(self):
        # A parent inside the organisation's own subtree would make the tree a cycle.
        if self.pk and self.parent_id and self.path and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("上级组织不能是本组织或其下级组织。")})

    @cached_property
    def ancestors_and_self(self) -> list["Organisation"]:
        """Root first. One query, from the codes in the path."""
        codes = [code for code in self.path.split("/") if code]
        by_code = {org.code: org for org in Organisation.objects.filter(code__in=codes)}
        return [by_code[code] for code in codes if code in by_code]

    @classmethod
    def with_ancestors(cls, keys) -> dict[int, "Organisation"]:
        """The organisations of these keys, by key, each with its `ancestors_and_self` read:
        two queries for any number of them (their settings and dibao lines without a query
        per organisation)."""
        organisations = cls.objects.in_bulk(keys)
        codes = {code for org in organisations.values() for code in org.path.split("/") if code}
        by_code = {org.code: org for org in cls.objects.filter(code__in=codes)}
        for org in organisations.values():
            path = [code for code in org.path.split("/") if code]
            org.ancestors_and_self = [by_code[code] for code in path if code in by_code]
        return organisations

    def setting(self, name: str):
        """The value of a per-organisation setting, inherited from the nearest ancestor. An
        eligibility multiple set nowhere is the category scheme's (MULTIPLE_BY_SCHEME); one set
        explicitly is the organisation's choice, whatever the scheme."""
        for org in reversed(self.ancestors_and_self):
            value = getattr(org, name)
            if value not in (None, ""):
                return value
        if name == "eligibility_multiple":
            return MULTIPLE_BY_SCHEME[self.setting("category_scheme")]
        return SETTING_DEFAULTS[name]

    def contains(self, other: "Organisation") -> bool:
        return other.path.startswith(self.path)


FIRST_HOLIDAY = date(2000, 1, 1)  # reports start in 2000 (reports.summary.FIRST_YEAR)


def last_holiday() -> date:
    """The State Council publishes next year's calendar in the autumn: two years ahead is
    enough to enter it early, and keeps out dates such as 0001-01-01 or 2220."""
    return date(timezone.localdate().year + 2, 12, 31)


class Holiday(models.Model):
    """A non-working day (public holiday), nationwide or for one organisation's subtree."""

    date = models.DateField(
        _("日期"),
        validators=[
            MinValueValidator(FIRST_HOLIDAY, _("日期不能早于 %(limit_value)s。")),
            MaxValueValidator(last_holiday, _("日期不能晚于 %(limit_value)s。")),
        ],
    )
    name = models.CharField(_("名称"), max_length=50)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("适用组织"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("留空表示全国适用。"),
    )
    is_working_day = models.BooleanField(
        _("调休上班"), default=False, help_text=_("勾选表示该日虽为周末但需上班（调休）。")
    )

    # Notice periods are counted over it: every change (a deletion too), who and when.
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "节假日")
        verbose_name_plural = pgettext_lazy("models", "节假日")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["date", "organisation"], name="holiday_unique_per_org"),
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(organisation=None),
                name="holiday_unique_national",
                violation_error_message=_("该日期已有全国节假日。"),
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.name}"


class UserQuerySet(ScopedQuerySet):
    pass


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("用户只能查看和办理本组织及下级组织的业务。"),
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = pgettext_lazy("model", "用户")
        verbose_name_plural = pgettext_lazy("models", "用户")

    def __str__(self):
        return self.full_name or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class AccessLog(models.Model):
    """Who viewed or exported personal data, what, when and from where (PIPL; the Cybersecurity
    Law asks for logs kept at least six months). Written by `orgs.audit.log_access`."""

    class Action(models.TextChoices):
        VIEW_FILE = "view_file", _("查看档案")
        REVEAL = "reveal", _("查看完整号码")
        EXPORT = "export", _("导出个人信息")
        DOWNLOAD = "download", _("下载材料")
        PRINT = "print", _("打印")
        ID_SEARCH = "id_search", _("按身份证号码查找")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="+", null=True
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("数据所属组织"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    target = models.CharField(_("对象"), max_length=100)
    detail = models.CharField(pgettext_lazy("log entry", "说明"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "个人信息访问日志")
        verbose_name_plural = pgettext_lazy("models", "个人信息访问日志")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()} {self.target}"
