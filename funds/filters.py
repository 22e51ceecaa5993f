"""List filters of the funds pages; organisation choices come from the user's subtree."""

import django_filters
from django.utils.translation import gettext_lazy as _

from funds.models import AssistanceType, EntryKind, FundSource, RequestState
from orgs.models import Organisation


def _organisations(request):
    return Organisation.objects.visible_to(request.user)


def _subtree(queryset, name, value):
    return queryset.filter(organisation__path__startswith=value.path) if value else queryset


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("档案编号或姓名"), method="search")
    state = django_filters.ChoiceFilter(label=_("状态"), choices=RequestState.choices)
    assistance_type = django_filters.ModelChoiceFilter(
        label=_("帮扶项目"), queryset=AssistanceType.objects.all(), to_field_name="code"
    )
    source = django_filters.ModelChoiceFilter(
        label=_("资金来源"), queryset=FundSource.objects.all(), to_field_name="code"
    )
    year = django_filters.NumberFilter(label=_("年度"))
    organisation = django_filters.ModelChoiceFilter(
        label=_("组织"), queryset=_organisations, method=_subtree
    )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value[:1].isdigit():
            return queryset.filter(household__file_number__startswith=value)
        return queryset.filter(household__worker_name__startswith=value)


class LedgerFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(
        label=_("组织"), queryset=_organisations, method=_subtree
    )
    source = django_filters.ModelChoiceFilter(
        label=_("资金来源"), queryset=FundSource.objects.all(), to_field_name="code"
    )
    kind = django_filters.ChoiceFilter(label=_("类别"), choices=EntryKind.choices)
    year = django_filters.NumberFilter(label=_("年度"))
