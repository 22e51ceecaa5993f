"""Bank batch-payment files (代发文件) out and the bank's return files (回盘文件) in.

The batch workbook (.xlsx), sheet "代发明细":
  header row: 序号, 姓名, 身份证号码, 银行账号, 开户银行, 金额（元）, 业务参考号, 用途
  one row per payment; ID and account numbers are text cells; amounts are numbers (0.00)
  last row, the control total: 合计, "<n>笔", …, <sum of amounts>, "<batch number>"
  A second sheet "批次信息" names the batch, organisation, source, date, count and total.

The return file (.xlsx) the bank sends back — first worksheet, first row a header, then one row
per payment; columns are found by their header (any order, extra columns ignored, so the bank may
return our own file with columns added):
  业务参考号 (or "reference")        required: the reference of the line in our file
  结果 (or "result")                 required: 成功 / success / paid, or 失败 / failed
  失败原因 (or "reason")             required when the result is failure
  银行流水号 (or "bank_reference")   optional
  金额（元）/ 金额 (or "amount")      optional; when present it must equal the amount sent
  交易日期 / 日期 (or "date")         optional; the payment date (else the date on the form)
Blank rows and the 合计 row are skipped.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from funds.models import LineResult, PaymentBatch
from funds.services import ReturnRow
from imports import cells
from orgs.money import MAX_AMOUNT
from orgs.spreadsheets import neutralise
from orgs.text import listing

MONEY_FORMAT = "#,##0.00"


def _text(ws, row: int, column: int, value) -> None:
    cell = ws.cell(row=row, column=column, value=neutralise(value))
    cell.number_format = "@"


def _widths(ws, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


BATCH_HEADER = [
    "序号",
    "姓名",
    "身份证号码",
    "银行账号",
    "开户银行",
    "金额（元）",
    "业务参考号",
    "用途",
]


def batch_workbook(batch: PaymentBatch) -> bytes:
    """The bank file of a batch, from its lines exactly as they were sent."""
    wb = Workbook()
    ws = wb.active
    ws.title = "代发明细"
    bold = Font(bold=True)
    for column, title in enumerate(BATCH_HEADER, start=1):
        ws.cell(row=1, column=column, value=title).font = bold
    lines = list(batch.lines.select_related("request__assistance_type").order_by("id"))
    row = 1
    for index, line in enumerate(lines, start=1):
        row += 1
        ws.cell(row=row, column=1, value=index)
        _text(ws, row, 2, line.worker_name)
        _text(ws, row, 3, line.id_number)
        _text(ws, row, 4, line.bank_account)
        _text(ws, row, 5, line.bank_name)
        amount = ws.cell(row=row, column=6, value=line.amount)
        amount.number_format = MONEY_FORMAT
        _text(ws, row, 7, line.reference)
        _text(ws, row, 8, f"{line.request.assistance_type.name}")
    row += 1
    total = sum((line.amount for line in lines), Decimal("0.00"))
    ws.cell(row=row, column=1, value="合计").font = bold
    ws.cell(row=row, column=2, value=f"{len(lines)}笔").font = bold
    cell = ws.cell(row=row, column=6, value=total)
    cell.number_format = MONEY_FORMAT
    cell.font = bold
    _text(ws, row, 7, batch.number)
    _widths(ws, [6, 12, 22, 26, 24, 14, 24, 12])

    info = wb.create_sheet("批次信息")
    created = timezone.localtime(batch.created_at)
    facts = [
        ("批次号", batch.number),
        ("付款单位", batch.organisation.name),
        ("资金来源", batch.source.name if batch.source_id else "全部来源"),
        ("生成时间", created.strftime("%Y-%m-%d %H:%M")),
        ("笔数", len(lines)),
        ("合计金额（元）", total),
    ]
    for index, (label, value) in enumerate(facts, start=1):
        info.cell(row=index, column=1, value=label).font = bold
        cell = info.cell(row=index, column=2, value=neutralise(value))
        if isinstance(value, Decimal):
            cell.number_format = MONEY_FORMAT
    _widths(info, [16, 40])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- The return file -------------------------------------------------------------------------

COLUMNS = {
    "reference": ("业务参考号", "参考号", "reference"),
    "result": ("结果", "处理结果", "result"),
    "reason": ("失败原因", "原因", "reason"),
    "bank_reference": ("银行流水号", "流水号", "bank_reference"),
    "amount": ("金额（元）", "金额(元)", "金额", "amount"),
    "date": ("交易日期", "日期", "date"),
}
PAID_WORDS = {"成功", "已发放", "success", "paid", "ok"}
FAILED_WORDS = {"失败", "failed", "fail", "failure"}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lstrip("'")


def _parse_amount(value) -> Decimal:
    """The amount cell as a Decimal, or ValidationError quoting the cell (shortened): within the
    money columns' range, so that no message has to print a number of a million digits."""
    text = repr(value) if isinstance(value, float) else str(value).strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(_("金额“%(value)s”不是数字。") % {"value": cells.shown(value)})
    if amount.copy_abs() > MAX_AMOUNT:  # copy_abs: abs() would round, and overflow
        raise ValidationError(_("金额“%(value)s”过大。") % {"value": cells.shown(value)})
    return amount


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def read_return_file(upload) -> list[ReturnRow]:
    """Parse the bank's return file; any unreadable cell is reported and nothing is used."""
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
        # Read here: a read-only workbook parses its sheet only now, and a damaged sheet raises
        # as the file does (a bank's return file has a batch's lines, a few thousand at most).
        rows = iter(list(wb.worksheets[0].iter_rows(values_only=True)))
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationError(
            {"file": _("无法读取回盘文件，请上传 .xlsx 格式的 Excel 文件。")}
        ) from None
    header = next(rows, None)
    if header is None:
        raise ValidationError({"file": _("回盘文件是空的。")})
    titles = [_cell_text(value).lower() for value in header]
    where: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name.lower() in titles:
                where[key] = titles.index(name.lower())
                break
    missing = [COLUMNS[key][0] for key in ("reference", "result") if key not in where]
    if missing:
        raise ValidationError(
            {
                "file": _("回盘文件缺少以下列：%(columns)s。")
                % {"columns": listing(f"“{name}”" for name in missing)}
            }
        )
    parsed: list[ReturnRow] = []
    errors: list[str] = []
    for number, values in enumerate(rows, start=2):
        values = list(values)

        def get(key, values=values):
            index = where.get(key)
            return values[index] if index is not None and index < len(values) else None

        if all(_cell_text(value) == "" for value in values):
            continue
        if any(_cell_text(value) == "合计" for value in values[:2]):
            continue
        word = _cell_text(get("result")).lower()
        result = (
            LineResult.PAID
            if word in PAID_WORDS
            else LineResult.FAILED
            if word in FAILED_WORDS
            else word
        )
        row = ReturnRow(
            row=number,
            reference=_cell_text(get("reference")),
            result=result,
            reason=_cell_text(get("reason")),
            bank_reference=_cell_text(get("bank_reference")),
        )
        if _cell_text(get("amount")):
            try:
                row.amount = _parse_amount(get("amount"))
            except ValidationError as error:
                errors.append(
                    _("第%(row)d行：%(message)s") % {"row": number, "message": error.messages[0]}
                )
        if _cell_text(get("date")):
            try:
                row.paid_on = _parse_date(get("date"))
            except ValueError:
                errors.append(
                    _("第%(row)d行：日期格式不正确（应为 2019-09-30）。") % {"row": number}
                )
        parsed.append(row)
    wb.close()
    if errors:
        raise ValidationError({"file": errors})
    if not parsed:
        raise ValidationError({"file": _("回盘文件中没有数据行。")})
    return parsed
