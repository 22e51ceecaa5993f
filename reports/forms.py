from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import Organisation
from orgs.text import aside
from reports.summary import (
    CHILDREN,
    COUNTIES,
    check_cutoff_has_passed,
    check_dates,
    parse_years,
)

# A date input takes only YYYY-MM-DD: the Chinese format (2026/12/07) would leave it empty.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ABOVE_COUNTIES = (Organisation.Level.REGION, Organisation.Level.CITY)
FORMAT_CHOICES = [("html", _("网页")), ("pdf", "PDF"), ("xlsx", "Excel"), ("json", "JSON")]


class OrganisationChoice(forms.Select):
    pass


class SummaryForm(forms.Form):
    org = forms.ChoiceField(label=_("单位"))
    years = forms.CharField(
        label=_("年度"),
        max_length=9,
        help_text=_("如 2019，或 2017-2019 逐年对比；2000 年至今年。"),
    )
    cutoff = forms.DateField(
        label=_("截止日期"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("默认为统计期末，统计期未结束时为今天；此日期之后的事项不计入。"),
    )
    baseline = forms.DateField(
        label=_("存量基准日"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("默认使用单位设置；不能晚于截止日期。"),
    )
    compare = forms.ChoiceField(
        label=_("对比"),
        choices=[(CHILDREN, _("直属下级单位")), (COUNTIES, _("各县（区）"))],
        initial=CHILDREN,
        required=False,
        help_text=_("报表最后一节并列对比的单位；省、市总工会可对比所辖各县（区）。"),
    )
    format = forms.ChoiceField(
        label=_("格式"), choices=FORMAT_CHOICES, initial="html", required=False
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = [(o.code, aside(o.name, o.code)) for o in organisations]
        # The user's own organisation first, so the default is the widest report they may see.
        today = timezone.localdate()
        self.fields["years"].initial = str(today.year)
        self.fields["cutoff"].widget.attrs["max"] = today.isoformat()
        # Counties are compared below a region or a city: below, the choice is no choice.
        if not any(o.level in ABOVE_COUNTIES for o in organisations):
            del self.fields["compare"]

    def clean_years(self):
        try:
            return parse_years(self.cleaned_data["years"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None

    def clean_cutoff(self):
        cutoff = self.cleaned_data["cutoff"]
        if cutoff is not None:
            check_cutoff_has_passed(cutoff)  # said even while the years are wrong
        return cutoff

    def clean_format(self):
        return self.cleaned_data.get("format") or "html"

    def clean_compare(self):
        return self.cleaned_data.get("compare") or CHILDREN

    def clean(self):
        cleaned = super().clean()
        cleaned.setdefault("compare", CHILDREN)
        span = cleaned.get("years")
        if span and not self.has_error("cutoff") and not self.has_error("baseline"):
            try:
                check_dates(*span, cutoff=cleaned.get("cutoff"), baseline=cleaned.get("baseline"))
            except ValidationError as exc:
                self.add_error(None, exc)  # keyed by field: each refusal shows on its field
        return cleaned


class RosterForm(forms.Form):
    org = forms.ChoiceField(label=_("单位"))
    on = forms.DateField(
        label=_("日期"),
        widget=DATE_INPUT,
        help_text=_("列出该日在档（含解困）的困难职工家庭。"),
    )
    format = forms.ChoiceField(label=_("格式"), choices=[("xlsx", "Excel"), ("pdf", "PDF")])
    full_numbers = forms.BooleanField(
        label=_("显示完整身份证号和银行账号"),
        required=False,
        help_text=_("仅限有权限的角色；导出将记入个人信息访问日志。"),
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = [(o.code, aside(o.name, o.code)) for o in organisations]
        today = timezone.localdate()
        self.fields["on"].initial = today
        self.fields["on"].widget.attrs["max"] = today.isoformat()

    def clean_on(self):
        """A roster is of a day that has passed: the files of a day to come are not known."""
        on, today = self.cleaned_data["on"], timezone.localdate()
        if on > today:
            raise ValidationError(
                _("日期不能晚于今天（%(today)s）：%(on)s 的在档情况还不知道。"),
                code="future",
                params={"today": today, "on": on},
            )
        return on
