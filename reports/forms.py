from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.summary import check_cutoff, parse_years

FORMAT_CHOICES = [("html", _("网页")), ("pdf", "PDF"), ("xlsx", "Excel"), ("json", "JSON")]


class OrganisationChoice(forms.Select):
    pass


class SummaryForm(forms.Form):
    org = forms.ChoiceField(label=_("单位"))
    years = forms.CharField(
        label=_("年度"), max_length=9, help_text=_("如 2019，或 2017-2019 逐年对比")
    )
    cutoff = forms.DateField(
        label=_("截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("默认为统计期末；此日期之后的事项不计入。"),
    )
    baseline = forms.DateField(
        label=_("存量基准日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("默认使用单位设置。"),
    )
    format = forms.ChoiceField(
        label=_("格式"), choices=FORMAT_CHOICES, initial="html", required=False
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = [(o.code, f"{o.name}（{o.code}）") for o in organisations]
        # The user's own organisation first, so the default is the widest report they may see.
        self.fields["years"].initial = str(timezone.localdate().year)

    def clean_years(self):
        try:
            return parse_years(self.cleaned_data["years"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None

    def clean_format(self):
        return self.cleaned_data.get("format") or "html"

    def clean(self):
        cleaned = super().clean()
        span = cleaned.get("years")
        cutoff = cleaned.get("cutoff")
        if span:
            try:
                check_cutoff(*span, cutoff)
            except ValidationError as exc:
                self.add_error("cutoff", exc.messages[0])
        return cleaned


class RosterForm(forms.Form):
    org = forms.ChoiceField(label=_("单位"))
    on = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
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
        self.fields["org"].choices = [(o.code, f"{o.name}（{o.code}）") for o in organisations]
        self.fields["on"].initial = timezone.localdate()
