from datetime import date

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import DateRangeField
from django_filters.widgets import RangeWidget

from orgs.models import Organisation, User
from orgs.pii import keyed_hash
from services.models import Case, JobReferral, LegalAidCase, TrainingCourse, Window
from services.validators import normalise_id_number


def _users(request):
    return User.objects.visible_to(request.user).order_by("username")


def _organisations(request):
    return Organisation.objects.visible_to(request.user)


def _worker_search(queryset, prefix: str, value: str):
    """Name or phone contains the text; an 18-character ID number matches exactly (its hash)."""
    value = value.strip()
    if not value:
        return queryset
    number = normalise_id_number(value)
    if len(number) == 18:
        return queryset.filter(**{f"{prefix}worker_id_hash": keyed_hash(number)})
    return queryset.filter(
        Q(**{f"{prefix}worker_name__icontains": value})
        | Q(**{f"{prefix}worker_phone__contains": value})
    )


def _subtree(field: str):
    def method(queryset, name, value):
        return queryset.filter(**{f"{field}__path__startswith": value.path}) if value else queryset

    return method


DATE_RANGE = RangeWidget(attrs={"type": "date"})
FIRST_DAY, LAST_DAY = date(1949, 10, 1), date(2100, 12, 31)


class DayRangeField(DateRangeField):
    """A from–to date range within sensible years: a typed 0001-01-01 would otherwise overflow
    when the day becomes a time in the database's time zone."""

    def compress(self, data_list):
        for day in data_list or ():
            if day and not FIRST_DAY <= day <= LAST_DAY:
                raise ValidationError(
                    _("日期应在 %(first)s 至 %(last)s 之间。")
                    % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
                )
        return super().compress(data_list)


class DayRangeFilter(django_filters.DateFromToRangeFilter):
    field_class = DayRangeField


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("职工"), method=lambda qs, name, value: _worker_search(qs, "", value)
    )
    window = django_filters.ModelChoiceFilter(
        label=_("窗口"), queryset=Window.objects.all(), to_field_name="code"
    )
    channel = django_filters.ChoiceFilter(label=_("渠道"), choices=Case.Channel.choices)
    status = django_filters.ChoiceFilter(label=_("状态"), choices=Case.Status.choices)
    received = DayRangeFilter(label=_("登记日期"), field_name="received_at", widget=DATE_RANGE)
    handler = django_filters.ModelChoiceFilter(label=_("经办人"), queryset=_users)
    organisation = django_filters.ModelChoiceFilter(
        label=_("组织"), queryset=_organisations, method=_subtree("organisation")
    )
    overdue = django_filters.BooleanFilter(
        label=_("跟进逾期"), method="filter_overdue", widget=forms.CheckboxInput
    )

    class Meta:
        model = Case
        fields = []

    def filter_overdue(self, queryset, name, value):
        return queryset.follow_up_overdue(timezone.localdate()) if value else queryset


class LegalAidFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("职工"), method=lambda qs, name, value: _worker_search(qs, "case__", value)
    )
    dispute_type = django_filters.ChoiceFilter(
        label=_("纠纷类型"), choices=LegalAidCase.DisputeType.choices
    )
    is_migrant_worker = django_filters.BooleanFilter(label=_("农民工"))
    received = DayRangeFilter(
        label=_("登记日期"), field_name="case__received_at", widget=DATE_RANGE
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("组织"), queryset=_organisations, method=_subtree("case__organisation")
    )

    class Meta:
        model = LegalAidCase
        fields = []


class JobReferralFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("职工"), method=lambda qs, name, value: _worker_search(qs, "", value)
    )
    result = django_filters.ChoiceFilter(label=_("结果"), choices=JobReferral.Result.choices)
    referred_on = DayRangeFilter(label=_("介绍日期"), widget=DATE_RANGE)
    organisation = django_filters.ModelChoiceFilter(
        label=_("组织"), queryset=_organisations, method=_subtree("organisation")
    )

    class Meta:
        model = JobReferral
        fields = []


class TrainingCourseFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label=_("培训名称"), lookup_expr="icontains")
    starts_on = DayRangeFilter(label=_("开始日期"), widget=DATE_RANGE)
    organisation = django_filters.ModelChoiceFilter(
        label=_("组织"), queryset=_organisations, method=_subtree("organisation")
    )

    class Meta:
        model = TrainingCourse
        fields = []
