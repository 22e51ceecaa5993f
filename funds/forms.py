"""Forms of the funds pages. They collect and type the input; the services hold the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funds.batches import BY_STAGE, Selection, Terms
from funds.models import AssistanceType, FundSource, Tier, Verification
from funds.selectors import statement_period
from funds.standards import STUDENT_STAGES, TIER_STAGES, tier_choices
from households.models import Category, Cause, Status
from orgs.models import Organisation
from orgs.money import MONEY_ERRORS
from orgs.text import aside

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The boxes that find a file (the request list's, the 申请帮扶 search): a full ID number, the
# worker's or a member's, is searched by its keyed hash, never put in the address
# (orgs/idsearch.py).
SEARCH_PLACEHOLDER = _("档案编号、姓名开头或完整身份证号码")


def money_field(label, *, required=True, help_text=""):
    # max 14 digits, 2 decimals: the form refuses more decimals before the service sees them
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        required=required,
        help_text=help_text,
        error_messages=MONEY_ERRORS,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class ScopedOrganisationMixin:
    """An `organisation` field limited to the user's subtree, their own organisation first."""

    def scope_organisations(self, user):
        field = self.fields["organisation"]
        field.queryset = Organisation.objects.visible_to(user).filter(is_active=True)
        if user.organisation_id and not self.is_bound:
            field.initial = user.organisation_id


def active_sources():
    return FundSource.objects.filter(is_active=True)


class ReceiptForm(ScopedOrganisationMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("收款单位"), queryset=Organisation.objects.none())
    source = forms.ModelChoiceField(label=_("资金来源"), queryset=FundSource.objects.none())
    year = forms.IntegerField(label=_("资金年度"), min_value=1990, max_value=2100)
    amount = money_field(_("金额（元）"))
    received_on = forms.DateField(label=_("到账日期"), widget=DATE)
    document_number = forms.CharField(
        label=_("文号"),
        max_length=60,
        help_text=_("如：桂财行〔2018〕72号"),
        error_messages={"required": _("请填写拨款文号（如：桂财行〔2018〕72号）。")},
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_organisations(user)
        self.fields["source"].queryset = active_sources()
        today = timezone.localdate()
        self.fields["year"].initial = today.year
        self.fields["received_on"].initial = today


class RefundForm(ScopedOrganisationMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("退款单位"), queryset=Organisation.objects.none())
    source = forms.ModelChoiceField(label=_("资金来源"), queryset=FundSource.objects.none())
    amount = money_field(_("金额（元）"))
    refunded_on = forms.DateField(label=_("退回日期"), widget=DATE)
    document_number = forms.CharField(
        label=_("收回通知文号"),
        max_length=60,
        help_text=_("如：桂财行〔2018〕72号"),
        error_messages={"required": _("请填写收回通知文号。")},
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_organisations(user)
        self.fields["source"].queryset = active_sources()
        self.fields["refunded_on"].initial = timezone.localdate()


class ReverseForm(forms.Form):
    entry_date = forms.DateField(
        label=_("冲销日期"), widget=DATE, help_text=_("冲销记入此日期所在年度。")
    )
    reason = forms.CharField(label=_("冲销原因"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entry_date"].initial = timezone.localdate()


class YearCloseForm(ScopedOrganisationMixin, forms.Form):
    """The year to close, checked as closing it would check it (its confirmation is shown only
    for a year that may be closed)."""

    organisation = forms.ModelChoiceField(label=_("组织"), queryset=Organisation.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=1990, max_value=2100)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_organisations(user)

    def clean(self):
        from funds.services import check_year_closable

        data = super().clean()
        organisation, year = data.get("organisation"), data.get("year")
        if organisation and year is not None:
            try:
                check_year_closable(organisation=organisation, year=year)
            except ValidationError as error:
                self.add_error(None, error)  # on the year field: the error names it
        return data


def member_label(member) -> str:
    """A member as the request form lists them: a student with their school stage."""
    if member.school_stage in STUDENT_STAGES:
        return aside(member.name, member.get_school_stage_display())
    return member.name


class RequestForm(forms.Form):
    assistance_type = forms.ModelChoiceField(
        label=_("帮扶项目"), queryset=AssistanceType.objects.none()
    )
    tier = forms.ChoiceField(
        label=_("细分标准"),
        choices=Tier.choices,
        initial=Tier.GENERAL,
        help_text=_("帮扶项目有细分标准的（如助学按学段），须选择该项目下的一项；其他选“一般”。"),
    )
    beneficiary = forms.ModelChoiceField(
        label=_("受助成员"),
        queryset=None,
        required=False,
        help_text=_("助学的学生、医疗救助的患者等；留空表示全户。按人计算次数的标准须选择。"),
    )
    source = forms.ModelChoiceField(label=_("资金来源"), queryset=FundSource.objects.none())
    amount = money_field(_("金额（元）"))
    out_of_pocket = money_field(
        _("个人自付费用（元）"),
        required=False,
        help_text=_("医疗救助：医院结算单上的个人自付部分。"),
    )
    requested_on = forms.DateField(label=_("申请日期"), widget=DATE)
    reason = forms.CharField(label=_("申请理由"), widget=forms.Textarea(attrs={"rows": 3}))
    exception_reason = forms.CharField(
        label=_("申请突破标准的理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("超出帮扶标准时填写，由审批人决定是否突破。"),
    )

    def __init__(self, *args, household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assistance_type"].queryset = AssistanceType.objects.filter(is_active=True)
        self.fields["source"].queryset = active_sources()
        self.fields["tier"].choices = tier_choices(household.organisation)
        # The students first, their school stage shown: a schooling tier is for one at its
        # stage (funds.standards check_student_stage).
        self.fields["beneficiary"].queryset = household.members.annotate(
            student=Case(When(school_stage__in=STUDENT_STAGES, then=0), default=1)
        ).order_by("student", "pk")
        self.fields["beneficiary"].label_from_instance = member_label
        self.fields["requested_on"].initial = timezone.localdate()


class RequestBatchForm(ScopedOrganisationMixin, forms.Form):
    """批量申请帮扶: what every request asks for, then which households (filters over the
    user's files, or pasted file numbers). `preview_key` carries the preview being confirmed."""

    assistance_type = forms.ModelChoiceField(
        label=_("帮扶项目"), queryset=AssistanceType.objects.none()
    )
    tier = forms.ChoiceField(label=_("细分标准"), choices=Tier.choices, initial=Tier.GENERAL)
    source = forms.ModelChoiceField(label=_("资金来源"), queryset=FundSource.objects.none())
    amount = money_field(
        _("每户金额（元）"),
        required=False,
        help_text=_("留空则按各户适用的帮扶标准的每次金额。"),
    )
    requested_on = forms.DateField(label=_("申请日期"), widget=DATE)
    reason = forms.CharField(
        label=_("申请理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：春节送温暖。每笔申请都记录此理由。"),
    )
    organisation = forms.ModelChoiceField(
        label=_("组织（含下级）"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("全部"),
    )
    category = forms.ModelChoiceField(
        label=_("困难类别"),
        queryset=Category.objects.filter(is_active=True),
        required=False,
        empty_label=_("全部"),
    )
    cause = forms.ModelChoiceField(
        label=_("主要致困原因"),
        queryset=Cause.objects.filter(is_active=True),
        required=False,
        empty_label=_("全部"),
    )
    status = forms.ChoiceField(
        label=_("档案状态"),
        choices=[
            ("", _("在档或解困")),
            (Status.ON_FILE, Status.ON_FILE.label),
            (Status.RELIEVED, Status.RELIEVED.label),
        ],
        required=False,
    )
    file_numbers = forms.CharField(
        label=_("或粘贴档案编号"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        required=False,
        help_text=_("每行一个档案编号；填写后按所列档案申请，不再按上面的条件筛选。"),
    )
    repeat = forms.BooleanField(
        label=_("本年已申请过该项目的档案也申请"),
        required=False,
        help_text=_("不勾选时，本年已有该项目申请（待审批、已批准、已发放或发放失败）的档案跳过。"),
    )
    preview_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.visible_to(user).filter(
            is_active=True
        )
        self.fields["assistance_type"].queryset = AssistanceType.objects.filter(is_active=True)
        self.fields["source"].queryset = active_sources()
        if user.organisation_id:
            choices = tier_choices(user.organisation)
            # A round across school stages in one batch, where the standards have such tiers.
            if any(t in TIER_STAGES for _type, tiers in choices[1:] for t, _label in tiers):
                choices.insert(1, (BY_STAGE, _("自动按就学阶段匹配档次")))
            self.fields["tier"].choices = choices
        self.fields["requested_on"].initial = timezone.localdate()

    def selection(self) -> Selection:
        data = self.cleaned_data
        return Selection(
            organisation=data["organisation"],
            category=data["category"],
            cause=data["cause"],
            status=data["status"],
            file_numbers=data["file_numbers"],
        )

    def terms(self) -> Terms:
        data = self.cleaned_data
        return Terms(
            assistance_type=data["assistance_type"],
            source=data["source"],
            reason=data["reason"],
            amount=data["amount"],
            tier=data["tier"],
            requested_on=data["requested_on"],
            repeat=data["repeat"],
        )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审批结果"),
        choices=[("approve", _("批准")), ("reject", _("不批准"))],
        widget=forms.RadioSelect,
    )
    override = forms.BooleanField(
        label=_("突破标准"), required=False, help_text=_("申请超出帮扶标准、经研究同意时勾选。")
    )
    reason = forms.CharField(
        label=_("审批意见"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("不批准或突破标准时必填。"),
    )


class ConfirmForm(forms.Form):
    """A button with nothing to type."""


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class PayForm(forms.Form):
    paid_on = forms.DateField(label=_("发放日期"), widget=DATE)
    bank_reference = forms.CharField(label=_("银行流水号"), max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


class RepaymentForm(forms.Form):
    amount = money_field(_("还款金额（元）"))
    repaid_on = forms.DateField(label=_("还款日期"), widget=DATE)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["repaid_on"].initial = timezone.localdate()


class BatchForm(ScopedOrganisationMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("付款单位"), queryset=Organisation.objects.none())
    source = forms.ModelChoiceField(
        label=_("资金来源"),
        queryset=FundSource.objects.none(),
        required=False,
        empty_label=_("全部来源"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_organisations(user)
        self.fields["source"].queryset = active_sources()


class ReturnFileForm(forms.Form):
    file = forms.FileField(
        label=_("银行回盘文件（.xlsx）"),
        help_text=_("须有“业务参考号”“结果”两列；失败的须有“失败原因”。"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
    paid_on = forms.DateField(
        label=_("发放日期"), widget=DATE, help_text=_("回盘文件未注明交易日期时使用。")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


def quarter_choices() -> list:
    """Called each time the choices are shown, in the language of the request."""
    return [(q, _("第%(q)d季度") % {"q": q}) for q in range(1, 5)]


class SampleForm(ScopedOrganisationMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("组织"), queryset=Organisation.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=1990, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("季度"), coerce=int, choices=quarter_choices)
    size = forms.IntegerField(
        label=_("抽查笔数"),
        min_value=1,
        max_value=500,
        initial=10,
        help_text=_("本季度已发放的帮扶中随机抽取。"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_organisations(user)
        today = timezone.localdate()
        previous = (today.month - 1) // 3  # the quarter that ended last
        self.fields["year"].initial = today.year if previous else today.year - 1
        self.fields["quarter"].initial = previous or 4


class VerificationForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("核实结果"),
        choices=[c for c in Verification.Outcome.choices if c[0] != "pending"],
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(label=_("核实方式"), choices=Verification.Method.choices)
    checked_on = forms.DateField(label=_("核实日期"), widget=DATE)
    amount_received = money_field(
        _("实际收到（元）"), required=False, help_text=_("部分收到时填写。")
    )
    note = forms.CharField(
        label=_("核实情况"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checked_on"].initial = timezone.localdate()


class FollowUpForm(forms.Form):
    follow_up = forms.CharField(label=_("跟进处理情况"), widget=forms.Textarea(attrs={"rows": 3}))


class StatementForm(ScopedOrganisationMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("组织"), queryset=Organisation.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=1990, max_value=2100)
    cutoff = forms.DateField(
        label=_("截止日期"), widget=DATE, required=False, help_text=_("如：截至9月30日。")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope_organisations(user)
        self.fields["year"].initial = timezone.localdate().year

    def clean_year(self):
        year = self.cleaned_data["year"]
        this_year = timezone.localdate().year
        if year is not None and year > this_year:
            raise ValidationError(
                _("%(year)d年尚未开始，最晚可查询今年（%(this)d年）。")
                % {"year": year, "this": this_year}
            )
        return year

    def clean_cutoff(self):
        cutoff = self.cleaned_data["cutoff"]
        today = timezone.localdate()
        if cutoff is not None and cutoff > today:
            raise ValidationError(
                _("截止日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()}
            )
        return cutoff

    def clean(self):
        """A cut-off lies within the year asked for: before it, no day is left to report;
        after it, it would be ignored without a word."""
        cleaned = super().clean()
        year, cutoff = cleaned.get("year"), cleaned.get("cutoff")
        if year is not None and cutoff is not None:
            if cutoff.year > year:
                self.add_error(
                    "cutoff",
                    _("截止日期 %(cutoff)s 晚于统计期结束日期 %(end)s。")
                    % {"cutoff": cutoff.isoformat(), "end": f"{year}-12-31"},
                )
            else:
                try:
                    statement_period(year=year, cutoff=cutoff)
                except ValidationError as error:
                    self.add_error(None, error)
        return cleaned


class HouseholdSearchForm(forms.Form):
    """The 申请帮扶 file search; posted (orgs/idsearch.py)."""

    q = forms.CharField(
        label=_("档案编号或姓名"),
        max_length=50,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autofocus": True,
                "placeholder": SEARCH_PLACEHOLDER,
                "autocomplete": "off",
            }
        ),
    )
