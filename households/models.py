"""The household file (建档立卡) and everything that hangs off it.

The current status on `Household` is a cached copy of the latest `Transition`; only
`households.services` changes it, in the same transaction as the transition row."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from orgs.models import Organisation
from orgs.money import MONEY, ZERO
from orgs.pii import EncryptedCharField
from orgs.reference import translated_name, unique_code
from orgs.scoping import ScopedQuerySet

NON_NEGATIVE = [MinValueValidator(ZERO)]


class Cause(models.Model):
    """致困原因, a reference table with stable codes (seeded by migration 0002)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    # Workbooks name it (imports match on the name): two of the same name would be one.
    name = models.CharField(_("名称"), max_length=50, unique=True)
    is_special = models.BooleanField(
        _("特殊致困原因"),
        default=False,
        help_text=_("因病、因残、子女就学、单亲等：人均收入在低保标准倍数以内仍可建档。"),
    )
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "致困原因")
        verbose_name_plural = pgettext_lazy("models", "致困原因")
        ordering = ["sort", "code"]
        constraints = [unique_code("cause")]

    def __str__(self):
        return translated_name(self.name)


class Category(models.Model):
    """困难类别 of the current (2021) and the 2015–2020 schemes."""

    class Scheme(models.TextChoices):
        CURRENT = "current", _("现行标准（2021年起）")
        LEGACY = "2015", _("2015—2020年标准")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    # Workbooks name it (imports match on the name): two of the same name would be one.
    name = models.CharField(_("名称"), max_length=50, unique=True)
    scheme = models.CharField(_("标准"), max_length=10, choices=Scheme.choices)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "困难类别")
        verbose_name_plural = pgettext_lazy("models", "困难类别")
        ordering = ["sort", "code"]
        constraints = [unique_code("category")]

    def __str__(self):
        return translated_name(self.name)


class DibaoStandardQuerySet(ScopedQuerySet):
    def line_for(self, organisation: Organisation, year: int) -> Decimal | None:
        """The monthly dibao line in force in an organisation's area in a year (in_force)."""
        return self.lines_for([organisation], year)[organisation.pk]

    def lines_for(self, organisations, year: int) -> dict[int, Decimal | None]:
        """line_for of several organisations, by key, in one query."""
        found = self.in_force(organisations, year)
        return {key: row.monthly_amount if row else None for key, row in found.items()}

    def in_force(self, organisations, year: int) -> dict[int, "DibaoStandard | None"]:
        """The line in force in each organisation's area in a year, by key, in one query: the
        latest its own area set up to that year, else the nearest ancestor's. A line stays in
        force until the next is published (not always every year; in January the year's is
        often not out yet): an area's own line of last year is its line, where an ancestor's
        of this year is another area's."""
        ancestors = {org.pk for each in organisations for org in each.ancestors_and_self}
        latest = {}
        for row in self.filter(organisation__in=ancestors, year__lte=year).order_by("year"):
            latest[row.organisation_id] = row  # later years overwrite earlier ones
        return {
            each.pk: next(
                (latest[org.pk] for org in reversed(each.ancestors_and_self) if org.pk in latest),
                None,
            )
            for each in organisations
        }


FIRST_DIBAO_YEAR = 2000  # reports start in 2000 (reports.summary.FIRST_YEAR)


def last_dibao_year() -> int:
    """Next year's line is often published before the year begins; one more year is room for
    entering it early, not for typos such as 20255."""
    return timezone.localdate().year + 2


class DibaoStandard(models.Model):
    """最低生活保障标准: the monthly minimum-living line per area and year."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("地区（组织）"), on_delete=models.PROTECT
    )
    year = models.PositiveSmallIntegerField(
        _("年度"),
        validators=[
            MinValueValidator(FIRST_DIBAO_YEAR, _("年度不能早于 %(limit_value)s 年。")),
            MaxValueValidator(last_dibao_year, _("年度不能晚于 %(limit_value)s 年。")),
        ],
    )
    monthly_amount = models.DecimalField(
        _("月低保标准（元/人）"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    note = models.CharField(_("依据"), max_length=200, blank=True)

    # Eligibility and the exit runs are computed against it: every change, who and when.
    history = HistoricalRecords()
    objects = DibaoStandardQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "低保标准")
        verbose_name_plural = pgettext_lazy("models", "低保标准")
        ordering = ["organisation__path", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year"], name="dibao_unique_org_year")
        ]

    def __str__(self):
        return f"{self.organisation.name} {self.year}: {self.monthly_amount}"


class Status(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("file status", "草稿")
    APPLIED = "applied", pgettext_lazy("file status", "已申请")
    REVIEWED = "reviewed", pgettext_lazy("file status", "已审核")
    NOTICE = "notice", pgettext_lazy("file status", "公示中")
    ON_FILE = "on_file", pgettext_lazy("file status", "在档")
    RELIEVED = "relieved", pgettext_lazy("file status", "解困")
    EXITED = "exited", pgettext_lazy("file status", "脱困")
    DEREGISTERED = "deregistered", pgettext_lazy("file status", "注销")
    REJECTED = "rejected", pgettext_lazy("file status", "未通过")
    # A draft its clerk withdrew (entered by mistake, twice, or given up): never applied for.
    WITHDRAWN = "withdrawn", pgettext_lazy("file status", "已撤回")


# A file in one of these states holds its people's ID numbers: nobody else may file them.
OPEN_STATUSES = (
    Status.DRAFT,
    Status.APPLIED,
    Status.REVIEWED,
    Status.NOTICE,
    Status.ON_FILE,
    Status.RELIEVED,
)
UNDER_REVIEW_STATUSES = (Status.APPLIED, Status.REVIEWED, Status.NOTICE)
SUPPORTED_STATUSES = (Status.ON_FILE, Status.RELIEVED)  # 在档: followed, visited, assisted
# Not yet on file: the filing conditions still decide whether it will be.
APPLICATION_STATUSES = (Status.DRAFT, *UNDER_REVIEW_STATUSES)
# A file whose facts were verified (reviewed after the home survey, posted, approved) changes
# with a reason: the survey and the posted notice no longer say what the file says.
VERIFIED_STATUSES = (Status.REVIEWED, Status.NOTICE, *SUPPORTED_STATUSES)
CLOSED_STATUSES = (Status.EXITED, Status.DEREGISTERED, Status.REJECTED, Status.WITHDRAWN)


class DeregistrationReason(models.TextChoices):
    DEATH = "death", _("死亡")
    MOVED = "moved", _("迁出")
    NOT_ELIGIBLE = "not_eligible", _("精准识别不符合条件")
    FALSE_INFORMATION = "false_information", _("提供虚假信息")
    OTHER = "other", _("其他")


class Origin(models.TextChoices):
    NEW = "new", _("增量")
    STOCK = "stock", _("存量")
    RELAPSED = "relapsed", _("返困")


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class HouseholdQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def supported(self):
        return self.filter(status__in=SUPPORTED_STATUSES)


class HouseholdChildQuerySet(ScopedQuerySet):
    """Records that belong to an organisation through their household."""

    org_lookup = "household__organisation"


class Household(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("建档单位"),
        on_delete=models.PROTECT,
        related_name="households",
        db_index=False,  # household_org_status leads with it
    )
    base_union = models.ForeignKey(
        Organisation,
        verbose_name=_("所在基层工会"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="base_households",
    )
    file_number = models.CharField(_("档案编号"), max_length=30, unique=True)

    worker_name = models.CharField(_("职工姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=6, choices=Sex.choices)
    id_number = EncryptedCharField(_("身份证号码"))
    # Collation "C" on PostgreSQL (migration 0008), as on the members and claims.
    id_hash = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    is_migrant_worker = models.BooleanField(_("农民工"), default=False)
    # A migrant worker is filed as a union member whose labour relation had lasted a year on
    # the application date (eligibility.migrant_worker_errors). Empty on files entered or
    # imported before they were asked for: the import's columns do not carry them.
    is_union_member = models.BooleanField(_("是否工会会员"), null=True, blank=True)
    labour_relation_since = models.DateField(_("劳动关系起始日期"), null=True, blank=True)
    is_model_worker = models.BooleanField(_("劳模"), default=False)
    address = models.CharField(_("家庭住址"), max_length=200, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=60, blank=True)
    bank_account = EncryptedCharField(_("银行账号"), blank=True)
    bank_account_masked = models.CharField(_("银行账号"), max_length=40, blank=True, editable=False)

    # Income beyond the members' own: pensions, transfers, rent. Per-capita income is derived.
    other_monthly_income = models.DecimalField(
        _("其他月收入（元）"), default=ZERO, validators=NON_NEGATIVE, **MONEY
    )
    rigid_spending_annual = models.DecimalField(
        _("年刚性支出（元）"),
        default=ZERO,
        validators=NON_NEGATIVE,
        help_text=_("自付医疗费用、子女学费等不可避免的支出。"),
        **MONEY,
    )
    accident_spending_annual = models.DecimalField(
        _("意外事件年支出（元）"),
        default=ZERO,
        validators=NON_NEGATIVE,
        help_text=_("突发意外或灾害造成的、扣除赔偿和保险后的年支出。"),
        **MONEY,
    )
    # Cached by services.recompute_income(); never typed.
    household_size = models.PositiveSmallIntegerField(_("家庭人口"), default=0, editable=False)
    monthly_income = models.DecimalField(
        _("家庭月收入（元）"), default=ZERO, editable=False, **MONEY
    )
    per_capita_income = models.DecimalField(
        _("月人均收入（元）"), default=ZERO, editable=False, **MONEY
    )

    primary_cause = models.ForeignKey(
        Cause, verbose_name=_("主要致困原因"), on_delete=models.PROTECT, related_name="+"
    )
    secondary_causes = models.ManyToManyField(
        Cause, verbose_name=_("次要致困原因"), blank=True, related_name="+"
    )
    # The codes of the secondary causes ("low_income,unemployment"), kept by the services: the
    # field history (django-simple-history) does not follow many-to-many fields, and a change of
    # causes must show in the file's history like any other edit.
    secondary_cause_codes = models.CharField(
        _("次要致困原因"), max_length=200, blank=True, default="", editable=False
    )
    category = models.ForeignKey(
        Category, verbose_name=_("困难类别"), on_delete=models.PROTECT, null=True, blank=True
    )

    # Exclusions of the filing standard [002].
    owns_multiple_homes = models.BooleanField(_("拥有两套及以上住房"), default=False)
    owns_business = models.BooleanField(_("拥有经营性门店或雇用他人"), default=False)
    children_private_school = models.BooleanField(
        _("子女就读高收费私立学校或自费出国留学"), default=False
    )
    uses_vehicles = models.BooleanField(_("经常非工作需要使用机动车辆或大型机械"), default=False)

    responsible_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("第一帮扶责任人（县总工会）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    responsible_chair = models.CharField(
        _("第二帮扶责任人（基层工会主席）"), max_length=50, blank=True
    )
    responsible_chair_phone = models.CharField(_("第二责任人电话"), max_length=20, blank=True)

    status = models.CharField(
        pgettext_lazy("file", "状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        editable=False,
    )
    status_changed_on = models.DateField(_("状态变更日期"), null=True, editable=False)
    current_period = models.ForeignKey(
        "FilingPeriod",
        verbose_name=_("当前建档期"),
        on_delete=models.PROTECT,
        null=True,
        editable=False,
        related_name="+",
    )
    last_survey_on = models.DateField(_("最近入户调查"), null=True, editable=False)
    next_survey_due = models.DateField(_("下次入户调查"), null=True, editable=False)
    # The exit rule (脱困) as a date: the first survey of the unbroken run above the dibao line
    # that ends at the latest survey of the current filing period; empty when that survey is
    # below the line or there is none. The exit list compares it with a date six months ago
    # (selectors.exit_candidates); services.recompute_exit_run keeps it.
    above_line_since = models.DateField(_("连续高于低保标准起始日"), null=True, editable=False)

    # Users are deactivated, never deleted (orgs.admin), and PROTECT still guards the ORM: no
    # database key or index, whose check on every new file a large import would pay for.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)

    # The history is read by record (id) and date; indexes on its other columns, and a foreign
    # key check of the user on every row, would only slow each write, a large import's above
    # all (a user is deactivated, never deleted).
    history = HistoricalRecords(
        # above_line_since is derived from the surveys, which are records of their own.
        excluded_fields=["updated_at", "above_line_since"],
        user_db_constraint=False,
        no_db_index=[
            "file_number",
            "id_hash",
            "organisation",
            "base_union",
            "primary_cause",
            "category",
            "responsible_staff",
            "current_period",
            "created_by",
        ],
    )
    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "困难职工档案")
        verbose_name_plural = pgettext_lazy("models", "困难职工档案")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="household_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(other_monthly_income__gte=0)
                & Q(rigid_spending_annual__gte=0)
                & Q(accident_spending_annual__gte=0),
                name="household_money_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "-id"], name="household_org_status"),
            models.Index(fields=["status", "next_survey_due"], name="household_survey_due"),
            # The exit list (selectors.exit_candidates): its counts are index-only scans (the
            # organisation is the scope's join). Partial: only the supported files with a run
            # are in it, so a new file (an import writes thousands) never touches it.
            models.Index(
                fields=["organisation", "above_line_since"],
                condition=Q(status__in=SUPPORTED_STATUSES, above_line_since__isnull=False),
                name="household_exit_run",
            ),
            # Prefix searches (LIKE 'x%') on PostgreSQL need the pattern operator class.
            models.Index(
                fields=["worker_name"], name="household_name", opclasses=["varchar_pattern_ops"]
            ),
            # (file_number's prefix index is the one PostgreSQL builds for its unique key.)
            # Exact lookups only: db_index=True would add a useless pattern index too.
            models.Index(fields=["id_hash"], name="household_id_hash"),
            # Sortable list columns, ties broken by id in the same direction: with LIMIT,
            # PostgreSQL walks one of these forwards or backwards instead of sorting a million
            # rows (households/filters.py keeps the tie-break in step).
            models.Index(fields=["per_capita_income", "id"], name="household_sort_income"),
            models.Index(fields=["status_changed_on", "id"], name="household_sort_status_date"),
            # The queues worked through longest-waiting first (to review, notice ending, to
            # approve: selectors, filters.STANDING_SORTS). Their statuses are rare among a
            # county's files, so the index above walks past thousands of others to fill a page;
            # this one starts at the status, and holds only theirs: files on file or closed
            # (an import writes thousands) never touch it.
            models.Index(
                fields=["status", "status_changed_on", "id"],
                condition=Q(status__in=[Status.APPLIED, Status.NOTICE]),
                name="household_queue",
            ),
            models.Index(fields=["next_survey_due", "id"], name="household_sort_survey_due"),
            models.Index(fields=["worker_name", "id"], name="household_sort_name"),
        ]
        permissions = [
            ("approve_household", _("审批档案（建档、退出、注销）")),
            ("view_full_identifiers", _("查看完整身份证号和银行账号")),
        ]

    def __str__(self):
        return f"{self.file_number} {self.worker_name}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(update_fields) & FACT_COLUMNS:
            date_facts(self)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_supported(self) -> bool:
        return self.status in SUPPORTED_STATUSES


class Member(models.Model):
    class Relation(models.TextChoices):
        SELF = "self", _("本人")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        SIBLING = "sibling", _("兄弟姐妹")
        GRANDCHILD = "grandchild", _("孙子女")
        GRANDPARENT = "grandparent", _("祖父母")
        OTHER = "other", _("其他")

    class Health(models.TextChoices):
        HEALTHY = "healthy", _("健康")
        CHRONIC = "chronic", _("慢性病")
        SERIOUS = "serious", _("大病")
        TERMINAL = "terminal", _("重病/绝症")

    class Disability(models.TextChoices):
        NONE = "none", _("无")
        GRADE_1 = "1", _("一级")
        GRADE_2 = "2", _("二级")
        GRADE_3 = "3", _("三级")
        GRADE_4 = "4", _("四级")

    class Employment(models.TextChoices):
        EMPLOYED = "employed", _("在岗")
        FLEXIBLE = "flexible", _("灵活就业")
        UNEMPLOYED = "unemployed", _("失业/下岗")
        RETIRED = "retired", _("退休")
        STUDENT = "student", _("在校学生")
        FARMING = "farming", _("务农")
        UNABLE = "unable", _("无劳动能力")
        PRESCHOOL = "preschool", _("学龄前")

    class School(models.TextChoices):
        NONE = "none", _("不在学")
        PRESCHOOL = "preschool", _("学前")
        PRIMARY = "primary", _("小学")
        JUNIOR = "junior", _("初中")
        SENIOR = "senior", _("高中")
        VOCATIONAL = "vocational", _("中职")
        COLLEGE = "college", _("大学（专科、本科）")
        POSTGRADUATE = "postgraduate", _("研究生")

    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="members"
    )
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices)
    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedCharField(_("身份证号码"), blank=True)
    id_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_masked = models.CharField(_("身份证号码"), max_length=18, blank=True, editable=False)
    health = models.CharField(
        _("健康状况"), max_length=10, choices=Health.choices, default=Health.HEALTHY
    )
    disability = models.CharField(
        _("残疾等级"), max_length=4, choices=Disability.choices, default=Disability.NONE
    )
    employment = models.CharField(
        _("就业状况"), max_length=12, choices=Employment.choices, default=Employment.EMPLOYED
    )
    school_stage = models.CharField(
        _("就学阶段"), max_length=12, choices=School.choices, default=School.NONE
    )
    monthly_income = models.DecimalField(
        _("月收入（元）"), default=ZERO, validators=NON_NEGATIVE, **MONEY
    )

    history = HistoricalRecords(no_db_index=["id_hash"], user_db_constraint=False)  # as Household

    objects = HouseholdChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "家庭成员")
        verbose_name_plural = pgettext_lazy("models", "家庭成员")
        ordering = ["household", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_income__gte=0), name="member_income_non_negative"
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation="self"),
                name="member_one_self_per_household",
            ),
        ]
        indexes = [models.Index(fields=["id_hash"], name="member_id_hash")]

    def __str__(self):
        return self.name


class IdentityClaim(models.Model):
    """One row per person (worker or member) of an open file. The unique key on `id_hash` is
    the database's guarantee that no two open files anywhere share an ID number (精准识别),
    on SQLite and PostgreSQL alike, also under concurrent filings. Rows come and go with the
    file's open state; the people themselves are never deleted."""

    id_hash = models.CharField(max_length=64)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="claims")

    class Meta:
        verbose_name = pgettext_lazy("model", "身份证号占用")
        verbose_name_plural = pgettext_lazy("models", "身份证号占用")
        # A constraint rather than unique=True, which would add a pattern index on PostgreSQL.
        constraints = [models.UniqueConstraint(fields=["id_hash"], name="identity_claim_unique")]

    def __str__(self):
        return f"{self.household_id}: {self.id_hash[:8]}…"


class PublicNotice(models.Model):
    """公示: a batch of households posted on the organisation's notice board."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("公示单位"), on_delete=models.PROTECT
    )
    title = models.CharField(_("标题"), max_length=100)
    starts_on = models.DateField(_("公示开始"))
    ends_on = models.DateField(_("公示结束"))
    # The working days it runs (services.notice_length): the longest minimum of the organisations
    # concerned when posted, raised by a minimum raised while it runs, never lowered.
    working_days = models.PositiveSmallIntegerField(_("公示工作日数"), default=5)
    objection_contact = models.CharField(
        _("异议受理"),
        max_length=200,
        help_text=_("对公示有异议的，向何处、以何种方式反映（地点、电话）。"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "公示")
        verbose_name_plural = pgettext_lazy("models", "公示")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="notice_ends_after_start"
            )
        ]
        # The notices ending soon (selectors.notices_ending) and those still running
        # (services.notices_follow_calendar): a few among years of notices.
        indexes = [models.Index(fields=["ends_on"], name="notice_ends")]

    def __str__(self):
        return self.title

    def has_started(self, today: date | None = None) -> bool:
        """Whether the notice is posted yet (one may be scheduled ahead): an objection is
        raised while it runs, on a day that has come (services.objection_record)."""
        return (today or timezone.localdate()) >= self.starts_on

    def has_run(self, today: date | None = None) -> bool:
        """Whether the notice's period is over, so that its files may be approved. Its end is
        the authority: worked out when it was posted, by the minimum working days and calendars
        of the organisation posting it and of its files' organisations (services.notice_length),
        and moved later by holidays entered and minimums raised while it ran
        (services.notices_follow_calendar). A minimum raised or a holiday entered after it
        ended changes no notice that has run: nothing could lengthen it any more."""
        return (today or timezone.localdate()) > self.ends_on


class FilingPeriod(models.Model):
    """One filing of a household, from application to closure. Reopening starts a new one."""

    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="periods"
    )
    number = models.PositiveSmallIntegerField(_("第几次建档"), default=1)
    origin = models.CharField(_("来源"), max_length=10, choices=Origin.choices, default=Origin.NEW)
    applied_on = models.DateField(_("申请日期"))
    filed_on = models.DateField(_("建档日期"), null=True, blank=True)
    closed_on = models.DateField(_("关闭日期"), null=True, blank=True)
    notice = models.ForeignKey(
        PublicNotice,
        verbose_name=_("公示"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="periods",
    )

    objects = HouseholdChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "建档期")
        verbose_name_plural = pgettext_lazy("models", "建档期")
        ordering = ["household", "number"]
        constraints = [
            models.UniqueConstraint(fields=["household", "number"], name="period_unique_number"),
            models.CheckConstraint(
                condition=Q(origin__in=Origin.values), name="period_origin_valid"
            ),
        ]

    def __str__(self):
        return f"{self.household.file_number} #{self.number}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        facts = {name: getattr(self, name) for name in PERIOD_FACTS}
        # Keep the copies on the history rows in step (see Transition); writes only on change.
        Transition.objects.filter(period=self).exclude(**facts).update(**facts)


HOUSEHOLD_FACTS = ["organisation_id", "primary_cause_id", "category_id", "is_migrant_worker"]
# The same as the names `save(update_fields=…)` may give.
FACT_COLUMNS = {*HOUSEHOLD_FACTS, "organisation", "primary_cause", "category"}
# A transition that changes no status: the file's facts changed (see date_facts).
AMEND = "amend"
PERIOD_FACTS = ["filed_on", "origin"]
COPY = dict(
    on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, editable=False
)
FACT_FIELDS = ["organisation", "primary_cause", "category", "is_migrant_worker", *PERIOD_FACTS]


class TransitionQuerySet(HouseholdChildQuerySet):
    def in_force_on(self, day):
        """The transition that gave each file its status on `day` (one row per file)."""
        return self.filter(effective_date__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=day)
        )

    def copy_facts(self) -> int:
        """Refresh the copied household and period attributes (see Transition) of these rows."""
        household = Household.objects.filter(pk=OuterRef("household_id"))
        period = FilingPeriod.objects.filter(pk=OuterRef("period_id"))
        return self.update(
            **{name: Subquery(household.values(name)[:1]) for name in HOUSEHOLD_FACTS},
            **{name: Subquery(period.values(name)[:1]) for name in PERIOD_FACTS},
        )


def date_facts(household) -> None:
    """The facts the reports group by (HOUSEHOLD_FACTS) hold from the day they change: the
    transition in force keeps what it said until today, and a transition AMEND (same status,
    effective today, by the user django-simple-history records) says the new facts from today
    on. A report of a past period is so the same whenever it is made, as the cut-off promises
    ("events after it do not exist for the report"): a file moved to another county or given
    another category today is counted there from today. A span that began today is corrected
    in place."""
    facts = {name: getattr(household, name) for name in HOUSEHOLD_FACTS}
    current = (
        Transition.objects.filter(household=household, valid_until__isnull=True)
        .exclude(**facts)
        .first()
    )
    if current is None:
        return
    today = timezone.localdate()
    if current.effective_date >= today:
        Transition.objects.filter(pk=current.pk).update(**facts)
        return
    Transition.objects.filter(pk=current.pk).update(valid_until=today)
    Transition.objects.create(
        household=household,
        period_id=current.period_id,
        action=AMEND,
        from_status=current.to_status,
        to_status=current.to_status,
        effective_date=today,
        reason=str(_("档案信息变更")),
        actor=_acting_user(household),
        filed_on=current.filed_on,
        origin=current.origin,
        **facts,
    )


def _acting_user(household):
    """Who changes the file: as django-simple-history finds them (the service's user, else the
    request's)."""
    user = getattr(household, "_history_user", None)
    if user is None:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def facts_of(household, period) -> dict:
    """The copied attributes of a new transition of `household` in `period`."""
    return {
        **{name: getattr(household, name) for name in HOUSEHOLD_FACTS},
        **{name: getattr(period, name) for name in PERIOD_FACTS},
    }


class Transition(models.Model):
    """Every state change of a file: who, when, why. Reports count these rows."""

    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="transitions"
    )
    period = models.ForeignKey(
        FilingPeriod, verbose_name=_("建档期"), on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices)
    effective_date = models.DateField(_("生效日期"))
    # The effective date of the next transition of the same file (None while this is the
    # latest): the file was in `to_status` from effective_date until the day before valid_until,
    # so "status on a date" is one range filter over this table.
    valid_until = models.DateField(_("有效至"), null=True, blank=True, editable=False)
    reason = models.TextField(_("理由"), blank=True)
    deregistration_reason = models.CharField(
        _("注销原因"), max_length=20, choices=DeregistrationReason.choices, blank=True
    )
    against_verdict = models.BooleanField(_("与认定结果不一致"), default=False)
    is_imported = models.BooleanField(_("导入的历史记录"), default=False)
    actor = models.ForeignKey(  # no database key or index: as Household.created_by
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    # Copies of what the yearly summary groups by (the file's organisation, cause, category and
    # migrant flag; its period's filing date and origin), so that the summary of a province
    # reads this table's covering index alone instead of joining a million households.
    # record_transition copies them from the file; when the file's change them, Household.save
    # dates the change (date_facts: the span in force ends today, an AMEND row starts), so a
    # past period reads the facts it had; FilingPeriod.save keeps the period's in step.
    # Copies carry no foreign key or index of their own: the household's keys protect the
    # same rows, and each key would cost every written transition a check at commit.
    organisation = models.ForeignKey(Organisation, related_name="+", **COPY)
    primary_cause = models.ForeignKey(Cause, related_name="+", **COPY)
    category = models.ForeignKey(Category, related_name="+", **COPY)
    is_migrant_worker = models.BooleanField(default=False, editable=False)
    filed_on = models.DateField(null=True, editable=False)
    origin = models.CharField(max_length=10, blank=True, editable=False)

    objects = TransitionQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "状态变更")
        verbose_name_plural = pgettext_lazy("models", "状态变更")
        ordering = ["household", "effective_date", "id"]
        indexes = [
            models.Index(
                fields=["to_status", "effective_date"],
                # from_status: the summary's movements leave out AMEND rows (no status change);
                # household: the yearly target counts households, not movements
                # (reports.selectors._repeated_reliefs groups the reliefs and exits by it)
                include=[
                    "organisation",
                    "deregistration_reason",
                    "from_status",
                    *PERIOD_FACTS,
                    "household",
                ],
                name="transition_to_date",
            ),
            models.Index(
                fields=["to_status", "valid_until", "effective_date"], name="transition_state_at"
            ),
            # The summary's scans (reports/selectors.py) answered from these two indexes alone
            # on PostgreSQL (INCLUDE is ignored elsewhere): movements of a period, and the
            # transitions in force at some time between two dates.
            models.Index(
                fields=["valid_until", "effective_date"],
                include=FACT_FIELDS + ["to_status"],
                name="transition_span",
            ),
        ]

    def __str__(self):
        return f"{self.household_id}: {self.from_status} → {self.to_status}"


class ClosureRequest(models.Model):
    """A proposed relief (解困), exit (脱困) or deregistration (注销), approved by a supervisor."""

    class Kind(models.TextChoices):
        RELIEVED = "relieved", _("解困")
        EXITED = "exited", _("脱困")
        DEREGISTERED = "deregistered", _("注销")

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="closures"
    )
    kind = models.CharField(_("类型"), max_length=15, choices=Kind.choices)
    effective_date = models.DateField(_("生效日期"))
    deregistration_reason = models.CharField(
        _("注销原因"), max_length=20, choices=DeregistrationReason.choices, blank=True
    )
    reason = models.TextField(_("情况说明"))
    state = models.CharField(
        pgettext_lazy("request", "状态"),
        max_length=10,
        choices=State.choices,
        default=State.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    objects = HouseholdChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "退出申请")
        verbose_name_plural = pgettext_lazy("models", "退出申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(state="pending"),
                name="closure_one_pending_per_household",
            ),
            models.CheckConstraint(
                condition=~Q(kind="deregistered") | ~Q(deregistration_reason=""),
                name="closure_deregistration_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.household_id}: {self.get_kind_display()} ({self.get_state_display()})"

    @property
    def closes_file(self) -> bool:
        """An exit or a deregistration closes the file (a relief keeps it on file)."""
        return self.kind in (self.Kind.EXITED, self.Kind.DEREGISTERED)


class Objection(models.Model):
    """异议 raised during a public notice; approval waits until every one is resolved."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("待处理")
        UPHELD = "upheld", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="objections"
    )
    period = models.ForeignKey(FilingPeriod, on_delete=models.CASCADE, related_name="objections")
    raised_by = models.CharField(_("异议人"), max_length=50)
    raised_on = models.DateField(_("提出日期"))
    content = models.TextField(_("异议内容"))
    finding = models.TextField(_("核查情况"), blank=True)
    outcome = models.CharField(
        _("处理结果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    objects = HouseholdChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "公示异议")
        verbose_name_plural = pgettext_lazy("models", "公示异议")
        ordering = ["raised_on", "id"]

    def __str__(self):
        return f"{self.raised_by} {self.raised_on}"


class Survey(models.Model):
    """入户调查: findings and verified incomes; the income check feeds the exit rule."""

    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="surveys"
    )
    period = models.ForeignKey(FilingPeriod, on_delete=models.CASCADE, related_name="surveys")
    surveyed_on = models.DateField(_("调查日期"))
    surveyors = models.CharField(_("调查人"), max_length=100)
    findings = models.TextField(_("调查情况"))
    per_capita_income = models.DecimalField(_("核实月人均收入（元）"), **MONEY)
    dibao_line = models.DecimalField(_("当年低保标准（元）"), null=True, **MONEY)
    is_above_line = models.BooleanField(_("高于低保标准"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = HouseholdChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "入户调查")
        verbose_name_plural = pgettext_lazy("models", "入户调查")
        ordering = ["household", "-surveyed_on", "-id"]
        indexes = [models.Index(fields=["household", "-surveyed_on"], name="survey_latest")]

    def __str__(self):
        return f"{self.household_id} {self.surveyed_on}"


class SurveyIncome(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="incomes")
    member = models.ForeignKey(Member, verbose_name=_("成员"), on_delete=models.CASCADE)
    monthly_income = models.DecimalField(_("核实月收入（元）"), validators=NON_NEGATIVE, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "member"], name="survey_income_unique"),
            models.CheckConstraint(
                condition=Q(monthly_income__gte=0), name="survey_income_non_negative"
            ),
        ]

    def __str__(self):
        return f"{self.member_id}: {self.monthly_income}"


def document_path(instance, filename):
    # No user-supplied name on disk: the original name is kept in a column.
    return f"households/{instance.household_id}/{instance.kind}-{instance.sha256[:16]}"


class Document(models.Model):
    class Kind(models.TextChoices):
        ID_COPY = "id_copy", _("身份证复印件")
        HUKOU = "hukou", _("户口簿复印件")
        INCOME_PROOF = "income_proof", _("收入证明")
        BANK_CARD = "bank_card", _("银行卡复印件")
        DIAGNOSIS = "diagnosis", _("二级以上公立医院诊断证明")
        APPLICATION = "application", _("申请书")
        OTHER = "other", _("其他")

    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("材料类型"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=document_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=50)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    issued_on = models.DateField(
        _("开具日期"), null=True, blank=True, help_text=_("诊断证明须为一年以内。")
    )
    is_active = models.BooleanField(_("有效"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    # 作废: who, when and why, shown in the file's trail (the document itself is kept).
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作废人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    withdrawn_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    withdraw_reason = models.CharField(_("作废原因"), max_length=200, blank=True)

    history = HistoricalRecords()

    objects = HouseholdChildQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "证明材料")
        verbose_name_plural = pgettext_lazy("models", "证明材料")
        ordering = ["household", "kind", "-uploaded_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"


# --- The yearly spot-check of files (年度档案抽查) ---------------------------------------------

# DOMAIN.md lifecycle 6: at least once a year all files are cleaned up and at least 30% of them
# spot-checked.
MIN_SPOTCHECK_SHARE = 30


class SpotCheckSample(models.Model):
    """A year's random sample of the files on file (在档、解困) of an organisation and the ones
    below it, drawn once and kept as drawn: later changes of the files do not change it."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    share = models.PositiveSmallIntegerField(
        _("抽查比例（%）"),
        validators=[MinValueValidator(MIN_SPOTCHECK_SHARE), MaxValueValidator(100)],
    )
    size = models.PositiveIntegerField(_("抽查份数"))
    population = models.PositiveIntegerField(_("抽取时在档份数"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("抽取人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("抽取时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "档案抽查")
        verbose_name_plural = pgettext_lazy("models", "档案抽查")
        ordering = ["-year", "organisation__path"]
        constraints = [
            # One draw per organisation and year: a second would let a county redraw until the
            # sample suits it. The database decides between two drawing at once.
            models.UniqueConstraint(
                fields=["organisation", "year"], name="spotcheck_sample_one_per_year"
            ),
            models.CheckConstraint(
                condition=Q(share__gte=MIN_SPOTCHECK_SHARE, share__lte=100),
                name="spotcheck_sample_share_valid",
            ),
            models.CheckConstraint(
                condition=Q(size__lte=F("population")), name="spotcheck_sample_size_valid"
            ),
        ]

    def __str__(self):
        return f"{self.organisation.name} {self.year}"


class SpotCheckQuerySet(ScopedQuerySet):
    org_lookup = "sample__organisation"

    def pending(self):
        return self.filter(outcome=SpotCheck.Outcome.PENDING)

    def discrepancies(self):
        return self.filter(outcome=SpotCheck.Outcome.DISCREPANCY)


class SpotCheck(models.Model):
    """One sampled file: does it say what the household's situation is (属实), or not?"""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("待核查")
        CONFIRMED = "confirmed", _("属实")
        DISCREPANCY = "discrepancy", _("不属实或有出入")

    class Action(models.TextChoices):
        """What a discrepancy calls for."""

        CORRECT = "correct", _("更正档案")
        RESURVEY = "resurvey", _("重新入户调查")
        EXIT = "exit", _("办理脱困")
        DEREGISTER = "deregister", _("注销档案")
        OTHER = "other", _("其他")

    sample = models.ForeignKey(
        SpotCheckSample, verbose_name=_("抽查"), on_delete=models.PROTECT, related_name="items"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("档案"), on_delete=models.PROTECT, related_name="spot_checks"
    )
    status_at_draw = models.CharField(
        _("抽取时档案状态"), max_length=20, choices=Status.choices, editable=False
    )
    outcome = models.CharField(
        _("核查结果"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    action = models.CharField(_("处理意见"), max_length=12, choices=Action.choices, blank=True)
    note = models.TextField(_("核查情况"), blank=True)
    checked_on = models.DateField(_("核查日期"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("登记时间"), null=True, blank=True)

    objects = SpotCheckQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "档案抽查结果")
        verbose_name_plural = pgettext_lazy("models", "档案抽查结果")
        ordering = ["sample", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "household"], name="spotcheck_unique"),
            models.CheckConstraint(
                condition=Q(outcome__in=["pending", "confirmed", "discrepancy"]),
                name="spotcheck_outcome_valid",
            ),
            # A discrepancy says what was found and what is to be done about it.
            models.CheckConstraint(
                condition=~Q(outcome="discrepancy") | (~Q(note="") & ~Q(action="")),
                name="spotcheck_discrepancy_explained",
            ),
        ]

    def __str__(self):
        return f"{self.sample} {self.household_id} {self.get_outcome_display()}"

    @property
    def is_discrepancy(self) -> bool:
        return self.outcome == self.Outcome.DISCREPANCY
