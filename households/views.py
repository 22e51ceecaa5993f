"""Staff pages of the household files. Views are thin: they check the permission, find the file
in the user's scope (404 outside it), call a service and put its refusals on the form."""

from dataclasses import dataclass
from functools import partial

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from households import late_entries, selectors, services, spotchecks
from households.eligibility import EXCLUSIONS
from households.file_pdf import file_pdf_response
from households.filters import (
    SORT_FIELDS,
    STANDING_LIST_CHOICES,
    STANDING_SORTS,
    HouseholdFilter,
    standing_url,
)
from households.forms import (
    ClosureDecisionForm,
    ClosureRequestForm,
    DocumentUploadForm,
    HouseholdForm,
    LateEntryFilterForm,
    MemberFormSet,
    NoticeStartForm,
    ObjectionForm,
    ObjectionResolveForm,
    SpotCheckDrawForm,
    SpotCheckForm,
    SurveyForm,
    TransitionForm,
    add_service_errors,
    member_initial,
)
from households.letter_pdf import has_letter, letter_pdf_response, may_print_letters
from households.models import (
    SUPPORTED_STATUSES,
    Category,
    ClosureRequest,
    Document,
    Household,
    Member,
    Objection,
    PublicNotice,
    SpotCheck,
    SpotCheckSample,
    Status,
)
from households.notice_pdf import notice_pdf_response
from households.timeline import timeline_for
from households.workflow import DIRECT_ACTIONS, STEPS, allowed_actions
from orgs.audit import log_access
from orgs.calendar import years_without_calendar
from orgs.models import AccessLog, Organisation
from orgs.money import ZERO, yuan_text
from orgs.pii import FULL_NUMBERS, mask_phone, masks_phones
from orgs.scoping import user_can_reach
from orgs.text import listing
from orgs.web import PAGE_SIZE, IdSearchListMixin, hides_personal_numbers, typed_key
from services import selectors as case_selectors
from services.services import case_link_household

PAGE_SIZES = (25, 50, 100)
# Beyond any list (25 million files at the smallest size; a national deployment holds five),
# and far below the 64-bit OFFSET the databases take: a larger page number is a 404, not a 500.
MAX_PAGE = 1_000_000
CLERK = "households.change_household"
SUPERVISOR = "households.approve_household"
STANDING_ROWS = 10
# The list's total counts matches up to here, and says "more than" beyond: the count reads at most
# this many rows, never the whole (possibly million-row) result (HouseholdCountView).
COUNT_CAP = 10_000


# --- Pagination without COUNT(*) ----------------------------------------------------------------


@dataclass
class Page:
    """One page of a list fetched as page_size + 1 rows: the extra row says a next page exists,
    so the database never counts the whole (possibly million-row) result."""

    object_list: list
    number: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def count_up_to(queryset, cap: int) -> int:
    """How many rows match, counting no further than cap + 1 (more than `cap` if it says so)."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def _positive_int(value, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def page_of(queryset, *, number: int, size: int) -> Page:
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Page(object_list=rows[:size], number=number, size=size, has_next=len(rows) > size)


def _query(params, **changes) -> str:
    """The current query string with some parameters changed (None removes one)."""
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


# --- Lists --------------------------------------------------------------------------------------


@hides_personal_numbers
class HouseholdListView(PermissionRequiredMixin, IdSearchListMixin, TemplateView):
    """The files in scope. The search form is posted: a full ID number in the box is searched by
    its keyed hash (`idh`), never put in the address (orgs/idsearch.py)."""

    permission_required = "households.view_household"
    template_name = "households/household_list.html"

    def filtered(self):
        """The filter form and the files in scope it matches (none while it is invalid)."""
        filterset = HouseholdFilter(
            self.id_search_data(),
            queryset=selectors.household_list(user=self.request.user),
            request=self.request,
        )
        if filterset.is_bound and not filterset.is_valid():
            return filterset, filterset.queryset.none()
        return filterset, filterset.qs

    def get_context_data(self, **kwargs):
        params = self.request.GET
        filterset, queryset = self.filtered()
        size = _positive_int(params.get("size"), PAGE_SIZES[0])
        if size not in PAGE_SIZES:
            size = PAGE_SIZES[0]
        number = _positive_int(params.get("page"), 1)
        if number > MAX_PAGE:
            raise Http404
        page = page_of(queryset, number=number, size=size)
        current = params.get("sort", "")
        columns = {}
        for field, _param in SORT_FIELDS:
            descending = current == f"-{field}"
            ascending = current == field
            columns[field] = {
                "url": "?"
                + _query(params, sort=field if not ascending else f"-{field}", page=None),
                "order": "ascending" if ascending else "descending" if descending else "",
            }
        return super().get_context_data(
            filter=filterset,
            page=page,
            households=page.object_list,
            columns=columns,
            page_sizes=[
                {
                    "size": n,
                    "url": "?" + _query(params, size=str(n), page=None),
                    "current": n == size,
                }
                for n in PAGE_SIZES
            ],
            previous_url="?" + _query(params, page=str(page.previous_page_number)),
            next_url="?" + _query(params, page=str(page.next_page_number)),
            first_url="?" + _query(params, page=None),
            can_create=self.request.user.has_perm("households.add_household"),
            today=timezone.localdate(),
            **kwargs,
        )


class HouseholdCountView(HouseholdListView):
    """How many files the list's filters match ("共 1,234 户"), fetched by the list page once it
    is shown: counting up to COUNT_CAP + 1 matches takes up to a second on a million files with
    a narrow filter, which the page itself (≤ 100 ms, README "Benchmarks") does not wait for."""

    template_name = "households/_list_total.html"
    http_method_names = ["get"]  # the search form posts to the list

    def get_context_data(self, **kwargs):
        _filterset, queryset = self.filtered()
        return {"total": count_up_to(queryset, COUNT_CAP), "count_cap": COUNT_CAP}


class StandingListsView(PermissionRequiredMixin, TemplateView):
    """The standing lists of the national system, each with its first rows and a link to the
    full, filtered list."""

    permission_required = "households.view_household"
    template_name = "households/standing_lists.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        lists = []
        for key, label in STANDING_LIST_CHOICES:
            found = selectors.STANDING_LISTS[key](user).select_related("organisation")
            order = ("-id",)
            if key in STANDING_SORTS:
                order = (F(STANDING_SORTS[key]).asc(nulls_last=True), "id")
            found = found.defer("id_number", "bank_account").order_by(*order)
            rows = list(found[: STANDING_ROWS + 1])
            lists.append(
                {
                    "key": key,
                    "label": label,
                    "households": rows[:STANDING_ROWS],
                    "more": len(rows) > STANDING_ROWS,
                    "url": standing_url(key),
                }
            )
        return super().get_context_data(lists=lists, **kwargs)


# --- One file -----------------------------------------------------------------------------------


class HouseholdScopeMixin(PermissionRequiredMixin):
    """The household of the URL, in the user's scope, or 404."""

    def get_household(self) -> Household:
        if not hasattr(self, "_household"):
            self._household = get_object_or_404(
                Household.objects.visible_to(self.request.user).select_related(
                    "organisation",
                    "base_union",
                    "primary_cause",
                    "category",
                    "responsible_staff",
                    "created_by",
                    "current_period__notice__organisation",
                ),
                pk=self.kwargs["pk"],
            )
        return self._household

    def detail_url(self, anchor: str = "") -> str:
        url = reverse("households:detail", args=[self.get_household().pk])
        return f"{url}#{anchor}" if anchor else url

    def get_context_data(self, **kwargs):
        kwargs.setdefault("household", self.get_household())
        return super().get_context_data(**kwargs)


def members_of(household: Household) -> list[Member]:
    """The worker first, then the others in the order they were added."""
    return sorted(household.members.all(), key=lambda m: (m.relation != Member.Relation.SELF, m.pk))


def suggested_category(verdict) -> Category | None:
    if verdict is None or not verdict.category_code:
        return None
    return Category.objects.filter(code=verdict.category_code).first()


# The steps refused while a required document is missing (services.check_documents).
DOCUMENT_CHECKED_ACTIONS = ("submit", "review", "approve")


def action_forms(user, household: Household, verdict, missing=()) -> list[dict]:
    """A small form for each lifecycle step this user may take now. An application without its
    home survey offers the survey first: the review is refused until there is one. A step that
    checks the documents says which are `missing` (selectors.documents_missing)."""
    forms = []
    needs_survey = (
        household.status == Status.APPLIED
        and user.has_perm(CLERK)
        and not household.surveys.filter(period=household.current_period).exists()
    )
    if needs_survey:
        forms.append(
            {
                "action": "survey",
                "label": _("登记入户调查"),
                "url": reverse("households:survey", args=[household.pk]),
                "is_link": True,
                "primary": True,
            }
        )
    for action in allowed_actions(user, household):
        step = STEPS[action]
        reason_required = step.needs_reason or (
            action == "approve" and (verdict is None or verdict.eligible is not True)
        )
        forms.append(
            {
                "action": action,
                "label": step.label,
                "url": reverse("households:notice_start") + f"?household={household.pk}"
                if action == "start_notice"
                else reverse("households:transition", args=[household.pk, action]),
                "is_link": action == "start_notice",
                "form": TransitionForm(
                    reason_required=reason_required, action=action, prefix=f"step-{action}"
                ),
                "reason_required": reason_required,
                "shows_verdict": action == "approve",
                "documents_missing": missing if action in DOCUMENT_CHECKED_ACTIONS else (),
                "primary": action in ("submit", "approve")
                or (action == "review" and not needs_survey),
            }
        )
    return forms


class HouseholdDetailView(HouseholdScopeMixin, TemplateView):
    permission_required = "households.view_household"
    template_name = "households/household_detail.html"

    def get(self, request, *args, **kwargs):
        log_access(request, action="view_file", obj=self.get_household())
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        household = self.get_household()
        user = self.request.user
        may_change = user.has_perm(CLERK) and household.is_open
        verdict = services.verdict_for(household)
        period = household.current_period
        checklist = selectors.documents_checklist(household) if household.is_open else []
        missing = [item for item in checklist if not item.present]
        context = {
            "members": members_of(household),
            "verdict": verdict,
            "category": suggested_category(verdict),
            "migrant_errors": services.migrant_worker_errors(household),
            "secondary_causes": list(household.secondary_causes.all()),
            "actions": action_forms(user, household, verdict, missing),
            "period": period,
            "notice": period.notice if period else None,
            # A notice the city posted (maybe with other counties' files) is the city's record:
            # the sheet opens to those whose subtree holds it (NoticePdfView, visible_to).
            "may_print_notice": bool(period and period.notice)
            and user.has_perm("households.view_publicnotice")
            and user_can_reach(user, period.notice.organisation),
            "can_edit": may_change,
            "can_reveal": user.has_perm("households.view_full_identifiers"),
            # The worker's phone in full to those who work the file; masked to readers of it
            # (upper-level unions, administrators), as in the export.
            "phone": mask_phone(household.phone) if masks_phones(user) else household.phone,
            "can_survey": user.has_perm(CLERK)
            and household.status in (Status.APPLIED, *SUPPORTED_STATUSES),
            "timeline": timeline_for(household, user),
            "pending_closure": household.closures.filter(state=ClosureRequest.State.PENDING)
            .select_related("requested_by")
            .first(),
        }
        if user.has_perm("households.view_document"):
            context["documents"] = household.documents.select_related("uploaded_by").filter(
                is_active=True
            )
            context["may_download"] = user.has_perm("households.view_full_identifiers")
            context["checklist"] = checklist
            if may_change:
                context["upload_form"] = DocumentUploadForm()
        if user.has_perm("households.view_survey"):
            context["surveys"] = household.surveys.select_related("recorded_by")[:5]
        if user.has_perm("households.view_spotcheck"):
            context["spot_checks"] = list(
                spotchecks.checks_of_year(household, timezone.localdate().year)
            )
        if user.has_perm("households.view_objection") and period is not None:
            context["objections"] = list(
                Objection.objects.filter(period=period).select_related("resolved_by")
            )
            if household.status == Status.NOTICE:
                notice = period.notice
                if user.has_perm(CLERK) and notice is not None and not notice.has_started():
                    # said, rather than a form whose date can only be refused
                    context["objections_not_yet"] = objections_from(notice)
                elif user.has_perm(CLERK):
                    context["objection_form"] = ObjectionForm(notice=notice)
                if user.has_perm(SUPERVISOR):
                    context["resolve_form"] = ObjectionResolveForm()
        pending = context["pending_closure"]
        context["can_print_letter"] = may_print_letters(user) and has_letter(household)
        context["can_request_closure"] = (
            user.has_perm(CLERK) and household.status in SUPPORTED_STATUSES and pending is None
        )
        if pending is not None and user.has_perm(SUPERVISOR):
            context["decision_form"] = ClosureDecisionForm()
            context["exit_against_surveys"] = (
                pending.kind == ClosureRequest.Kind.EXITED
                and not selectors.qualifies_for_exit(household, pending.effective_date)
            )
            if pending.closes_file:
                # What the decision does to the file's requests, as on the decision's own page.
                waiting, kept = selectors.requests_at_closure(household)
                context.update(waiting_requests=waiting, kept_requests=kept)
        return super().get_context_data(**context, **kwargs)


class HouseholdFilePdfView(HouseholdScopeMixin, View):
    """打印档案表: whoever may open the file prints it, numbers masked unless ticked and their
    role may see them (file_pdf.file_pdf_response); logged."""

    permission_required = "households.view_household"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        return file_pdf_response(request, self.get_household())


@hides_personal_numbers
@method_decorator(never_cache, name="dispatch")
class RevealView(HouseholdScopeMixin, View):
    """显示完整号码: the full ID and bank numbers, for roles that need them, logged."""

    permission_required = "households.view_full_identifiers"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        household = self.get_household()
        members = [m for m in members_of(household) if m.relation != Member.Relation.SELF]
        shown = [_("身份证号码")]
        if household.bank_account:
            shown.append(_("银行账号"))
        if any(m.id_number for m in members):
            shown.append(_("家庭成员身份证号码"))
        log_access(request, action="reveal", obj=household, detail="、".join(shown))
        context = {"household": household, "members": members}
        template = (
            "households/_identifiers.html"
            if request.htmx
            else "households/household_identifiers.html"
        )
        return render(request, template, context)


# --- Create and edit ------------------------------------------------------------------------


def preview_context(form, formset, user) -> dict:
    """Per-capita income, the dibao line and the verdict of the data as typed (no writes)."""
    cleaned = getattr(form, "cleaned_data", None) or {}
    organisation = cleaned.get("organisation") or getattr(user, "organisation", None)
    if organisation is None:
        return {"verdict": None}
    worker_row = next(iter(formset.rows()), None)  # row 1, the worker's own
    worker = getattr(worker_row, "cleaned_data", None) or {}
    verdict = services.verdict_preview(
        organisation=organisation,
        member_incomes=formset.typed_incomes(),
        other_monthly=cleaned.get("other_monthly_income") or ZERO,
        rigid_annual=cleaned.get("rigid_spending_annual") or ZERO,
        causes=[cleaned.get("primary_cause"), *(cleaned.get("secondary_causes") or [])],
        accident_spending_annual=cleaned.get("accident_spending_annual") or ZERO,
        exclusions=[name for name in EXCLUSIONS if cleaned.get(name)],
        worker_retired=worker.get("employment") == Member.Employment.RETIRED,
    )
    return {"verdict": verdict, "category": suggested_category(verdict)}


@hides_personal_numbers
class HouseholdFormView(TemplateView):
    """The file and its members on one page; the members are an inline formset."""

    template_name = "households/household_form.html"

    def target(self) -> Household | None:
        """The file being edited; None while creating one."""
        return None

    def initial(self) -> dict:
        return {}

    def build(self, data=None):
        household = self.target()
        form = HouseholdForm(
            data,
            instance=household or Household(),
            user=self.request.user,
            initial=self.initial(),
        )
        formset = MemberFormSet(data, initial=member_initial(household), prefix="members")
        return form, formset

    def get(self, request, *args, **kwargs):
        form, formset = self.build()
        household = self.target()
        preview = {"verdict": services.verdict_for(household)} if household else {}
        if preview:
            preview["category"] = suggested_category(preview["verdict"])
        return self.render_to_response(self.get_context_data(form=form, formset=formset, **preview))

    def post(self, request, *args, **kwargs):
        form, formset = self.build(request.POST)
        valid = form.is_valid()
        valid = formset.is_valid() and valid
        if valid:
            household = form.save(commit=False)
            form.apply_identifiers(household)
            saved = self.target()
            existing = {m.pk: m for m in saved.members.all()} if saved else {}
            try:
                household = self.save(
                    household=household,
                    members=formset.member_data(existing),
                    secondary_causes=list(form.cleaned_data["secondary_causes"]),
                    reason=form.cleaned_data.get("change_reason", ""),
                )
            except ValidationError as error:
                add_service_errors(form, error, formset)
            else:
                return redirect("households:detail", pk=household.pk)
        return self.render_to_response(
            self.get_context_data(
                form=form, formset=formset, **preview_context(form, formset, request.user)
            )
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("household", self.target())
        return super().get_context_data(exclusion_fields=list(EXCLUSIONS), **kwargs)


@partial(hides_personal_numbers, methods=("get", "post"))  # the case's ID number, on GET too
class HouseholdCreateView(PermissionRequiredMixin, HouseholdFormView):
    """新建档案; with ?case=, 为其建档 from a service-centre case (DOMAIN.md "随时发现随时建档"):
    the worker's name, ID number and phone are read from the case, found in the user's scope
    (else 404), and the saved file is linked to the case."""

    permission_required = "households.add_household"

    def starting_case(self):
        if not hasattr(self, "_case"):
            self._case = None
            if "case" in self.request.GET:
                key = typed_key(self.request.GET["case"])
                user = self.request.user
                if key is None or not user.has_perm("services.view_case"):
                    raise Http404
                self._case = get_object_or_404(case_selectors.case_list(user=user), pk=key)
        return self._case

    def already_filed(self):
        """Where the case's worker already has a file (the case's own, or one in scope by ID
        number): a redirect there instead of a second file."""
        case = self.starting_case()
        if case is None:
            return None
        user = self.request.user
        linked = case_selectors.case_household(user=user, case=case)
        if linked is not None or case.household_id is not None:
            messages.info(self.request, _("该案件已关联困难职工档案。"))
            if linked is not None:
                return redirect("households:detail", pk=linked.pk)
            return redirect("services:case_detail", pk=case.pk)
        existing = case_selectors.existing_file_for_case(user=user, case=case)
        if existing is not None:
            messages.info(
                self.request,
                _("已有档案：%(number)s（%(name)s，%(status)s），不再新建。")
                % {
                    "number": existing.file_number,
                    "name": existing.worker_name,
                    "status": existing.get_status_display(),
                },
            )
            return redirect("households:detail", pk=existing.pk)
        return None

    def initial(self) -> dict:
        case = self.starting_case()
        if case is None:
            return {}
        initial = {"worker_name": case.worker_name, "phone": case.worker_phone}
        if case.organisation.level == Organisation.Level.BASE:
            initial["base_union"] = case.organisation_id
        else:
            initial["organisation"] = case.organisation_id
        if case.worker_id_number and self.request.user.has_perm(FULL_NUMBERS):
            initial["id_number"] = case.worker_id_number
        return initial

    def get(self, request, *args, **kwargs):
        found = self.already_filed()
        if found is not None:
            return found
        case = self.starting_case()
        if case is not None and "id_number" in self.initial():
            # The form shows the case's full ID number: a view of personal data, logged.
            log_access(request, action=AccessLog.Action.REVEAL, obj=case, detail="filing")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        found = self.already_filed()
        if found is not None:
            return found
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(case=self.starting_case(), **kwargs)

    @transaction.atomic
    def save(self, *, household, members, secondary_causes, reason):
        household = services.household_create(
            user=self.request.user,
            household=household,
            members=members,
            secondary_causes=secondary_causes,
        )
        case = self.starting_case()
        if case is not None:
            case_link_household(user=self.request.user, case=case, household=household)
        messages.success(
            self.request,
            _("已建立档案 %(number)s（草稿）。核对无误后请提交申请。")
            % {"number": household.file_number},
        )
        return household


class HouseholdUpdateView(HouseholdScopeMixin, HouseholdFormView):
    permission_required = "households.change_household"

    def target(self) -> Household:
        return self.get_household()

    def save(self, *, household, members, secondary_causes, reason):
        services.household_update(
            user=self.request.user,
            household=household,
            members=members,
            secondary_causes=secondary_causes,
            reason=reason,
        )
        messages.success(self.request, _("档案已保存。"))
        return household


@hides_personal_numbers
class PreviewView(PermissionRequiredMixin, View):
    """The live check of the entry form: an htmx fragment computed from the unsaved data."""

    http_method_names = ["post"]

    def has_permission(self):
        user = self.request.user
        return user.has_perm("households.add_household") or user.has_perm(CLERK)

    def post(self, request, *args, **kwargs):
        request.reads_only = True  # computes, writes nothing (reports.routing)
        form = HouseholdForm(request.POST, instance=Household(), user=request.user)
        formset = MemberFormSet(request.POST, prefix="members")
        form.is_valid()
        formset.is_valid()
        return render(
            request, "households/_preview.html", preview_context(form, formset, request.user)
        )


# --- Lifecycle steps --------------------------------------------------------------------------


class HouseholdStepView(HouseholdScopeMixin, FormView):
    """A form about one file that calls one service; refusals go on the form."""

    template_name = "households/step_form.html"
    title = ""
    submit_label = ""
    success_message = ""
    anchor = ""

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", self.title)
        kwargs.setdefault("submit_label", self.submit_label)
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        try:
            message = self.perform(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, message or self.success_message)
        return redirect(self.detail_url(self.anchor))


class TransitionView(HouseholdStepView):
    template_name = "households/household_transition.html"
    form_class = TransitionForm

    def dispatch(self, request, *args, **kwargs):
        self.action = kwargs["action"]
        if self.action not in DIRECT_ACTIONS:
            raise Http404
        self.step = STEPS[self.action]
        return super().dispatch(request, *args, **kwargs)

    def get_permission_required(self):
        return (self.step.permission,)

    def get(self, request, *args, **kwargs):
        if self.action == "start_notice":
            return self.to_notice_page()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.action == "start_notice":
            return self.to_notice_page()
        return super().post(request, *args, **kwargs)

    def to_notice_page(self):
        """Notices are posted in batches on their own page, this file preselected."""
        household = self.get_household()
        return redirect(reverse("households:notice_start") + f"?household={household.pk}")

    def verdict(self):
        if not hasattr(self, "_verdict"):
            self._verdict = (
                services.verdict_for(self.get_household()) if self.action == "approve" else None
            )
        return self._verdict

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        verdict = self.verdict()
        kwargs["prefix"] = f"step-{self.action}"
        kwargs["action"] = self.action
        kwargs["reason_required"] = self.step.needs_reason or (
            self.action == "approve" and (verdict is None or verdict.eligible is not True)
        )
        return kwargs

    def perform(self, form):
        household = self.get_household()
        services.transition_apply(
            user=self.request.user,
            household=household,
            action=self.action,
            reason=form.cleaned_data["reason"],
        )
        household.refresh_from_db()
        return _("%(action)s：档案 %(number)s 现为“%(status)s”。") % {
            "action": self.step.label,
            "number": household.file_number,
            "status": household.get_status_display(),
        }

    def get_context_data(self, **kwargs):
        verdict = self.verdict()
        return super().get_context_data(
            action=self.action,
            step=self.step,
            verdict=verdict,
            # What the step would refuse, said before it is asked (a refusal says it itself).
            migrant_errors=services.migrant_worker_errors(self.get_household())
            if self.action in ("submit", "approve") and self.request.method == "GET"
            else {},
            category=suggested_category(verdict),
            # A refused step whose documents are missing leads to the file's upload.
            documents_missing=selectors.documents_missing(self.get_household())
            if self.action in DOCUMENT_CHECKED_ACTIONS and self.request.method == "POST"
            else [],
            **kwargs,
        )


class SurveyView(HouseholdStepView):
    permission_required = CLERK
    template_name = "households/survey_form.html"
    form_class = SurveyForm
    title = gettext_lazy("登记入户调查")
    anchor = ""  # the top: the message and the next step (completing the review) in view

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["members"] = members_of(self.get_household())
        kwargs["surveyor"] = str(self.request.user)
        return kwargs

    def perform(self, form):
        survey = services.survey_record(
            user=self.request.user,
            household=self.get_household(),
            surveyed_on=form.cleaned_data["surveyed_on"],
            surveyors=form.cleaned_data["surveyors"],
            findings=form.cleaned_data["findings"],
            incomes=form.incomes(),
        )
        pc = yuan_text(survey.per_capita_income)
        return _("已登记入户调查，核实月人均收入 %(pc)s 元。") % {"pc": pc}


class ClosureRequestView(HouseholdStepView):
    permission_required = CLERK
    template_name = "households/closure_form.html"
    form_class = ClosureRequestForm
    title = gettext_lazy("申请解困、脱困或注销")
    submit_label = gettext_lazy("提交申请")
    anchor = "closure"

    def perform(self, form):
        closure = services.closure_request(
            user=self.request.user,
            household=self.get_household(),
            kind=form.cleaned_data["kind"],
            effective_date=form.cleaned_data["effective_date"],
            reason=form.cleaned_data["reason"],
            deregistration_reason=form.cleaned_data["deregistration_reason"],
        )
        return _("已提交%(kind)s申请，待审批。") % {"kind": closure.get_kind_display()}


def objections_from(notice) -> str:
    return _("公示自 %(day)s 开始，届时起可登记异议。") % {"day": notice.starts_on.isoformat()}


class ObjectionCreateView(HouseholdStepView):
    permission_required = CLERK
    form_class = ObjectionForm
    title = gettext_lazy("登记公示异议")
    anchor = "objections"

    def get_form_kwargs(self):
        period = self.get_household().current_period
        return {**super().get_form_kwargs(), "notice": period.notice if period else None}

    def get(self, request, *args, **kwargs):
        # A notice scheduled ahead takes no objection yet (none is dated after today).
        period = self.get_household().current_period
        notice = period.notice if period else None
        if notice is not None and not notice.has_started():
            messages.info(request, objections_from(notice))
            return redirect(self.detail_url(self.anchor))
        return super().get(request, *args, **kwargs)

    def perform(self, form):
        services.objection_record(
            user=self.request.user, household=self.get_household(), **form.cleaned_data
        )
        return _("已登记公示异议。异议处理完毕前不能审批。")


class ObjectStepView(HouseholdStepView):
    """A step about a record of a file (a closure request, an objection, a document)."""

    model = None

    def get_object(self):
        if not hasattr(self, "_object"):
            self._object = get_object_or_404(
                self.model.objects.visible_to(self.request.user).select_related(
                    "household__organisation"
                ),
                pk=self.kwargs["pk"],
            )
        return self._object

    def get_household(self) -> Household:
        return self.get_object().household

    def get_context_data(self, **kwargs):
        return super().get_context_data(object=self.get_object(), **kwargs)

    def already_done(self) -> str:
        """Why there is nothing left to do (an objection resolved, a request decided), or ""."""
        return ""

    def get(self, request, *args, **kwargs):
        # Opened from an old link or a second tab: say so at once, rather than after a form
        # filled in for nothing.
        done = self.already_done()
        if done:
            messages.info(request, done)
            return redirect(self.detail_url(self.anchor))
        return super().get(request, *args, **kwargs)


class ClosureDecideView(ObjectStepView):
    permission_required = SUPERVISOR
    model = ClosureRequest
    template_name = "households/closure_decide.html"
    form_class = ClosureDecisionForm
    title = gettext_lazy("审批退出申请")
    submit_label = gettext_lazy("提交审批意见")

    def already_done(self):
        if self.get_object().state != ClosureRequest.State.PENDING:
            return _("该申请已审批。")
        return ""

    def get_context_data(self, **kwargs):
        closure = self.get_object()
        waiting, kept = [], []
        if closure.closes_file:
            waiting, kept = selectors.requests_at_closure(closure.household)
        return super().get_context_data(waiting_requests=waiting, kept_requests=kept, **kwargs)

    def perform(self, form):
        closure = services.closure_decide(
            user=self.request.user,
            closure=self.get_object(),
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
        )
        if closure.state == ClosureRequest.State.APPROVED:
            return _("已批准%(kind)s申请。") % {"kind": closure.get_kind_display()}
        return _("已驳回%(kind)s申请。") % {"kind": closure.get_kind_display()}


class ObjectionResolveView(ObjectStepView):
    permission_required = SUPERVISOR
    model = Objection
    template_name = "households/objection_resolve.html"
    form_class = ObjectionResolveForm
    title = gettext_lazy("处理公示异议")
    anchor = "objections"

    def already_done(self):
        if self.get_object().outcome != Objection.Outcome.PENDING:
            return _("该异议已处理。")
        return ""

    def perform(self, form):
        objection = services.objection_resolve(
            user=self.request.user,
            objection=self.get_object(),
            outcome=form.cleaned_data["outcome"],
            finding=form.cleaned_data["finding"],
        )
        return _("异议已处理：%(outcome)s。") % {"outcome": objection.get_outcome_display()}


class NoticePdfView(PermissionRequiredMixin, View):
    """打印公示单 from the file page: whoever starts notices prints them too."""

    permission_required = "households.view_publicnotice"

    def get(self, request, pk):
        notice = get_object_or_404(
            PublicNotice.objects.visible_to(request.user).select_related("organisation"), pk=pk
        )
        return notice_pdf_response(request, notice)


class NoticeStartView(PermissionRequiredMixin, FormView):
    """开始公示: choose the reviewed files of the organisation and post them together."""

    permission_required = CLERK
    template_name = "households/notice_form.html"
    form_class = NoticeStartForm

    def organisations(self):
        user = self.request.user
        visible = Organisation.objects.visible_to(user)
        own = getattr(user, "organisation", None)
        not_base = ~Q(level=Organisation.Level.BASE)
        return visible.filter(not_base | Q(pk=own.pk) if own else not_base).order_by("path")

    def reviewed(self):
        return (
            Household.objects.visible_to(self.request.user)
            .filter(status=Status.REVIEWED)
            .select_related("organisation")
            .defer("id_number", "bank_account")
            .order_by("file_number")
        )

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["organisations"] = self.organisations()
        kwargs["households"] = self.reviewed()
        return kwargs

    def get_initial(self):
        user = self.request.user
        organisations = self.organisations()
        organisation = getattr(user, "organisation", None)
        if organisation is None or not organisations.filter(pk=organisation.pk).exists():
            organisation = organisations.first()
        chosen = typed_key(self.request.GET.get("household"))  # from the file's button
        return {
            "organisation": organisation,
            "objection_contact": selectors.last_objection_contact(user, organisation)
            if organisation
            else "",
            "households": [] if chosen is None else [chosen],
        }

    def form_valid(self, form):
        households = list(form.cleaned_data["households"])
        try:
            notice = services.notice_start(
                user=self.request.user,
                organisation=form.cleaned_data["organisation"],
                households=households,
                starts_on=form.cleaned_data["starts_on"],
                objection_contact=form.cleaned_data["objection_contact"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            ngettext(
                "已开始公示：%(n)d户，公示期 %(start)s 至 %(end)s。",
                "已开始公示：%(n)d户，公示期 %(start)s 至 %(end)s。",
                len(households),
            )
            % {"n": len(households), "start": notice.starts_on, "end": notice.ends_on},
        )
        missing = years_without_calendar(notice.starts_on, notice.ends_on)
        if missing:
            messages.warning(
                self.request,
                _(
                    "%(years)s年的全国节假日尚未录入：公示截止日 %(end)s 只跳过了周末，"
                    "期间如有法定节假日则偏早。请系统管理员录入节假日后核对公示期。"
                )
                % {"years": listing(str(year) for year in missing), "end": notice.ends_on},
            )
        if len(households) == 1:
            return redirect("households:detail", pk=households[0].pk)
        return redirect(reverse("households:list") + "?status=notice")


# --- Documents ----------------------------------------------------------------------------------


class DocumentUploadView(HouseholdStepView):
    permission_required = CLERK
    form_class = DocumentUploadForm
    title = gettext_lazy("上传证明材料")
    submit_label = gettext_lazy("上传")
    anchor = "documents"

    def perform(self, form):
        document = services.document_upload(
            user=self.request.user,
            household=self.get_household(),
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            issued_on=form.cleaned_data["issued_on"],
        )
        return _("已上传：%(kind)s。") % {"kind": document.get_kind_display()}


class DocumentDownloadView(PermissionRequiredMixin, View):
    """Documents are never served from MEDIA_URL: only through this view, checked and logged.
    A copy of an ID card or bank card shows the full numbers, so it takes the same permission
    as revealing them."""

    permission_required = ("households.view_document", "households.view_full_identifiers")
    http_method_names = ["get"]

    def get(self, request, pk):
        document = get_object_or_404(
            Document.objects.visible_to(request.user).select_related("household__organisation"),
            pk=pk,
        )
        log_access(
            request,
            action="download",
            obj=document,
            organisation=document.household.organisation,
            detail=f"{document.household.file_number} {document.get_kind_display()}",
        )
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        return response


class DocumentWithdrawView(ObjectStepView):
    permission_required = CLERK
    model = Document
    template_name = "households/document_withdraw.html"
    form_class = TransitionForm  # the reason
    title = gettext_lazy("作废材料")
    anchor = "documents"

    def already_done(self):
        return "" if self.get_object().is_active else _("该材料已作废。")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "reason_required": True}

    def perform(self, form):
        document = self.get_object()
        services.document_withdraw(
            user=self.request.user, document=document, reason=form.cleaned_data["reason"]
        )
        return _("已作废材料：%(name)s。") % {"name": document.original_name}


# --- 逾期录入: changes recorded more than 30 working days late ---------------------------------


class LateEntriesView(PermissionRequiredMixin, TemplateView):
    """The supervisor's list of late entries (late_entries.py), by year recorded and
    organisation, and the exit requests left waiting as long."""

    permission_required = late_entries.SUPERVISOR
    template_name = "households/late_entries.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        params = self.request.GET
        data = params if "year" in params or "organisation" in params else None
        form = LateEntryFilterForm(data, user=user, initial={"year": timezone.localdate().year})
        # An invalid filter shows its error over the unfiltered list of the year.
        chosen = form.cleaned_data if form.is_bound and form.is_valid() else {}
        year = chosen["year"] if "year" in chosen else timezone.localdate().year
        entries, waiting = late_entries.late_entries(
            user, year=year, organisation=chosen.get("organisation")
        )
        page = Paginator(entries, PAGE_SIZE).get_page(params.get("page"))
        return super().get_context_data(
            form=form,
            year=year,
            limit=late_entries.LATE_WORKING_DAYS,
            page_obj=page,
            paginator=page.paginator,
            is_paginated=page.has_other_pages(),
            query_without_page=_query(params, page=None),
            total=len(entries),
            waiting=waiting,
            **kwargs,
        )


# --- The yearly spot-check of files (年度档案抽查) ---------------------------------------------


class SpotCheckListView(PermissionRequiredMixin, FormView):
    """The year's draws in scope with their progress, and the draw form for who draws."""

    permission_required = "households.view_spotchecksample"
    form_class = SpotCheckDrawForm
    template_name = "households/spotcheck_list.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        samples = spotchecks.with_progress(
            SpotCheckSample.objects.visible_to(self.request.user)
        ).select_related("organisation", "drawn_by")
        return super().get_context_data(
            samples=samples.order_by("-year", "organisation__path")[:PAGE_SIZE],
            can_draw=self.request.user.has_perm(spotchecks.DRAW),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(spotchecks.DRAW):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            sample = spotchecks.spotcheck_draw(user=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("已从 %(population)d 份在档档案中随机抽取 %(size)d 份（%(share)d%%）待核查。")
            % {"population": sample.population, "size": sample.size, "share": sample.share},
        )
        return redirect("households:spotcheck_detail", pk=sample.pk)


class SpotCheckDetailView(PermissionRequiredMixin, TemplateView):
    """One draw: each sampled file (ID numbers masked), its result or the link to record it."""

    permission_required = "households.view_spotchecksample"
    template_name = "households/spotcheck_detail.html"

    def get_context_data(self, **kwargs):
        sample = get_object_or_404(
            spotchecks.with_progress(
                SpotCheckSample.objects.visible_to(self.request.user)
            ).select_related("organisation", "drawn_by"),
            pk=self.kwargs["pk"],
        )
        items = sample.items.select_related("household", "checked_by").defer(
            "household__id_number", "household__bank_account"
        )
        return super().get_context_data(
            sample=sample,
            items=items.order_by("household__file_number", "id"),
            may_record=self.request.user.has_perm(spotchecks.RECORD),
            **kwargs,
        )


class SpotCheckRecordView(PermissionRequiredMixin, FormView):
    """登记核查结果 of one sampled file, once."""

    permission_required = spotchecks.RECORD
    form_class = SpotCheckForm
    template_name = "households/spotcheck_form.html"

    def get_item(self) -> SpotCheck:
        if not hasattr(self, "_item"):
            self._item = get_object_or_404(
                SpotCheck.objects.visible_to(self.request.user).select_related(
                    "sample__organisation", "household", "checked_by"
                ),
                pk=self.kwargs["pk"],
            )
        return self._item

    def get(self, request, *args, **kwargs):
        if self.get_item().outcome != SpotCheck.Outcome.PENDING:
            # From an old link or a second tab: said at once, not after a form filled in.
            messages.info(request, _("该档案的抽查结果已登记。"))
            return redirect("households:spotcheck_detail", pk=self.get_item().sample_id)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(item=self.get_item(), **kwargs)

    def form_valid(self, form):
        item = self.get_item()
        try:
            spotchecks.spotcheck_record(user=self.request.user, item=item, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("抽查结果已登记。"))
        return redirect("households:spotcheck_detail", pk=item.sample_id)


class HouseholdLetterPdfView(HouseholdScopeMixin, View):
    """打印告知书: the letter telling the household its file closed (or its application was
    refused) and that it may apply again; for the staff who handle files, logged."""

    permission_required = "households.view_household"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        return letter_pdf_response(request, self.get_household())
