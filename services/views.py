"""Staff pages of the service centre. Views are thin: they check the permission, find the
object in the user's scope (404 outside it) and call a service."""

from datetime import date
from functools import partial

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, TemplateView

from orgs.audit import log_access
from orgs.models import AccessLog, Organisation
from orgs.pii import FULL_NUMBERS, masks_phones
from orgs.web import (
    IdSearchListMixin,
    ScopedFilterListView,
    add_service_errors,
    hides_personal_numbers,
    typed_key,
)
from services import selectors
from services.filters import CaseFilter, JobReferralFilter, LegalAidFilter, TrainingCourseFilter
from services.forms import (
    CaseForm,
    CloseCaseForm,
    FollowUpForm,
    JobReferralForm,
    LegalAidForm,
    QuickCaseForm,
    ReferCaseForm,
    ReopenCaseForm,
    TrainingAttendeeForm,
    TrainingCourseForm,
)
from services.models import Case, JobReferral, LegalAidCase, TrainingAttendee, TrainingCourse
from services.services import (
    CASE_CLOSED_MESSAGE,
    attendee_save,
    case_close,
    case_create,
    case_follow_up,
    case_refer,
    case_reopen,
    case_update,
    course_save,
    legal_aid_save,
    referral_save,
)
from services.validators import normalise_id_number

# --- Cases --------------------------------------------------------------------------------


@hides_personal_numbers
class CaseListView(IdSearchListMixin, ScopedFilterListView):
    permission_required = "services.view_case"
    filterset_class = CaseFilter
    template_name = "services/case_list.html"

    def get_queryset(self):
        return selectors.case_list(user=self.request.user).order_by("-received_at", "-pk")


@hides_personal_numbers
class CaseCreateView(PermissionRequiredMixin, FormView):
    """Quick entry at the counter: save, then an empty form for the next worker."""

    permission_required = "services.add_case"
    form_class = QuickCaseForm
    template_name = "services/case_create.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        kwargs["instance"] = Case()
        return kwargs

    def get_initial(self):
        # A window may be chosen from a link such as ?window=legal_aid.
        return {"window": self.request.GET["window"]} if "window" in self.request.GET else {}

    def form_valid(self, form):
        try:
            case = case_create(
                user=self.request.user,
                case=form.save(commit=False),
                close_now=form.cleaned_data["close_now"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("已登记：%(name)s，%(window)s。")
                % {"name": case.worker_name, "window": case.window},
                reverse("services:case_detail", args=[case.pk]),
                _("查看"),
            ),
        )
        return redirect("services:case_create")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        if form.is_bound:  # after an error, show the earlier cases without waiting for typing
            # Matched as the hint matches them for this user (EarlierCasesView): a refused post
            # must not answer what the hint keeps back.
            context["earlier"] = selectors.earlier_cases_as_typed(
                user=self.request.user, typed=form.data
            )
        return context


@hides_personal_numbers
class EarlierCasesView(PermissionRequiredMixin, TemplateView):
    """The worker's earlier cases while name, phone or ID are typed (an htmx fragment). Posted
    (the entry form's CSRF token goes with it): the ID number stays out of URLs and so out of
    access logs; posting reads only, so the reports' replica routing is left alone."""

    # For the entry and edit forms: who enters or changes cases (CSA), not who only reads them.
    permission_required = "services.change_case"
    template_name = "services/_earlier_cases.html"
    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        request.reads_only = True  # reports.routing.RecentWriteMiddleware
        return self.render_to_response(self.get_context_data(**kwargs))

    def get_context_data(self, **kwargs):
        params, user = self.request.POST, self.request.user
        exclude = params.get("exclude", "")
        # Who sees numbers masked (an administrator) is matched on the name only (the selector),
        # and is not told whether a typed ID number has a household file either.
        earlier = selectors.earlier_cases_as_typed(
            user=user, typed=params, exclude_pk=typed_key(exclude)
        )
        household = None
        if user.has_perm("households.view_household") and not masks_phones(user):
            household = selectors.household_for_worker(
                user=user, id_number=_full_id(params.get("worker_id_number", ""))
            )
        return super().get_context_data(earlier=earlier, household=household, **kwargs)


def _full_id(value: str) -> str:
    value = normalise_id_number(value)  # a 15-digit number in its 18-character form
    return value if len(value) == 18 else ""


class CaseObjectMixin(PermissionRequiredMixin):
    """The case in the user's scope, or 404."""

    def get_case(self) -> Case:
        if not hasattr(self, "_case"):
            self._case = get_object_or_404(
                selectors.case_list(user=self.request.user), pk=self.kwargs["pk"]
            )
        return self._case


@hides_personal_numbers
class CaseDetailView(CaseObjectMixin, DetailView):
    permission_required = "services.view_case"
    template_name = "services/case_detail.html"
    context_object_name = "case"

    def get_object(self, queryset=None):
        return self.get_case()

    revealed = False

    def post(self, request, *args, **kwargs):
        """显示完整号码: the full ID number, for roles that need it, logged."""
        if not request.user.has_perm(FULL_NUMBERS):
            raise PermissionDenied
        self.object = self.get_object()
        log_access(request, action=AccessLog.Action.REVEAL, obj=self.object)
        self.revealed = True
        return self.render_to_response(self.get_context_data(object=self.object))

    def get_context_data(self, **kwargs):
        case = self.object
        user = self.request.user
        can_reveal = bool(case.worker_id_number) and user.has_perm(FULL_NUMBERS)
        revealed = can_reveal and self.revealed
        return super().get_context_data(
            events=case.events.select_related("actor"),
            changes=selectors.case_changes(case, mask_phones=masks_phones(user)),
            legal_aid=LegalAidCase.objects.filter(case=case).first(),
            referrals=case.job_referrals.visible_to(user),
            household=selectors.case_household(user=user, case=case),
            earlier=selectors.earlier_cases(
                user=user,
                name=case.worker_name,
                phone=case.worker_phone,
                id_number=case.worker_id_number,
                exclude_pk=case.pk,
            ),
            can_change=user.has_perm("services.change_case"),
            can_reveal=can_reveal,
            revealed=revealed,
            filing=_filing(user, case),
            **kwargs,
        )


def _filing(user, case: Case) -> dict | None:
    """为其建档 on a case without a household file, for who may start files: the entry form
    started from the case, or the worker's file already in the user's scope (已有档案)."""
    if case.household_id is not None or not user.has_perm("households.add_household"):
        return None
    existing = selectors.existing_file_for_case(user=user, case=case)
    if existing is not None:
        return {"existing": existing}
    return {"url": reverse("households:create") + f"?case={case.pk}"}


@partial(hides_personal_numbers, methods=("get", "post"))
class CaseUpdateView(CaseObjectMixin, FormView):
    permission_required = "services.change_case"
    form_class = CaseForm
    template_name = "services/case_form.html"

    def get(self, request, *args, **kwargs):
        case = self.get_case()
        if case.is_closed:
            messages.error(request, CASE_CLOSED_MESSAGE)
            return redirect("services:case_detail", pk=case.pk)
        if case.worker_id_number and request.user.has_perm(FULL_NUMBERS):
            # The form shows the full number.
            log_access(request, action=AccessLog.Action.REVEAL, obj=case, detail="edit")
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "instance": self.get_case()}

    def form_valid(self, form):
        try:
            case = case_update(
                user=self.request.user,
                case=form.save(commit=False),
                follow_up_shown=form.cleaned_data["follow_up_on_shown"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("案件已保存。"))
        return redirect("services:case_detail", pk=case.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(case=self.get_case(), **kwargs)


class CaseActionView(CaseObjectMixin, FormView):
    """Close, refer or reopen: a small form whose valid data goes to one service."""

    permission_required = "services.change_case"
    template_name = "services/case_action.html"
    title = ""
    success_message = ""

    def perform(self, case: Case, data: dict) -> None:
        raise NotImplementedError

    def form_valid(self, form):
        case = self.get_case()
        try:
            self.perform(case, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return redirect("services:case_detail", pk=case.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(case=self.get_case(), title=self.title, **kwargs)


class CaseCloseView(CaseActionView):
    form_class = CloseCaseForm

    title = gettext_lazy("办结案件")
    success_message = gettext_lazy("案件已办结。")

    def get_initial(self):
        return {"outcome": self.get_case().outcome}

    def perform(self, case, data):
        case_close(user=self.request.user, case=case, outcome=data["outcome"])


class CaseReferView(CaseActionView):
    form_class = ReferCaseForm

    title = gettext_lazy("转办案件")
    success_message = gettext_lazy("案件已转办。")

    def perform(self, case, data):
        case_refer(
            user=self.request.user, case=case, referred_to=data["referred_to"], note=data["note"]
        )


class CaseReopenView(CaseActionView):
    form_class = ReopenCaseForm

    title = gettext_lazy("重新打开案件")
    success_message = gettext_lazy("案件已重新打开，可以修改。")

    def perform(self, case, data):
        case_reopen(user=self.request.user, case=case, reason=data["reason"])


class CaseFollowUpView(CaseActionView):
    form_class = FollowUpForm

    title = gettext_lazy("记录跟进")
    success_message = gettext_lazy("已记录跟进。")

    def perform(self, case, data):
        case_follow_up(
            user=self.request.user, case=case, note=data["note"], next_on=data["next_on"]
        )


# --- Legal aid ---------------------------------------------------------------------------


@hides_personal_numbers
class LegalAidListView(IdSearchListMixin, ScopedFilterListView):
    permission_required = "services.view_legalaidcase"
    filterset_class = LegalAidFilter
    template_name = "services/legalaid_list.html"

    def get_queryset(self):
        return (
            LegalAidCase.objects.visible_to(self.request.user)
            .select_related("case", "case__organisation")
            .order_by("-case__received_at", "-pk")
        )


class LegalAidEditView(CaseObjectMixin, FormView):
    """The legal-aid details of a case: created on first save, changed afterwards."""

    form_class = LegalAidForm
    template_name = "services/legalaid_form.html"

    def get_permission_required(self):
        # Another county's case is not found (404), whichever permission the page would need.
        exists = LegalAidCase.objects.filter(case=self.get_case()).exists()
        return ["services.change_legalaidcase" if exists else "services.add_legalaidcase"]

    def get_form_kwargs(self):
        case = self.get_case()
        instance = LegalAidCase.objects.filter(case=case).first()
        if instance is None:
            household = selectors.case_household(user=self.request.user, case=case)
            instance = LegalAidCase(
                case=case, is_migrant_worker=bool(household and household.is_migrant_worker)
            )
        return {**super().get_form_kwargs(), "instance": instance}

    def form_valid(self, form):
        try:
            legal_aid_save(user=self.request.user, legal_aid=form.save(commit=False))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("法律援助信息已保存。"))
        return redirect("services:case_detail", pk=self.get_case().pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(case=self.get_case(), **kwargs)


# --- Job referrals -----------------------------------------------------------------------


@hides_personal_numbers
class JobReferralListView(IdSearchListMixin, ScopedFilterListView):
    permission_required = "services.view_jobreferral"
    filterset_class = JobReferralFilter
    template_name = "services/referral_list.html"

    def get_queryset(self):
        return (
            JobReferral.objects.visible_to(self.request.user)
            .select_related("organisation")
            .order_by("-referred_on", "-pk")
        )


@partial(hides_personal_numbers, methods=("get", "post"))
class JobReferralEditView(PermissionRequiredMixin, FormView):
    form_class = JobReferralForm
    template_name = "services/referral_form.html"

    def get_permission_required(self):
        return [
            "services.change_jobreferral" if "pk" in self.kwargs else "services.add_jobreferral"
        ]

    def get_referral(self) -> JobReferral:
        if "pk" in self.kwargs:
            return get_object_or_404(
                JobReferral.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
            )
        return JobReferral()

    def get(self, request, *args, **kwargs):
        # The form shows a full ID number (the referral's own, or the case's it starts from) to
        # roles that may see it: a view of personal data, logged as the case page logs it.
        if request.user.has_perm(FULL_NUMBERS):
            referral = self.get_referral()
            shown = referral if referral.worker_id_number else self.starting_case()
            if shown is not None and shown.worker_id_number:
                log_access(request, action=AccessLog.Action.REVEAL, obj=shown, detail="referral")
        return super().get(request, *args, **kwargs)

    def starting_case(self) -> Case | None:
        """The case a new referral starts from (?case=), if the user may see it."""
        key = typed_key(self.request.GET.get("case"))  # "²" is no case
        if "pk" in self.kwargs or key is None:
            return None
        return selectors.case_list(user=self.request.user).filter(pk=key).first()

    def get_initial(self):
        """A referral started from a case takes over the case's worker."""
        case = self.starting_case()
        if case is None:
            return {}
        initial = {
            "case": case.pk,
            "worker_name": case.worker_name,
            # Kept out of the page for who sees phones masked, and kept on saving when the box
            # is left empty (the form's hide_stored_phone; the form posts back to this URL).
            "worker_phone": case.worker_phone,
            "organisation": case.organisation_id,
        }
        if self.request.user.has_perm(FULL_NUMBERS):  # otherwise taken on saving
            initial["worker_id_number"] = case.worker_id_number
        return initial

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        return {**kwargs, "user": self.request.user, "instance": self.get_referral()}

    def form_valid(self, form):
        try:
            referral_save(user=self.request.user, referral=form.save(commit=False))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("职业介绍已保存。"))
        return redirect("services:referral_list")


# --- Trainings ---------------------------------------------------------------------------


class TrainingCourseListView(ScopedFilterListView):
    permission_required = "services.view_trainingcourse"
    filterset_class = TrainingCourseFilter
    template_name = "services/course_list.html"

    def get_queryset(self):
        return (
            TrainingCourse.objects.visible_to(self.request.user)
            .select_related("organisation")
            .annotate(
                attendee_count=Count("attendees"),
                certificate_count=Count(
                    "attendees", filter=Q(attendees__certificate_obtained=True)
                ),
            )
            .order_by("-starts_on", "-pk")
        )


class TrainingCourseEditView(PermissionRequiredMixin, FormView):
    form_class = TrainingCourseForm
    template_name = "services/course_form.html"

    def get_permission_required(self):
        if "pk" in self.kwargs:
            return ["services.change_trainingcourse"]
        return ["services.add_trainingcourse"]

    def get_form_kwargs(self):
        course = (
            get_object_or_404(
                TrainingCourse.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
            )
            if "pk" in self.kwargs
            else TrainingCourse()
        )
        return {**super().get_form_kwargs(), "user": self.request.user, "instance": course}

    def form_valid(self, form):
        try:
            course = course_save(user=self.request.user, course=form.save(commit=False))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("培训班已保存。"))
        return redirect("services:course_detail", pk=course.pk)


class TrainingCourseDetailView(PermissionRequiredMixin, DetailView):
    """The course and its attendees, with a form to add the next attendee."""

    permission_required = "services.view_trainingcourse"
    template_name = "services/course_detail.html"
    context_object_name = "course"

    def get_queryset(self):
        return TrainingCourse.objects.visible_to(self.request.user).select_related("organisation")

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            attendees=self.object.attendees.all(),
            attendee_form=TrainingAttendeeForm()
            if user.has_perm("services.add_trainingattendee")
            else None,
            can_change=user.has_perm("services.change_trainingcourse"),
            can_change_attendee=user.has_perm("services.change_trainingattendee"),
            **kwargs,
        )


@partial(hides_personal_numbers, methods=("get", "post"))
class TrainingAttendeeEditView(PermissionRequiredMixin, FormView):
    """Add an attendee to a course (course pk) or change one (attendee pk)."""

    form_class = TrainingAttendeeForm
    template_name = "services/attendee_form.html"

    def get_permission_required(self):
        if "pk" in self.kwargs:
            return ["services.change_trainingattendee"]
        return ["services.add_trainingattendee"]

    def get_attendee(self) -> TrainingAttendee:
        if not hasattr(self, "_attendee"):
            user = self.request.user
            if "pk" in self.kwargs:
                self._attendee = get_object_or_404(
                    TrainingAttendee.objects.visible_to(user).select_related("course"),
                    pk=self.kwargs["pk"],
                )
            else:
                course = get_object_or_404(
                    TrainingCourse.objects.visible_to(user), pk=self.kwargs["course_pk"]
                )
                self._attendee = TrainingAttendee(course=course)
        return self._attendee

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        return {**kwargs, "instance": self.get_attendee(), "user": self.request.user}

    def form_valid(self, form):
        try:
            attendee = attendee_save(user=self.request.user, attendee=form.save(commit=False))
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("学员已保存：%(name)s。") % {"name": attendee.worker_name})
        return redirect("services:course_detail", pk=attendee.course_id)

    def get_context_data(self, **kwargs):
        return super().get_context_data(course=self.get_attendee().course, **kwargs)


# --- Statistics --------------------------------------------------------------------------


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


class StatisticsView(PermissionRequiredMixin, TemplateView):
    """Yearly and monthly counts per window and channel, cases closed within N days, wages
    recovered, placements, trainees and certificates; `?format=json` gives the summary data."""

    permission_required = "services.view_case"
    template_name = "services/statistics.html"

    def get_scope(self):
        code = self.request.GET.get("organisation", "")
        if code:
            # A code names its organisation whatever the case of its letters (unique so).
            visible = Organisation.objects.visible_to(self.request.user)
            return get_object_or_404(visible, code__iexact=code)
        return self.request.user

    def get(self, request, *args, **kwargs):
        this_year = timezone.localdate().year
        # A year to come has no figures yet: asked for, this year's are shown.
        self.year = _int_param(request, "year", this_year, 2000, this_year)
        self.days = _int_param(request, "days", 15, 1, 365)
        self.scope = self.get_scope()
        self.summary = selectors.service_centre_summary(
            organisations_qs_or_user_scope=self.scope,
            date_from=date(self.year, 1, 1),
            date_to=date(self.year, 12, 31),
        )
        if request.GET.get("format") == "json":
            return JsonResponse(
                self.summary, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False}
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        stats = selectors.case_statistics(scope=self.scope, year=self.year, within_days=self.days)
        windows = stats["windows"]
        channels = Case.Channel.choices
        window_rows = [
            {
                "label": str(window),
                "retired": not window.is_active,
                "cells": [stats["window_channel"].get((window.code, c), 0) for c, _l in channels],
                "total": self.summary["cases_by_window"].get(window.code, 0),
            }
            for window in windows
        ]
        month_rows = [
            {
                "month": month,
                "windows": [stats["month_window"].get((month, w.code), 0) for w in windows],
                "channels": [stats["month_channel"].get((month, c), 0) for c, _l in channels],
                "total": sum(n for (m, _c), n in stats["month_channel"].items() if m == month),
            }
            for month in range(1, 13)
        ]
        this_year = timezone.localdate().year
        return super().get_context_data(
            year=self.year,
            years=range(this_year, this_year - 6, -1),
            days=self.days,
            scope_org=self.scope if isinstance(self.scope, Organisation) else None,
            organisations=Organisation.objects.visible_to(self.request.user).filter(
                level__in=[
                    Organisation.Level.REGION,
                    Organisation.Level.CITY,
                    Organisation.Level.COUNTY,
                ]
            ),
            summary=self.summary,
            stats=stats,
            windows=windows,
            channels=channels,
            channel_totals=[self.summary["cases_by_channel"][c] for c, _l in channels],
            window_rows=window_rows,
            month_rows=month_rows,
            **kwargs,
        )
