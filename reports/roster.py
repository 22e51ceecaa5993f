"""The roster (花名册): the households on file (or relieved) in an organisation's subtree on a
date, as Excel or PDF. Numbers are masked unless the caller asks for them in full and may."""

import io
import unicodedata
from datetime import datetime, time, timedelta
from functools import cache
from itertools import islice

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from households.models import SUPPORTED_STATUSES, Household, Status, Transition
from orgs.models import Organisation
from orgs.money import yuan_text
from orgs.pii import mask_phone
from orgs.reference import translated_name
from orgs.spreadsheets import neutralise

SEX_LABELS = dict(Household._meta.get_field("sex").flatchoices)


def households_on(org, on):
    """The files on file or relieved on `on` in `org`'s subtree, each with what the transition
    in force that day says of it (`status_on`, `filed_on_then`, `cause_then`, `category_then`):
    a roster of a past date shows the file where and as it was then, as the summary counts it
    (reports/selectors.py), not where it is today. For a past date each also carries
    `record_then`, its field-history row of that day (`rows` reads the other columns there)."""
    in_force = Transition.objects.in_force_on(on).filter(
        organisation_id__in=Organisation.objects.subtree(org).values("pk"),
        to_status__in=SUPPORTED_STATUSES,
    )
    then = Transition.objects.in_force_on(on).filter(household_id=OuterRef("pk"))
    households = (
        Household.objects.filter(pk__in=in_force.values("household_id"))
        .annotate(
            status_on=Subquery(then.values("to_status")[:1]),
            filed_on_then=Subquery(then.values("filed_on")[:1]),
            cause_then=Subquery(then.values("primary_cause__name")[:1]),
            category_then=Subquery(then.values("category__name")[:1]),
        )
        .select_related("base_union")
        .order_by("file_number")
    )
    if on < timezone.localdate():
        households = households.annotate(record_then=_record_on(on))
    return households


def _record_on(on):
    """The file's field-history row in force at the end of `on`: its name, employer, household
    size, income, bank and phone as recorded that day. A file entered later with earlier dates
    (old files imported) has none that old: its first row, the values as first entered."""
    end = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
    records = Household.history.filter(id=OuterRef("pk")).values("history_id")
    return Coalesce(
        Subquery(records.filter(history_date__lt=end).order_by("-history_date", "-history_id")[:1]),
        Subquery(records.order_by("history_date", "history_id")[:1]),
    )


# What the columns read of a file (or of its history row); the numbers in full are decrypted
# only for a roster in full, the masked copies serve the others.
RECORD_FIELDS = [
    "worker_name",
    "sex",
    "id_masked",
    "employer",
    "base_union",
    "household_size",
    "per_capita_income",
    "bank_name",
    "bank_account_masked",
    "phone",
]
SECRET_FIELDS = ["id_number", "bank_account"]


def _as_recorded(households, *, full: bool, chunk_size: int = 2000):
    """(file, the record its columns are read from, base unions by pk), a chunk at a time: the
    file itself today, its `record_then` for a past date."""
    fields = RECORD_FIELDS + (SECRET_FIELDS if full else [])
    households = households.only("file_number", "base_union__name", *fields)
    records = Household.history.model.objects.only(*fields)
    files = households.iterator(chunk_size=chunk_size)
    while chunk := list(islice(files, chunk_size)):
        wanted = [h.record_then for h in chunk if getattr(h, "record_then", None)]
        by_id = records.in_bulk(wanted)
        unions = Organisation.objects.in_bulk(
            {r.base_union_id for r in by_id.values() if r.base_union_id}
        )
        for h in chunk:
            record = by_id.get(getattr(h, "record_then", None))
            if record is None:
                yield h, h, {h.base_union_id: h.base_union} if h.base_union_id else {}
            else:
                yield h, record, unions


def columns() -> list[str]:
    return [
        _("序号"),
        _("档案编号"),
        _("姓名"),
        _("性别"),
        _("身份证号码"),
        _("工作单位"),
        _("所在基层工会"),
        _("家庭人口"),
        _("月人均收入（元）"),
        _("主要致困原因"),
        _("困难类别"),
        _("状态"),
        _("建档日期"),
        _("开户银行"),
        _("银行账号"),
        _("联系电话"),
    ]


def rows(households, *, full: bool):
    # Each label translated once per roster, not once per row: thousands of rows share a few.
    sex = cache(lambda code: str(SEX_LABELS.get(code, code)))
    status = cache(lambda code: str(Status(code).label))
    name = cache(translated_name)
    for index, (h, then, unions) in enumerate(_as_recorded(households, full=full), start=1):
        union = unions.get(then.base_union_id)
        yield [
            index,
            h.file_number,
            then.worker_name,
            sex(then.sex),
            then.id_number if full else then.id_masked,
            then.employer,
            union.name if union else "",
            then.household_size,
            then.per_capita_income,
            name(h.cause_then),
            name(h.category_then or ""),
            status(h.status_on),
            h.filed_on_then,
            then.bank_name,
            then.bank_account if full else then.bank_account_masked,
            then.phone if full else mask_phone(then.phone),
        ]


def to_xlsx(org, on, *, full: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("花名册"))

    def cell(value):
        # Every cell neutralised, the title too: it begins with the organisation's name, which
        # a county names (=HYPERLINK(…) would run in the workbook the city opens).
        return WriteOnlyCell(sheet, value=neutralise(value))

    title = cell(_("%(org)s困难职工花名册（%(date)s）") % {"org": org.name, "date": on})
    title.font = Font(bold=True, size=13)
    sheet.append([title])
    sheet.append([cell(name) for name in columns()])
    for row in rows(households_on(org, on), full=full):
        cells = [cell(value) for value in row]
        cells[8].number_format = "#,##0.00"
        cells[12].number_format = "yyyy-mm-dd"
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# The PDF prints each row as one line of a monospaced CJK font (CJK characters are exactly two
# columns wide), one block per page. WeasyPrint lays out one text line far faster than a table
# row of fourteen cells: a 10,000-household roster renders in seconds instead of minutes.
PDF_COLUMNS = [  # (index in rows(), width in half-width columns, right-aligned)
    (0, 6, True),
    (1, 20, False),
    (2, 8, False),
    (3, 4, False),
    (4, 18, False),
    (5, 22, False),
    (6, 22, False),
    (7, 4, True),
    (8, 10, True),
    (9, 12, False),
    (10, 10, False),
    (11, 6, False),
    (12, 10, False),
    (14, 19, False),
]
ROWS_PER_PAGE = 38


def display_width(text: str) -> int:
    # Ambiguous-width characters (…, ·, ①) are full width in the CJK monospaced font.
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def fit(value, width: int, right: bool = False) -> str:
    """The value as text exactly `width` columns wide: cut with an ellipsis, then padded."""
    text = (
        "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    )
    if display_width(text) > width:
        while display_width(text) > width - display_width("…"):
            text = text[:-1]
        text += "…"
    padding = " " * (width - display_width(text))
    return padding + text if right else text + padding


def pdf_headers() -> list[str]:
    """The column names, shortened where the printed column is narrow."""
    names = columns()
    names[7], names[8] = _("人口"), _("人均月收入")
    return names


def line(values: list) -> str:
    return " ".join(fit(values[i], width, right) for i, width, right in PDF_COLUMNS)


def text_pages(items: list[list], size: int = ROWS_PER_PAGE) -> list[str]:
    return [
        "\n".join(line(row) for row in items[start : start + size])
        for start in range(0, len(items), size)
    ]


def to_pdf(org, on, *, full: bool, limit: int | None = None) -> bytes:
    """The printed roster, like the printed summary (reports.render.to_pdf), is always in
    Simplified Chinese; its columns are laid out for CJK text."""
    from orgs.pdf import html_to_pdf

    households = households_on(org, on)
    if limit is not None:
        households = households[:limit]
    with translation.override("zh-hans"):
        items = [
            [yuan_text(row[8]) if i == 8 else value for i, value in enumerate(row)]
            for row in rows(households, full=full)
        ]
        html = render_to_string(
            "reports/pdf/roster.html",
            {
                "organisation": org,
                "on": on,
                "header": line(pdf_headers()),
                "pages": text_pages(items),
                "count": len(items),
                "generated_at": timezone.localtime(),
            },
        )
    return html_to_pdf(html, stylesheets=("reports/roster-print.css",))
