"""The fund statement as an Excel workbook: per source (元 and 万元) with totals, per assistance
type, and, for an upper-level union, its units side by side."""

from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from funds.bankfiles import MONEY_FORMAT
from funds.selectors import to_wanyuan
from orgs.spreadsheets import neutralise

LINE_KEYS = ("opening", "received", "paid", "refunded", "repaid", "closing")
WAN_FORMAT = "#,##0.0000"


def line_titles() -> list[str]:
    return [
        _("期初结余"),
        _("本期拨入"),
        _("本期发放"),
        _("退回财政"),
        _("借款归还"),
        _("期末结余"),
    ]


def _title(ws, text: str, columns: int) -> None:
    ws.cell(row=1, column=1, value=neutralise(text)).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")


def _money(ws, row: int, column: int, value, *, wan: bool = False, bold: bool = False) -> None:
    cell = ws.cell(row=row, column=column, value=to_wanyuan(value) if wan else value)
    cell.number_format = WAN_FORMAT if wan else MONEY_FORMAT
    if bold:
        cell.font = Font(bold=True)


def statement_workbook(*, organisation, statement: dict, side_by_side: dict | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("资金收支情况")
    titles = line_titles()
    period = _("%(start)s 至 %(end)s") % {
        "start": statement["start"].isoformat(),
        "end": statement["end"].isoformat(),
    }
    columns = 1 + 2 * len(LINE_KEYS)
    _title(
        ws,
        _("%(org)s帮扶资金收支情况表（%(period)s）") % {"org": organisation.name, "period": period},
        columns,
    )
    ws.cell(row=2, column=1, value=_("资金来源")).font = Font(bold=True)
    for index, title in enumerate(titles):
        ws.cell(row=2, column=2 + index, value=_("%(t)s（元）") % {"t": title}).font = Font(
            bold=True
        )
        ws.cell(
            row=2, column=2 + len(LINE_KEYS) + index, value=_("%(t)s（万元）") % {"t": title}
        ).font = Font(bold=True)
    row = 2
    # A workbook read by people: a source or type in the reader's language, as on the page.
    for line in [*statement["sources"], {"source": _("合计"), **statement["totals"]}]:
        row += 1
        is_total = "code" not in line
        ws.cell(row=row, column=1, value=neutralise(str(line["source"]))).font = Font(bold=is_total)
        for index, key in enumerate(LINE_KEYS):
            _money(ws, row, 2 + index, line[key], bold=is_total)
            _money(ws, row, 2 + len(LINE_KEYS) + index, line[key], wan=True, bold=is_total)
    row += 2
    ws.cell(row=row, column=1, value=_("按帮扶项目")).font = Font(bold=True)
    row += 1
    for column, title in enumerate(
        [_("帮扶项目"), _("户数"), _("笔数"), _("金额（元）"), _("金额（万元）")], start=1
    ):
        ws.cell(row=row, column=column, value=title).font = Font(bold=True)
    for line in [*statement["types"], {"type": _("合计"), **statement["types_total"]}]:
        row += 1
        is_total = "code" not in line
        ws.cell(row=row, column=1, value=neutralise(str(line["type"]))).font = Font(bold=is_total)
        ws.cell(row=row, column=2, value=line["households"])
        ws.cell(row=row, column=3, value=line["payments"])
        _money(ws, row, 4, line["amount"], bold=is_total)
        _money(ws, row, 5, line["amount"], wan=True, bold=is_total)
    row += 2
    ws.cell(
        row=row,
        column=1,
        value=_("生成时间：%(at)s") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    )
    ws.column_dimensions["A"].width = 22
    for index in range(2, columns + 1):
        ws.column_dimensions[get_column_letter(index)].width = 14

    if side_by_side is not None:
        _side_by_side_sheet(wb, organisation=organisation, data=side_by_side, period=period)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _side_by_side_sheet(wb, *, organisation, data: dict, period: str) -> None:
    ws = wb.create_sheet(_("分单位对比"))
    titles = line_titles()
    columns = data["columns"]
    width = 2 + len(columns) + 1
    _title(
        ws,
        _("%(org)s所属单位帮扶资金对比（%(period)s，元）")
        % {"org": organisation.name, "period": period},
        width,
    )
    header = [_("项目"), _("资金来源")]
    header += [unit.name if unit is not None else _("本级") for unit, _statement in columns]
    header.append(_("合计"))
    for column, title in enumerate(header, start=1):
        ws.cell(row=2, column=column, value=neutralise(title)).font = Font(bold=True)
    sources = {}
    for line in data["total"]["sources"]:
        sources[line["code"]] = str(line["source"])
    row = 2
    for key, title in zip(LINE_KEYS, titles, strict=True):
        for code, name in [*sources.items(), (None, _("合计"))]:
            row += 1
            ws.cell(row=row, column=1, value=title)
            ws.cell(row=row, column=2, value=neutralise(name))
            for index, (_unit, statement) in enumerate([*columns, (None, data["total"])]):
                if code is None:
                    value = statement["totals"][key]
                else:
                    value = next(
                        (line[key] for line in statement["sources"] if line["code"] == code), 0
                    )
                _money(ws, row, 3 + index, value, bold=code is None)
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 22
    for index in range(3, width + 1):
        ws.column_dimensions[get_column_letter(index)].width = 18
