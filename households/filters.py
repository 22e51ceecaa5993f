"""The filters and sort order of the household list (django-filter)."""

from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from households import selectors
from households.models import SUPPORTED_STATUSES, Category, Cause, Household, Origin, Status
from orgs.models import Organisation
from orgs.web import IdSearchFilterSetMixin

YES_NO = [("true", _("是")), ("false", _("否"))]

STANDING_LIST_CHOICES = [
    ("drafts", _("草稿")),
    ("to_review", _("待入户调查和审核")),
    ("notice_ending", _("5个工作日内公示期满")),
    ("approvals", _("公示期满待审批")),
    ("objections", _("公示异议待处理")),
    ("diagnoses_expired", _("诊断证明已超过一年")),
    ("documents_incomplete", _("证明材料不全")),
    ("closure_pending", _("退出申请待审批")),
    ("survey_due", _("30天内应入户调查")),
    ("survey_overdue", _("入户调查逾期")),
    ("unchanged", _("一年未更新")),
    ("never_assisted", _("从未获得帮扶")),
    ("exit_candidates", _("符合脱困条件")),
    ("migrant_unverified", _("农民工会员资格待核实")),
]

# The order a standing list is worked through (its full list links with this sort): the most
# overdue survey first, the longest-waiting file first. The others keep the newest first.
STANDING_SORTS = {
    "to_review": "status_changed_on",
    "notice_ending": "status_changed_on",
    "approvals": "status_changed_on",
    "objections": "status_changed_on",
    "diagnoses_expired": "status_changed_on",
    "documents_incomplete": "status_changed_on",
    "survey_due": "next_survey_due",
    "survey_overdue": "next_survey_due",
    "never_assisted": "status_changed_on",
}


def standing_url(key: str) -> str:
    """The household list filtered to one standing list, in that list's working order."""
    params = {"standing": key}
    if key in STANDING_SORTS:
        params["sort"] = STANDING_SORTS[key]
    return reverse("households:list") + "?" + urlencode(params)


SORT_FIELDS = (
    ("file_number", "file_number"),
    ("worker_name", "worker_name"),
    ("per_capita_income", "per_capita_income"),
    ("status_changed_on", "status_changed_on"),
    ("next_survey_due", "next_survey_due"),
)


NULLABLE_SORTS = {"next_survey_due"}


def _nulls_last(key: str):
    field = F(key.lstrip("-"))
    return field.desc(nulls_last=True) if key.startswith("-") else field.asc(nulls_last=True)


DESCENDING = _("{}（降序）")
SORT_LABELS = {
    "file_number": _("档案编号"),
    "worker_name": _("职工姓名"),
    "per_capita_income": _("月人均收入"),
    "status_changed_on": _("状态变更日期"),
    "next_survey_due": _("下次入户调查"),
}


class HouseholdFilter(IdSearchFilterSetMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("查找"),
        method="filter_search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("档案编号、姓名开头或完整身份证号码"),
                "autocomplete": "off",
            }
        ),
    )
    status = django_filters.ChoiceFilter(
        label=pgettext_lazy("file", "状态"), choices=Status.choices, empty_label=_("全部")
    )
    primary_cause = django_filters.ModelChoiceFilter(
        label=_("主要致困原因"),
        queryset=Cause.objects.filter(is_active=True),
        empty_label=_("全部"),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("困难类别"), queryset=Category.objects.filter(is_active=True), empty_label=_("全部")
    )
    base_union = django_filters.ModelChoiceFilter(
        label=_("基层工会"), queryset=Organisation.objects.none(), empty_label=_("全部")
    )
    is_migrant_worker = django_filters.ChoiceFilter(
        label=_("农民工"), choices=YES_NO, method="filter_migrant", empty_label=_("全部")
    )
    origin = django_filters.ChoiceFilter(
        label=_("来源"),
        field_name="current_period__origin",
        choices=Origin.choices,
        empty_label=_("全部"),
    )
    survey_overdue = django_filters.ChoiceFilter(
        label=_("入户调查逾期"),
        choices=YES_NO,
        method="filter_survey_overdue",
        empty_label=_("全部"),
    )
    standing = django_filters.ChoiceFilter(
        label=_("常用清单"),
        choices=STANDING_LIST_CHOICES,
        method="filter_standing",
        empty_label=_("全部"),
    )
    sort = django_filters.OrderingFilter(
        label=_("排序"),
        empty_label=_("最新录入在前"),
        fields=SORT_FIELDS,
        # Both directions named here, lazily: django-filter would format the descending ones
        # once, at import, in whatever language was active then.
        field_labels={
            **SORT_LABELS,
            **{f"-{key}": format_lazy(DESCENDING, label) for key, label in SORT_LABELS.items()},
        },
    )

    class Meta:
        model = Household
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = request.user if request is not None else None
        self.filters["base_union"].queryset = Organisation.objects.visible_to(user).filter(
            level=Organisation.Level.BASE
        )

    @property
    def qs(self):
        # A stable order whatever the sort: ties are broken by id in the sort's own direction,
        # so PostgreSQL can walk the (column, id) index of models.Household forwards or
        # backwards instead of sorting the table.
        queryset = super().qs
        ordering = list(queryset.query.order_by) or ["-id"]
        if "-id" not in ordering and "id" not in ordering:
            ordering.append("-id" if str(ordering[-1]).startswith("-") else "id")
        # Files with no survey due (drafts, closed files) come last in both directions, not
        # first on SQLite ascending or PostgreSQL descending (pages of blanks before a date).
        ordering = [
            _nulls_last(key) if isinstance(key, str) and key.lstrip("-") in NULLABLE_SORTS else key
            for key in ordering
        ]
        return queryset.order_by(*ordering)

    def filter_search(self, queryset, name, value):
        if self.searches_id_hash:  # the box shows the masked number; `idh` is searched
            return queryset
        return selectors.search(queryset, value)

    def search_id_hash(self, queryset, key):
        return selectors.search_id_hash(queryset, key)

    def filter_migrant(self, queryset, name, value):
        return queryset.filter(is_migrant_worker=value == "true")

    def filter_survey_overdue(self, queryset, name, value):
        overdue = Q(status__in=SUPPORTED_STATUSES, next_survey_due__lt=timezone.localdate())
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)

    def filter_standing(self, queryset, name, value):
        return selectors.STANDING_LISTS[value](self.request.user, base=queryset)
