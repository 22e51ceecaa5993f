"""Forms of the household staff pages. They parse and present; every rule is checked by
`households.services`, whose ValidationErrors `add_service_errors` puts next to the fields."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households import idnumbers, spotchecks
from households.eligibility import MIGRANT_FIELDS, migrant_field_missing, scheme_categories
from households.models import (
    APPLICATION_STATUSES,
    MIN_SPOTCHECK_SHARE,
    VERIFIED_STATUSES,
    Category,
    Cause,
    ClosureRequest,
    DeregistrationReason,
    Document,
    Household,
    Member,
    Objection,
    Sex,
    SpotCheck,
)
from households.selectors import responsible_staff_candidates
from households.services import MemberData
from orgs.models import Organisation, User
from orgs.money import MONEY_ERRORS

MONEY_FIELD = {
    "max_digits": 14,
    "decimal_places": 2,
    "min_value": Decimal("0.00"),
    "error_messages": MONEY_ERRORS,
}
MAX_MEMBERS = 20
# The largest amounts typed: the monthly incomes of MAX_MEMBERS members plus the other income
# then add up to far less than the 14-digit money columns hold (services.recompute_income).
MAX_MONTHLY = Decimal("9999999.99")
MAX_ANNUAL = Decimal("99999999.99")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def money_input():
    return forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})


def limit_amount(field: forms.DecimalField, maximum: Decimal) -> forms.DecimalField:
    """Refuse an amount above `maximum` (or beyond the column's digits), naming the field."""
    field.max_value = maximum
    field.validators.append(MaxValueValidator(maximum))
    field.widget.attrs["max"] = str(maximum)
    message = _("%(field)s不能超过 %(max)s。") % {"field": field.label, "max": f"{maximum:,}"}
    for code in ("max_value", "max_digits", "max_whole_digits"):
        field.error_messages[code] = message
    return field


def add_service_errors(form, error: ValidationError, formset=None) -> None:
    """Show a service's refusal where it belongs: a field's message next to that field, the
    members' messages above the members table, anything else at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        if field == "members" and formset is not None:
            formset.add_non_form_errors(errors)
        elif field in form.fields:
            form.add_error(field, errors)
        else:
            form.add_error(None, errors)


class KeyedMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses a key beyond 64 bits before it reaches the database: SQLite cannot bind it in
    the IN (…) query Django builds (OverflowError, a 500) — a hostile or mistyped POST."""

    def _check_values(self, value):
        for key in value:
            try:
                too_big = abs(int(str(key))) >= 2**63
            except ValueError:
                continue  # not a number: Django refuses it itself
            if too_big:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": key},
                )
        return super()._check_values(value)


# --- The household and its members -----------------------------------------------------------


class HouseholdForm(forms.ModelForm):
    """The file's own fields. The ID and bank numbers are never put back into the page: on
    edit, an empty box keeps the stored number (its masked copy is shown)."""

    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bank_account = forms.CharField(
        label=_("银行账号"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    class Meta:
        model = Household
        fields = [
            "organisation",
            "base_union",
            "worker_name",
            "sex",
            "phone",
            "employer",
            "is_migrant_worker",
            "is_union_member",
            "labour_relation_since",
            "is_model_worker",
            "address",
            "bank_name",
            "other_monthly_income",
            "rigid_spending_annual",
            "accident_spending_annual",
            "primary_cause",
            "secondary_causes",
            "category",
            "owns_multiple_homes",
            "owns_business",
            "children_private_school",
            "uses_vehicles",
            "responsible_staff",
            "responsible_chair",
            "responsible_chair_phone",
        ]
        widgets = {
            "worker_name": forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "responsible_chair_phone": forms.TextInput(attrs={"type": "tel"}),
            "secondary_causes": forms.CheckboxSelectMultiple,
            "other_monthly_income": money_input(),
            "rigid_spending_annual": money_input(),
            "accident_spending_annual": money_input(),
            "labour_relation_since": DateInput(),
        }
        help_texts = {
            "is_union_member": _("农民工必填：须为工会会员。"),
            "labour_relation_since": _("农民工必填：至申请日期须满一年。"),
        }
        field_classes = {"secondary_causes": KeyedMultipleChoiceField}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk and self.instance.status in VERIFIED_STATUSES:
            # A verified file's facts change with a reason (households.services).
            self.fields["change_reason"] = forms.CharField(
                label=_("修改原因"),
                max_length=100,
                help_text=_("如：入户调查核实配偶已就业，收入变化。记入档案轨迹。"),
            )
        own = getattr(user, "organisation", None)
        # A deactivated organisation takes no new files; a file already there keeps it.
        kept = [self.instance.organisation_id, self.instance.base_union_id]
        visible = Organisation.objects.visible_to(user).filter(Q(is_active=True) | Q(pk__in=kept))
        # 建档单位: a county (or higher) union of the subtree; base unions are chosen below.
        not_base = ~Q(level=Organisation.Level.BASE)
        organisations = visible.filter(not_base | Q(pk=own.pk) if own else not_base)
        self.fields["organisation"].queryset = organisations.order_by("path")
        if not self.instance.pk and own is not None and not self.initial.get("organisation"):
            self.initial["organisation"] = own.pk
        self.fields["base_union"].queryset = visible.filter(level=Organisation.Level.BASE).order_by(
            "path"
        )
        # Those the user may name; the service checks them against the file's organisation.
        # The file's own person stays offered (deactivated since, say): else the browser would
        # send none and the edit would silently take them off the file.
        staff = Q(pk__in=responsible_staff_candidates(user=user).values("pk"))
        if self.instance.responsible_staff_id:
            staff |= Q(pk=self.instance.responsible_staff_id)
        self.fields["responsible_staff"].queryset = User.objects.filter(staff).order_by("username")
        # A retired cause or category is chosen no more, yet stays on the files that have it:
        # the form offers the file's own beside the active ones, as it does its organisation
        # (else the browser would send none, and the edit would silently drop it).
        current = self.instance
        primary = Q(is_active=True) | Q(pk=current.primary_cause_id)
        secondary = Q(is_active=True)
        if current.pk:
            secondary |= Q(pk__in=current.secondary_causes.values("pk"))
        self.fields["primary_cause"].queryset = Cause.objects.filter(primary)
        self.fields["secondary_causes"].queryset = Cause.objects.filter(secondary)
        self.fields["secondary_causes"].help_text = _("最多选择3项。")
        # Those of the scheme of the file's organisation (as chosen on the form; the 2015
        # scheme's too on a file filed before 2021): a category of the other scheme is refused
        # (by the service too), and one already on the file stays offered.
        category = Q(is_active=True)
        organisation = self.chosen_organisation() or own
        if organisation is not None:
            period = current.current_period if current.current_period_id else None
            category &= scheme_categories(
                organisation.setting("category_scheme"), period.filed_on if period else None
            )
        self.fields["category"].queryset = Category.objects.filter(
            category | Q(pk=current.category_id)
        )
        self.fields["category"].error_messages["invalid_choice"] = _(
            "请选择建档单位所用困难类别标准中的类别。"
        )
        self.fields["category"].help_text = _("可参考下方的认定建议。")
        self.fields["sex"].required = False
        self.fields["sex"].choices = [("", _("按身份证号码识别")), *Sex.choices]
        self.fields["is_union_member"].widget.choices = [  # a NullBooleanSelect
            ("unknown", _("未填写")),
            ("true", _("是")),
            ("false", _("否")),
        ]
        if not self.applying():
            # A file on file was decided when it was filed: the fields are optional (clean), and
            # a file without them or breaking the rule is listed for the supervisors instead.
            self.fields["is_union_member"].help_text = _(
                "农民工选填（已建档）：未填写或不是工会会员的，列入常用清单“农民工会员资格待核实”。"
            )
            self.fields["labour_relation_since"].help_text = _(
                "农民工选填（已建档）：未填写或至申请日期不满一年的，"
                "列入常用清单“农民工会员资格待核实”。"
            )
        # The two fields show only when the box is ticked (household_form.js; without the
        # script they are always shown).
        self.fields["is_migrant_worker"].widget.attrs["data-reveals"] = " ".join(
            self[name].id_for_label for name in MIGRANT_FIELDS
        )
        limit_amount(self.fields["other_monthly_income"], MAX_MONTHLY)
        limit_amount(self.fields["rigid_spending_annual"], MAX_ANNUAL)
        limit_amount(self.fields["accident_spending_annual"], MAX_ANNUAL)
        if self.instance.pk:
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _("当前：%(masked)s。留空表示不修改。") % {
                "masked": self.instance.id_masked
            }
            if self.instance.bank_account_masked:
                self.fields["bank_account"].help_text = _("当前：%(masked)s。留空表示不修改。") % {
                    "masked": self.instance.bank_account_masked
                }

    def applying(self) -> bool:
        """A new file or an application not yet on file: the migrant-worker fields are asked."""
        return not self.instance.pk or self.instance.status in APPLICATION_STATUSES

    def chosen_organisation(self) -> Organisation | None:
        """The organisation sent (when one the form offers), else the file's own."""
        key = self.data.get(self.add_prefix("organisation")) if self.is_bound else None
        if key:
            try:
                return self.fields["organisation"].clean(key)
            except ValidationError:
                pass  # the field says so when the form is validated
        return self.instance.organisation if self.instance.organisation_id else None

    def clean_id_number(self):
        value = self.cleaned_data["id_number"]
        if not value:
            return ""
        return idnumbers.validate_id_number(value)

    def clean(self):
        cleaned = super().clean()
        # A migrant worker's application says whether they are a union member and since when
        # they work for their employer: required with the others, the services check the rule
        # (services.migrant_worker_errors; a file on file was decided when it was filed).
        if self.applying() and cleaned.get("is_migrant_worker"):
            for name in MIGRANT_FIELDS:
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, migrant_field_missing(name))
        return cleaned

    def apply_identifiers(self, household: Household) -> None:
        """Put typed numbers on the file; blank boxes on an existing file keep the old ones."""
        if self.cleaned_data.get("id_number"):
            household.id_number = self.cleaned_data["id_number"]
        if self.cleaned_data.get("bank_account"):
            household.bank_account = self.cleaned_data["bank_account"]


class MemberForm(forms.Form):
    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    relation = forms.ChoiceField(label=_("与户主关系"), choices=Member.Relation.choices)
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    health = forms.ChoiceField(
        label=_("健康状况"), choices=Member.Health.choices, initial=Member.Health.HEALTHY
    )
    disability = forms.ChoiceField(
        label=_("残疾等级"), choices=Member.Disability.choices, initial=Member.Disability.NONE
    )
    employment = forms.ChoiceField(
        label=_("就业状况"),
        choices=Member.Employment.choices,
        initial=Member.Employment.EMPLOYED,
    )
    school_stage = forms.ChoiceField(
        label=_("就学阶段"), choices=Member.School.choices, initial=Member.School.NONE
    )
    monthly_income = forms.DecimalField(
        label=_("月收入（元）"), initial=Decimal("0.00"), widget=money_input(), **MONEY_FIELD
    )

    def __init__(self, *args, is_self=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_self = is_self
        limit_amount(self.fields["monthly_income"], MAX_MONTHLY)
        if is_self:
            # The worker's own row: name and ID come from the worker's fields above.
            self.fields["relation"].choices = [(Member.Relation.SELF, Member.Relation.SELF.label)]
            self.fields["relation"].initial = Member.Relation.SELF
            self.fields["relation"].widget = forms.HiddenInput()
            self.fields["name"].widget = forms.HiddenInput()
            self.fields["id_number"].widget = forms.HiddenInput()
        else:
            self.fields["relation"].choices = [
                ("", "---------"),
                *[c for c in Member.Relation.choices if c[0] != Member.Relation.SELF],
            ]
            masked = self.initial.get("id_masked")
            if masked:
                self.fields["id_number"].widget.attrs["placeholder"] = masked

    def clean_relation(self):
        return Member.Relation.SELF if self.is_self else self.cleaned_data["relation"]

    def clean_id_number(self):
        value = self.cleaned_data["id_number"]
        if self.is_self or not value:
            return ""
        return idnumbers.validate_id_number(value)

    def clean(self):
        cleaned = super().clean()
        if not self.is_self and not cleaned.get("name") and "name" not in self.errors:
            self.add_error("name", _("请填写成员姓名。"))
        return cleaned


class BaseMemberFormSet(forms.BaseFormSet):
    """The members table. Row 1 is always the worker (本人)."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["is_self"] = index == 0
        return kwargs

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            renderer=self.renderer,
            is_self=False,
        )
        self.add_fields(form, None)
        return form

    def add_non_form_errors(self, errors) -> None:
        self.non_form_errors()  # runs full_clean first
        if self._non_form_errors is None:
            self._non_form_errors = self.error_class(error_class="nonform")
        messages = errors.messages if isinstance(errors, ValidationError) else errors
        for message in messages:
            self._non_form_errors.append(
                message.message if isinstance(message, ValidationError) else message
            )

    def rows(self):
        """The household's rows: the worker's row, and every other row not ticked for deletion
        that is filled in or is a saved member (on the edit page, a member left untouched is
        unchanged from its initial row, yet still a member). Also before or without validation
        (typed_incomes), from what of each row was read."""
        for index, form in enumerate(self.forms):
            if index == 0:
                yield form
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            cleaned = getattr(form, "cleaned_data", None) or {}
            if not form.has_changed() and not cleaned.get("pk"):
                continue
            yield form

    def member_data(self, existing: dict[int, Member] | None = None) -> list[MemberData]:
        """The rows as `services.MemberData`. A blank ID box of a saved member keeps its ID."""
        existing = existing or {}
        members = []
        for form in self.rows():
            data = form.cleaned_data
            row = existing.get(data.get("pk"))
            id_number = data.get("id_number", "")
            if not id_number and row is not None and not form.is_self:
                id_number = row.id_number
            members.append(
                MemberData(
                    pk=row.pk if row is not None else None,
                    relation=data.get("relation") or Member.Relation.SELF,
                    name=data.get("name", ""),
                    id_number=id_number,
                    health=data.get("health") or Member.Health.HEALTHY,
                    disability=data.get("disability") or Member.Disability.NONE,
                    employment=data.get("employment") or Member.Employment.EMPLOYED,
                    school_stage=data.get("school_stage") or Member.School.NONE,
                    monthly_income=data.get("monthly_income") or Decimal("0.00"),
                )
            )
        return members

    def typed_incomes(self) -> list[Decimal]:
        """The incomes of the rows as typed so far (for the live preview and the check shown
        beside a refused form; no validation): the same rows as saved, so an edit's check counts
        the members it did not touch."""
        incomes = []
        for form in self.rows():
            cleaned = getattr(form, "cleaned_data", None) or {}
            incomes.append(cleaned.get("monthly_income") or Decimal("0.00"))
        return incomes


MemberFormSet = forms.formset_factory(
    MemberForm,
    formset=BaseMemberFormSet,
    extra=1,
    can_delete=True,
    max_num=MAX_MEMBERS,
    validate_max=True,
    # A forged TOTAL_FORMS builds no more forms than this (Django's default: max_num + 1000,
    # seconds of work per request).
    absolute_max=MAX_MEMBERS + 1,
)


def member_initial(household: Household | None) -> list[dict]:
    """Initial rows: the worker first, then the other members in the order they were added."""
    if household is None:
        return [{"relation": Member.Relation.SELF, "monthly_income": Decimal("0.00")}]
    members = sorted(
        household.members.all(), key=lambda m: (m.relation != Member.Relation.SELF, m.pk)
    )
    rows = [
        {
            "pk": m.pk,
            "relation": m.relation,
            "name": m.name,
            "id_masked": m.id_masked,
            "health": m.health,
            "disability": m.disability,
            "employment": m.employment,
            "school_stage": m.school_stage,
            "monthly_income": m.monthly_income,
        }
        for m in members
    ]
    if not rows or rows[0]["relation"] != Member.Relation.SELF:
        rows.insert(0, {"relation": Member.Relation.SELF, "monthly_income": Decimal("0.00")})
    return rows


# --- Lifecycle steps -----------------------------------------------------------------------


class TransitionForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, reason_required=False, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if action == "approve":  # the supervisor's opinion, as the file page calls it
            self.fields["reason"].label = _("审批意见")


class HouseholdChoiceField(KeyedMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.file_number} {obj.worker_name}"


class NoticeStartForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("公示单位"), queryset=Organisation.objects.none())
    households = HouseholdChoiceField(
        label=_("公示的档案"),
        queryset=Household.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一户已审核的档案。")},
    )
    starts_on = forms.DateField(label=_("公示开始日期"), widget=DateInput())
    objection_contact = forms.CharField(
        label=_("异议受理"),
        max_length=200,
        help_text=_("对公示有异议的，向何处、以何种方式反映（地点、电话）。"),
    )
    title = forms.CharField(
        label=_("标题"), max_length=100, required=False, help_text=_("留空则自动生成。")
    )

    def __init__(self, *args, organisations, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if organisations.count() <= 1:
            self.fields["organisation"].widget = forms.HiddenInput()
        self.fields["households"].queryset = households
        self.fields["starts_on"].initial = timezone.localdate()


class ClosureRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("退出类型"), choices=ClosureRequest.Kind.choices, widget=forms.RadioSelect
    )
    effective_date = forms.DateField(label=_("生效日期"), widget=DateInput())
    deregistration_reason = forms.ChoiceField(
        label=_("注销原因"),
        choices=[("", _("（仅注销时填写）")), *DeregistrationReason.choices],
        required=False,
    )
    reason = forms.CharField(label=_("情况说明"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_date"].initial = timezone.localdate()


class ClosureDecisionForm(forms.Form):
    # Radio buttons with neither chosen: closing a file is chosen, never a default left standing.
    decision = forms.ChoiceField(
        label=_("审批结果"),
        choices=[("approve", _("批准")), ("reject", _("驳回"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("审批意见"), widget=forms.Textarea(attrs={"rows": 3}))


class ObjectionForm(forms.Form):
    raised_by = forms.CharField(label=_("异议人"), max_length=50)
    raised_on = forms.DateField(label=_("提出日期"), widget=DateInput())
    content = forms.CharField(label=_("异议内容"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, notice=None, **kwargs):
        super().__init__(*args, **kwargs)
        # An objection is raised while its notice runs (services.objection_record): one
        # entered after the notice ended defaults to its last day, not to a refused today.
        today = timezone.localdate()
        self.fields["raised_on"].initial = min(today, notice.ends_on) if notice else today


class ObjectionResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("处理结果"),
        choices=[
            (Objection.Outcome.UPHELD, Objection.Outcome.UPHELD.label),
            (Objection.Outcome.DISMISSED, Objection.Outcome.DISMISSED.label),
        ],
        widget=forms.RadioSelect,
    )
    finding = forms.CharField(label=_("核查情况"), widget=forms.Textarea(attrs={"rows": 3}))


class SurveyForm(forms.Form):
    """入户调查 with the verified monthly income of every member, prefilled with today's."""

    surveyed_on = forms.DateField(label=_("调查日期"), widget=DateInput())
    surveyors = forms.CharField(label=_("调查人"), max_length=100)
    findings = forms.CharField(label=_("调查情况"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, members, surveyor="", **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        self.fields["surveyed_on"].initial = timezone.localdate()
        self.fields["surveyed_on"].widget.attrs["autofocus"] = True
        self.fields["surveyors"].initial = surveyor
        for member in self.members:
            self.fields[f"income_{member.pk}"] = limit_amount(
                forms.DecimalField(
                    label=_("%(name)s（%(relation)s）核实月收入（元）")
                    % {"name": member.name, "relation": member.get_relation_display()},
                    initial=member.monthly_income,
                    widget=money_input(),
                    **MONEY_FIELD,
                ),
                MAX_MONTHLY,
            )

    def income_fields(self):
        return [self[f"income_{member.pk}"] for member in self.members]

    def incomes(self) -> dict[int, Decimal]:
        return {m.pk: self.cleaned_data[f"income_{m.pk}"] for m in self.members}


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=Document.Kind.choices)
    file = forms.FileField(
        label=_("文件"),
        help_text=_("PDF、JPEG或PNG，不超过10MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    issued_on = forms.DateField(
        label=_("开具日期"),
        required=False,
        widget=DateInput(),
        help_text=_("诊断证明须为一年以内。"),
    )


class SpotCheckDrawForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("组织"), queryset=Organisation.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    share = forms.IntegerField(
        label=_("抽查比例（%）"),
        min_value=MIN_SPOTCHECK_SHARE,
        max_value=100,
        initial=MIN_SPOTCHECK_SHARE,
        help_text=_("至少30%，按份数向上取整；可以多抽，不能少抽。"),
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        field.queryset = Organisation.objects.visible_to(user).filter(
            is_active=True, level__in=spotchecks.DRAW_LEVELS
        )
        if user.organisation_id and not self.is_bound:
            field.initial = user.organisation_id
        self.fields["year"].initial = timezone.localdate().year


class SpotCheckForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("核查结果"),
        choices=[
            (SpotCheck.Outcome.CONFIRMED, SpotCheck.Outcome.CONFIRMED.label),
            (SpotCheck.Outcome.DISCREPANCY, SpotCheck.Outcome.DISCREPANCY.label),
        ],
        widget=forms.RadioSelect,
    )
    checked_on = forms.DateField(label=_("核查日期"), widget=DateInput())
    action = forms.ChoiceField(
        label=_("处理意见"),
        choices=[("", "---------"), *SpotCheck.Action.choices],
        required=False,
        help_text=_("不属实或有出入时必选。"),
    )
    note = forms.CharField(
        label=_("核查情况"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("不属实或有出入时必填：哪里与实际情况不符。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checked_on"].initial = timezone.localdate()


class LateEntryFilterForm(forms.Form):
    """逾期录入's filters: the year the changes were recorded (empty: every year) and an
    organisation of the user's subtree (the files of it and below it)."""

    year = forms.IntegerField(label=_("录入年度"), min_value=2000, max_value=2100, required=False)
    organisation = forms.ModelChoiceField(
        label=_("组织"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("全部"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.visible_to(user).order_by(
            "path"
        )
