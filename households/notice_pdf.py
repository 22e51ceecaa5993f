"""The public-notice sheet (公示单) as a PDF. The PDF plumbing (safe fetcher, font subsetting,
`html_to_pdf`) lives in `orgs/pdf.py`, shared with the reports."""

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext

from households.models import Category, Household, PublicNotice
from households.services import verdicts_for
from orgs.audit import log_access
from orgs.models import AccessLog
from orgs.pdf import render_pdf
from orgs.pii import mask, mask_name

NOTICE_TEMPLATE = "households/pdf/notice.html"
NOTICE_STYLESHEETS = ("households/pdf/notice.css",)
# A public notice is posted on a Chinese notice board, whatever the language of the screen.
NOTICE_LANGUAGE = "zh-hans"


def masked_id(id_masked: str) -> str:
    """450102********1234 → 4501**********1234, as the notice shows ID numbers. Built from the
    stored masked copy (which keeps the first 6 and last 4 characters), so nothing is decrypted;
    the result equals `mask(number, head=4, tail=4)`."""
    return mask(id_masked, head=4, tail=4)


def posted_categories(households: list[Household], on) -> dict[int, str]:
    """The category the notice posts for each file, by key: the file's own, or before approval
    has given it one the category its assessment proposes (the one approval would give it); ""
    when there is none. The categories in one query and the assessments in a fixed number
    (households.services.verdicts_for), however many files the notice holds."""
    posted = {h.pk: h.category.name for h in households if h.category is not None}
    unapproved = [household for household in households if household.category is None]
    if unapproved:
        names = dict(Category.objects.values_list("code", "name"))
        for key, verdict in verdicts_for(unapproved, on).items():
            posted[key] = names.get(verdict.category_code, "") if verdict.category_code else ""
    return posted


def notice_rows(notice: PublicNotice) -> list[dict]:
    """One row per household posted under the notice, masked for the notice board."""
    periods = list(
        notice.periods.select_related("household__primary_cause", "household__category")
        .defer("household__id_number", "household__bank_account")
        .order_by("household__file_number")
    )
    households = [period.household for period in periods]
    categories = posted_categories(households, notice.starts_on)
    return [
        {
            "number": index,
            "name": mask_name(household.worker_name),
            "id_number": masked_id(household.id_masked),
            "cause": household.primary_cause.name,
            "category": categories[household.pk],
            "size": household.household_size,
        }
        for index, household in enumerate(households, start=1)
    ]


def render_notice_pdf(notice: PublicNotice) -> bytes:
    """The A4 公示单 of a PublicNotice: title, organisation, notice period, the households
    (names and ID numbers masked), where to object, date of issue, page X of Y."""
    with translation.override(NOTICE_LANGUAGE):
        context = {
            "notice": notice,
            "organisation": notice.organisation,
            "rows": notice_rows(notice),
            "issued_on": timezone.localdate(notice.created_at),
        }
        return render_pdf(NOTICE_TEMPLATE, context, stylesheets=NOTICE_STYLESHEETS)


def notice_pdf_response(request, notice: PublicNotice) -> HttpResponse:
    """The 公示单 download, from the staff pages or the admin; every print is logged."""
    pdf = render_notice_pdf(notice)
    log_access(request, action=AccessLog.Action.PRINT, obj=notice, organisation=notice.organisation)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{gettext('公示单')}-{notice.pk}.pdf"
    )
    return response
