from datetime import date

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters.fields import DateRangeField
from django_filters.widgets import RangeWidget

from orgs import idsearch
from orgs.models import Organisation, User
from orgs.pii import masks_phones
from orgs.web import IdSearchFilterSetMixin
from services.models import Case, JobReferral, LegalAidCase, TrainingCourse, Window


def _users(request):
    return User.objects.visible_to(request.user).order_by("username")


def _organisations(request):
    return Organisation.objects.visible_to(request.user)


def _worker_search(queryset, prefix: str, value: str, *, phone: bool = True):
    """Name or phone contains the text; an ID number matches exactly (its hash). (The lists'
    box never passes an ID number here: they search its hash, `idh`.) Not the phone (`phone`
    False) for those who see it masked: a part of it would recover the masked digits one
    request at a time, and a whole number the four hidden ones in 10,000 guesses."""
    value = value.strip()
    if not value:
        return queryset
    if number := idsearch.id_number_in(value):
        return queryset.filter(**{f"{prefix}worker_id_hash": idsearch.search_hash(number)})
    wanted = Q(**{f"{prefix}worker_name__icontains": value})
    if phone:
        wanted |= Q(**{f"{prefix}worker_phone__contains": value})
    return queryset.filter(wanted)


class WorkerSearchFilterSet(IdSearchFilterSetMixin, django_filters.FilterSet):
    """The 职工 box of the service centre's lists; a full ID number typed there is searched by
    its keyed hash, `idh` (orgs/idsearch.py)."""

    worker_prefix = ""  # the path from the listed model to the worker's fields

    q = django_filters.CharFilter(label=_("职工"), method="filter_worker")

    def filter_worker(self, queryset, name, value):
        if self.searches_id_hash:  # the box shows the masked number; `idh` is searched
            return queryset
        user = getattr(self.request, "user", None)
        return _worker_search(
            queryset,
            self.worker_prefix,
            value,
            phone=user is not None and not masks_phones(user),
        )

    def search_id_hash(self, queryset, key):
        return queryset.filter(**{f"{self.worker_prefix}worker_id_hash": key})


def _subtree(field: str):
    def method(queryset, name, value):
        return queryset.filter(**{f"{field}__path__startswith": value.path}) if value else queryset

    return method


DATE_RANGE = RangeWidget(attrs={"type": "date"})
FIRST_DAY, LAST_DAY = date(1949, 10, 1), date(2100, 12, 31)


class DayRangeField(DateRangeField):
    """A from–to date range within sensible years: a typed 0001-01-01 would otherwise overflow
    when the day becomes a time in the database's time zone. Each box carries its own name
    (登记日期（起）, 登记日期（止）) for screen readers: the field's one label can point at
    neither."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        first, last = self.widget.widgets  # the field's own copies of the shared DATE_RANGE
        first.attrs["aria-label"] = format_lazy(_("{}（起）"), self.label)
        last.attrs["aria-label"] = format_lazy(_("{}（止）"), self.label)

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


class CaseFilter(WorkerSearchFilterSet):
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


class LegalAidFilter(WorkerSearchFilterSet):
    worker_prefix = "case__"

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


class JobReferralFilter(WorkerSearchFilterSet):
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
