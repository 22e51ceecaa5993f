"""List filters of the funds pages; organisation choices come from the user's subtree."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from funds import selectors
from funds.forms import SEARCH_PLACEHOLDER
from funds.models import AssistanceType, EntryKind, FundSource, RequestState
from orgs import idsearch
from orgs.models import Organisation
from orgs.web import IdSearchFilterSetMixin


def _organisations(request):
    return Organisation.objects.visible_to(request.user)


def _subtree(queryset, name, value):
    return queryset.filter(organisation__path__startswith=value.path) if value else queryset


class RequestFilter(IdSearchFilterSetMixin, django_filters.FilterSet):
    """The request list's filters. Its box `q` is posted: a full ID number typed there finds the
    requests of the worker's or a member's file by the number's keyed hash, `idh`."""

    q = django_filters.CharFilter(
        label=_("档案编号或姓名"),
        method="search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": SEARCH_PLACEHOLDER, "autocomplete": "off"}
        ),
    )
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
    # What finance reviews afterwards: the bank paid a file not on file when its bank file
    # was made (the payment is booked as the bank made it, and marked); money still reserved
    # for a file exited or deregistered since (approved before, or a payment reversed), which
    # no bank file takes and only a payment dated while it was on file may settle.
    review = django_filters.ChoiceFilter(
        label=_("待核查"),
        choices=[
            ("paid_to_closed_file", _("已发放但档案不在档")),
            ("unpaid_closed_file", _("未发放但档案不在档")),
        ],
        method="needs_review",
    )

    # The supervisor's work list (awaiting_approval): the "my work" panel and the funds index
    # count it and link here, so the list shows the same requests as the count.
    mine = django_filters.BooleanFilter(
        label=_("待我审批"), method="awaiting_me", widget=forms.CheckboxInput
    )

    # The clerks' work list (failed_payments): the "my work" row and the funds index count it
    # and link here.
    correct = django_filters.BooleanFilter(
        label=_("待更正账号"), method="to_correct", widget=forms.CheckboxInput
    )

    def to_correct(self, queryset, name, value):
        return selectors.failed_to_correct(queryset) if value else queryset

    def awaiting_me(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(pk__in=selectors.awaiting_approval(user=self.request.user))

    def needs_review(self, queryset, name, value):
        if value == "paid_to_closed_file":
            return queryset.filter(state=RequestState.PAID, paid_to_closed_file=True)
        if value == "unpaid_closed_file":
            return selectors.unpaid_of_closed_files(queryset)
        return queryset

    def search(self, queryset, name, value):
        if self.searches_id_hash:  # the box shows the masked number; `idh` is searched
            return queryset
        value = value.strip()
        if not value:
            return queryset
        if number := idsearch.id_number_in(value):  # the list's box never passes one here
            return self.search_id_hash(queryset, idsearch.search_hash(number))
        if value[:1].isdigit():
            return queryset.filter(household__file_number__startswith=value)
        return queryset.filter(household__worker_name__startswith=value)

    def search_id_hash(self, queryset, key):
        return selectors.requests_by_id_hash(queryset, key)


class LedgerFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(
        label=_("组织"), queryset=_organisations, method=_subtree
    )
    source = django_filters.ModelChoiceFilter(
        label=_("资金来源"), queryset=FundSource.objects.all(), to_field_name="code"
    )
    kind = django_filters.ChoiceFilter(label=_("类别"), choices=EntryKind.choices)
    year = django_filters.NumberFilter(label=_("年度"))
