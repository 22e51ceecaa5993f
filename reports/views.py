from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from orgs.audit import log_access
from orgs.models import AccessLog, Organisation
from reports import render as renderers
from reports import roster
from reports.forms import RosterForm, SummaryForm
from reports.routing import reporting
from reports.summary import build_years


def requested_organisation(request):
    """The organisations the user may report on, and the query with the one named in ?org=…,
    which must lie in the user's subtree (else 404), under its code as stored: a code names
    its organisation whatever the case of its letters, as in the imports and the
    annual_summary command (codes are unique so)."""
    visible = Organisation.objects.visible_to(request.user).filter(is_active=True)
    query = request.GET.copy()
    if code := query.get("org"):
        stored = visible.filter(code__iexact=code).values_list("code", flat=True).first()
        if stored is None:
            raise Http404
        query["org"] = stored
    return visible, query


def download(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def summary_query(request, asked, organisations):
    """What the summary page shows: the query as `asked`, its missing parts (a link naming
    only ?org=…) filled with the defaults; on a first visit the current year of the user's own
    organisation, so the page opens on a report rather than an empty form."""
    own = getattr(request.user.organisation, "code", None)
    if "org" not in asked and not organisations.filter(code=own).exists():
        return None  # no organisation of their own to default to: the empty form
    query = {"org": own, "years": str(timezone.localdate().year), "format": "html"}
    query.update(asked.dict())
    return query


class SummaryView(PermissionRequiredMixin, View):
    """The yearly relief/exit summary for any organisation of the user's subtree and period."""

    permission_required = "reports.view_summary"
    template_name = "reports/summary.html"

    def get(self, request):
        organisations, asked = requested_organisation(request)
        form = SummaryForm(
            summary_query(request, asked, organisations), organisations=organisations
        )
        context = {"form": form}
        if form.is_bound and form.is_valid():
            org = organisations.get(code=form.cleaned_data["org"])
            first, last = form.cleaned_data["years"]
            try:
                with reporting(request):
                    data = build_years(
                        org,
                        first,
                        last,
                        cutoff=form.cleaned_data["cutoff"],
                        baseline=form.cleaned_data["baseline"],
                        compare=form.cleaned_data["compare"],
                    )
            except ValidationError as exc:
                form.add_error(None, exc)
                return render(request, self.template_name, context)
            if first == last:
                data = data["years"][str(first)]
            fmt = form.cleaned_data["format"]
            if fmt != "html":
                content = renderers.FORMATS[fmt](data, generated_by=request.user)
                return download(
                    content, renderers.CONTENT_TYPES[fmt], renderers.filename(data, fmt)
                )
            context.update(renderers.context(data, generated_by=request.user))
            # The download links ask for this very report, whatever the address left out.
            context["query"] = urlencode(
                {name: value for name, value in form.data.items() if name != "format"}
            )
        return render(request, self.template_name, context)


class RosterView(PermissionRequiredMixin, View):
    """花名册 of the households on file on a date; numbers masked unless asked for and allowed."""

    permission_required = "reports.view_roster"
    template_name = "reports/roster.html"

    def get(self, request):
        organisations, asked = requested_organisation(request)
        form = RosterForm(
            asked if "org" in asked else None,
            organisations=organisations,
            initial={"org": getattr(request.user.organisation, "code", None)},
        )
        if not (form.is_bound and form.is_valid()):
            return render(request, self.template_name, {"form": form})
        org = organisations.get(code=form.cleaned_data["org"])
        full = form.cleaned_data["full_numbers"]
        if full and not request.user.has_perm("households.view_full_identifiers"):
            raise PermissionDenied(_("您的角色不能导出完整的身份证号和银行账号。"))
        on, fmt = form.cleaned_data["on"], form.cleaned_data["format"]
        with reporting(request):
            content = (roster.to_pdf if fmt == "pdf" else roster.to_xlsx)(org, on, full=full)
        log_access(
            request,
            action=AccessLog.Action.EXPORT,
            organisation=org,
            detail=f"roster {org.code} {on} {fmt}{' full' if full else ''}",
        )
        return download(content, renderers.CONTENT_TYPES[fmt], f"roster-{org.code}-{on}.{fmt}")
