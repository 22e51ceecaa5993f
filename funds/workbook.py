"""The funds workbook (issue 7): its sheets, their columns and labels, the blank template,
and the export of a subtree's receipts, paid payments, refunds and loan repayments in the same
layout, so that an export imports again cleanly (funds.importing reads it). The issue's
workbook has three sheets; `repayments` is ours (without it an exported ledger with repaid
loans would not add up again) and optional, so a workbook from the three-sheet template still
imports."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from funds.models import (
    AssistanceRequest,
    AssistanceType,
    FundSource,
    Receipt,
    Refund,
    Repayment,
    RequestState,
)
from funds.services import FIRST_YEAR
from imports.base import Progress
from imports.xlsx import CHOICE, DATE, INT, MONEY, TEXT, Column, SheetSpec, WorkbookSpec
from imports.xlsx import export_workbook as write_workbook

RECEIPTS, PAYMENTS, REFUNDS = "receipts", "payments", "refunds"
REPAYMENTS = "repayments"
PROGRESS_EVERY = 500

ORG, SOURCE, YEAR, AMOUNT, NOTE = "组织代码", "资金来源", "年度", "金额", "备注"
RECEIVED_ON, PAID_ON, REFUNDED_ON, REPAID_ON = "到账日期", "发放日期", "退回日期", "还款日期"
DOCUMENT, FILE, TYPE, LOAN_PAID_ON = "文号", "档案编号", "帮扶类型", "借款发放日期"
SHEETS = {
    RECEIPTS: (ORG, SOURCE, YEAR, AMOUNT, RECEIVED_ON, DOCUMENT, NOTE),
    PAYMENTS: (ORG, FILE, TYPE, SOURCE, AMOUNT, PAID_ON, NOTE),
    REFUNDS: (ORG, SOURCE, AMOUNT, REFUNDED_ON, DOCUMENT),
    REPAYMENTS: (ORG, FILE, SOURCE, LOAN_PAID_ON, AMOUNT, REPAID_ON, NOTE),
}
OPTIONAL_SHEETS = (REPAYMENTS,)
INFLOW_SHEETS = (RECEIPTS, REPAYMENTS)  # money into the source; the others take it out
DATE_COLUMN = {
    RECEIPTS: RECEIVED_ON,
    PAYMENTS: PAID_ON,
    REFUNDS: REFUNDED_ON,
    REPAYMENTS: REPAID_ON,
}
NOTE_LENGTH = {RECEIPTS: 200, PAYMENTS: 1000, REPAYMENTS: 200}

# The labels a workbook shows for the seeded sources (DOMAIN "Funds"); names given by an
# administrator, and these aliases, are accepted too.
SOURCE_LABELS = {
    "central": "中央财政",
    "regional": "省级财政",
    "upper_union": "上级工会送温暖",
    "union": "工会经费",
    "donation": "社会捐助",
    "other": "其他",
}
SOURCE_ALIASES = {
    "自治区财政": "regional",
    "省财政": "regional",
    "省/自治区财政": "regional",
    "中央财政帮扶资金": "central",
    "上级工会送温暖资金": "upper_union",
    "上级送温暖资金": "upper_union",
}


# --- Labels ------------------------------------------------------------------------------------


def source_labels() -> dict[str, FundSource]:
    """label -> source: the workbook label first, then the name in the app, then aliases."""
    sources = list(FundSource.objects.order_by("sort", "code"))
    by_code = {source.code: source for source in sources}
    labels: dict[str, FundSource] = {}
    for source in sources:
        labels.setdefault(SOURCE_LABELS.get(source.code, source.name), source)
    for source in sources:
        labels.setdefault(source.name, source)
    for alias, code in SOURCE_ALIASES.items():
        if code in by_code:
            labels.setdefault(alias, by_code[code])
    return labels


def source_label(source: FundSource) -> str:
    return SOURCE_LABELS.get(source.code, source.name)


def type_labels() -> dict[str, AssistanceType]:
    return {kind.name: kind for kind in AssistanceType.objects.order_by("sort", "code")}


def workbook_spec() -> WorkbookSpec:
    """The three sheets with their columns, help and the labels now in the database."""
    sources = list(dict.fromkeys(source_label(s) for s in source_labels().values()))
    types = list(type_labels())
    org = Column(
        ORG, _("收款、付款或退款的组织的代码，如 450102；须在您的管辖范围内。"), required=True
    )
    source = Column(
        SOURCE,
        _("资金来源（专款专用）。“自治区财政”视同“省级财政”。"),
        kind=CHOICE,
        choices=sources,
        required=True,
    )
    amount = Column(AMOUNT, _("元，大于零，最多两位小数（到分）。"), kind=MONEY, required=True)
    return WorkbookSpec(
        title=_("帮扶资金导入模板"),
        notes=(
            _("每个工作表一行一笔；第一行为列名，请勿修改列名和工作表名。"),
            _("整个文件无误才会导入，有任何错误则一行也不导入；已导入过的行再次导入时跳过。"),
            _("发放和退回不能使资金来源在当日或之后的余额透支；同一天先计拨入、后计支出。"),
            _("已结账年度和今天以后的日期不能导入。"),
        ),
        sheets=(
            SheetSpec(
                RECEIPTS,
                (
                    org,
                    source,
                    Column(
                        YEAR,
                        _("资金所属年度，如 2018。"),
                        kind=INT,
                        required=True,
                        # the importer's first year; none after 2100 (the model's bound) is
                        # ever taken, as a year is at most the one after its receipt's date
                        minimum=FIRST_YEAR,
                        maximum=2100,
                    ),
                    amount,
                    Column(RECEIVED_ON, _("到账日期，如 2018-03-31。"), kind=DATE, required=True),
                    Column(DOCUMENT, _("拨款文号，如：桂财行〔2018〕72号。"), required=True),
                    Column(NOTE, _("可不填，最多200字。")),
                ),
                help=_("资金拨入。"),
            ),
            SheetSpec(
                PAYMENTS,
                (
                    org,
                    Column(
                        FILE, _("困难职工档案编号；档案在发放日期须为在档或解困。"), required=True
                    ),
                    Column(TYPE, _("帮扶项目类型。"), kind=CHOICE, choices=types, required=True),
                    source,
                    amount,
                    Column(PAID_ON, _("发放日期。"), kind=DATE, required=True),
                    Column(NOTE, _("可不填；导入后作为申请理由。")),
                ),
                help=_("历史发放记录，导入后为已发放；不按现行帮扶标准审核。"),
            ),
            SheetSpec(
                REFUNDS,
                (
                    org,
                    source,
                    amount,
                    Column(REFUNDED_ON, _("退回日期。"), kind=DATE, required=True),
                    Column(DOCUMENT, _("收回通知文号。"), kind=TEXT, required=True),
                ),
                help=_("退回财政。"),
            ),
            SheetSpec(
                REPAYMENTS,
                (
                    org,
                    Column(FILE, _("借款的困难职工档案编号。"), required=True),
                    source,
                    Column(
                        LOAN_PAID_ON,
                        _("所还借款的发放日期；不填则记在最早一笔未还清的借款上。"),
                        kind=DATE,
                    ),
                    amount,
                    Column(REPAID_ON, _("还款日期。"), kind=DATE, required=True),
                    Column(NOTE, _("可不填，最多200字。")),
                ),
                help=_(
                    "小额借款的还款，计入借款的资金来源；记在该档案同一组织、同一来源、"
                    "在借款发放日期发放的借款上。没有还款可不要此工作表。"
                ),
            ),
        ),
    )


def template() -> bytes:
    return write_workbook(workbook_spec(), {})


@dataclass(frozen=True)
class Labels:
    """What the importer parses cells with: label -> code, and code -> row."""

    source_codes: dict[str, str]
    type_codes: dict[str, str]
    sources: dict[str, FundSource]
    types: dict[str, AssistanceType]


def labels() -> Labels:
    sources, types = source_labels(), type_labels()
    return Labels(
        source_codes={label: source.code for label, source in sources.items()},
        type_codes={label: kind.code for label, kind in types.items()},
        sources={source.code: source for source in sources.values()},
        types={kind.code: kind for kind in types.values()},
    )


# --- Export ------------------------------------------------------------------------------------


def _querysets(user) -> dict:
    """The receipts, paid payments and refunds of the user's subtree, oldest first. Records
    reversed in full are left out (their net is nothing); a payment reversed is no longer paid."""
    return {
        RECEIPTS: Receipt.objects.visible_to(user)
        .exclude(entries__reverses__isnull=False)
        .select_related("organisation", "source")
        .order_by("received_on", "id"),
        PAYMENTS: AssistanceRequest.objects.visible_to(user)
        .filter(state=RequestState.PAID)
        .select_related("organisation", "household", "assistance_type", "source")
        .order_by("paid_on", "id"),
        REFUNDS: Refund.objects.visible_to(user)
        .exclude(entries__reverses__isnull=False)
        .select_related("organisation", "source")
        .order_by("refunded_on", "id"),
        REPAYMENTS: Repayment.objects.visible_to(user)
        .filter(request__state=RequestState.PAID)
        .exclude(entries__reverses__isnull=False)
        .select_related("request__organisation", "request__household", "request__source")
        .order_by("repaid_on", "id"),
    }


def _row(sheet: str, r) -> list:
    if sheet == RECEIPTS:
        return [
            r.organisation.code,
            source_label(r.source),
            r.year,
            r.amount,
            r.received_on,
            r.document_number,
            r.note,
        ]
    if sheet == PAYMENTS:
        return [
            r.organisation.code,
            r.household.file_number,
            r.assistance_type.name,
            source_label(r.source),
            r.amount,
            r.paid_on,
            r.reason[: NOTE_LENGTH[PAYMENTS]],
        ]
    if sheet == REPAYMENTS:
        loan = r.request
        return [
            loan.organisation.code,
            loan.household.file_number,
            source_label(loan.source),
            loan.paid_on,
            r.amount,
            r.repaid_on,
            r.note,
        ]
    return [r.organisation.code, source_label(r.source), r.amount, r.refunded_on, r.document_number]


def export_funds(*, user, full: bool = False, progress: Progress | None = None) -> bytes:
    """The funds workbook of the user's subtree, streamed (imports.registry names this). `full`
    is for households' identifiers; the funds sheets hold none, only file numbers."""
    querysets = _querysets(user)
    total = sum(queryset.count() for queryset in querysets.values()) if progress else 0
    done = 0

    def rows(sheet):
        nonlocal done
        for record in querysets[sheet].iterator(chunk_size=2000):
            yield _row(sheet, record)
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, total)

    content = write_workbook(workbook_spec(), {sheet: rows(sheet) for sheet in SHEETS})
    if progress is not None:
        progress(total, total)
    return content


def funds_export(user) -> bytes:
    return export_funds(user=user)
