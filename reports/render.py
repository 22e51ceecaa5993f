"""Renderers of the summary dict (reports.summary.build): page context, PDF, Excel, JSON."""

import io
import json

from django.apps import apps
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from households.models import Category, Cause, DeregistrationReason
from orgs.reference import translated_name
from orgs.spreadsheets import neutralise
from orgs.text import aside
from reports import charts
from reports.sections import BALANCE_KEYS, wanyuan
from reports.summary import COMPARED, COUNTIES, comparison, to_json_shape

NOT_APPLICABLE = "—"  # a rate without a denominator (reports.selectors.target)


def yuan_format() -> str:
    """The number format of an amount, its unit in the reader's language."""
    return f'#,##0.00" {_("元")}"'


def wan_format() -> str:
    return f'#,##0.0000" {_("万元")}"'


# People are counted once in a total, so the units' figures need not add up to it: said
# under the service centre's table and on the workbook's 说明 sheet.
PEOPLE_NOTE = gettext_lazy(
    "职业介绍（人）、成功就业（人）按人计：同一职工（同一身份证号码，无号码时同一姓名和电话）"
    "多次介绍只计一人。在几个下级组织都有介绍的，各下级组织的报表各计一人，本报表只计一人，"
    "所以各下级组织之和可能多于本报表。"
)


def _names(model) -> dict[str, str]:
    return {code: translated_name(name) for code, name in model.objects.values_list("code", "name")}


def labels() -> dict[str, dict[str, str]]:
    """Display names of every code in the summary, from the reference tables, in the language
    the summary is rendered in (the PDF always Chinese, the page and workbook the reader's)."""
    result = {
        "cause": _names(Cause),
        "category": _names(Category),
        "reason": {value: str(label) for value, label in DeregistrationReason.choices},
        "source": {},
        "assistance_type": {},
        "window": {},
    }
    for key, model_label in (
        ("source", "funds.FundSource"),
        ("assistance_type", "funds.AssistanceType"),
        ("window", "services.Window"),
    ):
        try:
            model = apps.get_model(model_label)
        except LookupError:
            continue
        result[key] = _names(model)
    return result


def years_of(data: dict) -> list[tuple[str, dict]]:
    if "years" in data:
        return list(data["years"].items())
    return [(str(data["period"]["from"].year), data)]


def rate_note(years) -> str:
    """What the target's rate is, said where a year's rate passes 100 % or is not applicable
    while households were relieved: both come from households filed or moved in during the
    year (reports.selectors.target)."""
    for _year, item in years:
        rate, done = item["target"]["rate"], item["target"]["relieved_or_exited"]
        if (rate is None and done) or (rate is not None and rate > 1):
            return _(
                "解困脱困率 = 解困脱困户数 ÷ 年初在档户数。年内新建档或转入的家庭解困脱困也计入"
                "解困脱困户数，故比率可超过 100%；年初无在档户时比率不适用（—）。"
            )
    return ""


def context(data: dict, *, generated_by=None) -> dict:
    names = labels()
    years = years_of(data)
    latest = years[-1][1]
    on_file = latest["on_file"]
    cause_chart = charts.hbar(
        [(names["cause"].get(code, code), n) for code, n in on_file["by_cause"].items() if n]
    )
    movement_chart = charts.grouped_bars(
        [year for year, _ in years],
        [
            (_("新建档"), [item["movements"]["filed"] for _, item in years]),
            (_("解困"), [item["movements"]["relieved"] for _, item in years]),
            (_("脱困"), [item["movements"]["exited"] for _, item in years]),
        ],
    )
    sources = latest["funds"]["by_source"]
    funds_chart = (
        charts.grouped_bars(
            [names["source"].get(code, code) for code in sources],
            [
                (_("拨入"), [row["received"] for row in sources.values()]),
                (_("支出"), [row["paid"] for row in sources.values()]),
                (_("结余"), [row["closing"] for row in sources.values()]),
            ],
            width=640,
        )
        if sources
        else ""
    )
    generated_at = timezone.localtime()
    return {
        "data": data,
        "years": years,
        "latest": latest,
        "comparison": comparison(latest),
        "names": names,
        "organisation": latest["organisation"],
        "first": years[0][1]["period"],
        "last": latest["period"],
        "generated_at": generated_at,
        "generated_by": generated_by,
        # The last year has not ended: its figures are the cut-off's, not the year's.
        "in_progress": latest["period"]["to"] > timezone.localdate(),
        "cause_chart": cause_chart,
        "movement_chart": movement_chart,
        "funds_chart": funds_chart,
        "people_note": PEOPLE_NOTE,
        "rate_note": rate_note(years),
    }


def to_json(data: dict, *, generated_by=None) -> bytes:
    return json.dumps(to_json_shape(data), ensure_ascii=False, indent=2).encode()


def to_pdf(data: dict, *, generated_by=None) -> bytes:
    """The printed summary goes to the union above: always in Simplified Chinese."""
    from reports.pdf import render_pdf

    with translation.override("zh-hans"):
        html = render_to_string(
            "reports/pdf/summary.html", context(data, generated_by=generated_by)
        )
    return render_pdf(html)


def _append(ws, values) -> None:
    """The one way a row enters the workbook: its text neutralised. Organisation, fund-source
    and reference names come from the database, and a name like =HYPERLINK(…) typed by a county
    would run as a formula in the workbook the city or region opens."""
    ws.append([neutralise(value) for value in values])


def to_xlsx(data: dict, *, generated_by=None) -> bytes:
    """One sheet per section; numbers stay numbers: amounts in 元 (a 元 format), each followed,
    after the sheet's 元 columns, by its 万元 (four decimals, a 万元 format)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    names = labels()
    years = years_of(data)
    book = Workbook()
    bold = Font(bold=True)

    def sheet(title, header, rows, money_columns=(), wan_columns=()):
        ws = book.create_sheet(title)
        _append(ws, header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            _append(ws, row)
        for columns, number_format in ((money_columns, yuan_format()), (wan_columns, wan_format())):
            for column in columns:
                for cells in ws.iter_cols(min_col=column, max_col=column, min_row=2):
                    for item in cells:
                        item.number_format = number_format
        for index, _title in enumerate(header, start=1):
            ws.column_dimensions[ws.cell(1, index).column_letter].width = 16
        return ws

    book.remove(book.active)
    info = book.create_sheet(pgettext("workbook sheet", "说明"))
    org = years[-1][1]["organisation"]
    last = years[-1][1]["period"]
    span = f"{years[0][1]['period']['from']} — {last['to']}"
    if last["to"] > timezone.localdate():
        span = _("%(span)s（尚未结束）") % {"span": span}
    for row in (
        (_("单位"), aside(org["name"], org["code"])),
        (_("统计期"), span),
        (_("截止日期"), str(last["cutoff"])),
        (_("生成时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        (_("金额单位"), _("元；标“万元”的列为万元（四位小数）")),
        (_("人数"), str(PEOPLE_NOTE)),
    ):
        _append(info, row)
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 40

    year_names = [year for year, _ in years]
    on_file_keys = [
        ("households", _("在档户数")),
        ("relieved", _("其中解困")),
        ("stock", _("存量")),
        ("new", _("增量")),
        ("relapsed", _("返困")),
        ("migrant_workers", _("农民工")),
    ]
    rows = [[label, *[item["on_file"][key] for _, item in years]] for key, label in on_file_keys]
    for code, name in names["cause"].items():
        rows.append(
            [
                _("致困原因：%(name)s") % {"name": name},
                *[item["on_file"]["by_cause"].get(code, 0) for _, item in years],
            ]
        )
    for code, name in names["category"].items():
        rows.append(
            [
                _("困难类别：%(name)s") % {"name": name},
                *[item["on_file"]["by_category"].get(code, 0) for _, item in years],
            ]
        )
    sheet(_("在档情况"), [_("项目"), *year_names], rows)

    movement_keys = [
        ("applied", _("受理申请")),
        ("filed", _("新建档")),
        ("relieved", _("解困")),
        ("relieved_stock", _("其中存量解困")),
        ("exited", _("脱困")),
        ("exited_stock", _("其中存量脱困")),
        ("deregistered", _("注销")),
        ("under_review", _("截止日审核中")),
    ]
    rows = [[label, *[item["movements"][key] for _, item in years]] for key, label in movement_keys]
    rows.append([_("年初在档户数"), *[item["target"]["on_file_at_start"] for _, item in years]])
    for code, name in names["reason"].items():
        rows.append(
            [
                _("注销原因：%(name)s") % {"name": name},
                *[item["movements"]["deregistered_by_reason"].get(code, 0) for _, item in years],
            ]
        )
    rows.append([_("解困脱困户数"), *[item["target"]["relieved_or_exited"] for _, item in years]])
    rows.append(
        [
            _("解困脱困率"),
            *[
                NOT_APPLICABLE if rate is None else float(rate)
                for rate in (item["target"]["rate"] for _, item in years)
            ],
        ]
    )
    rows.append([_("目标"), *[float(item["target"]["goal"]) for _, item in years]])
    rate_rows = (len(rows), len(rows) + 1)  # + the header row: the rate and the goal
    if note := rate_note(years):
        rows.append([note])
    ws = sheet(_("解困脱困"), [_("项目"), *year_names], rows)
    for cells in ws.iter_rows(min_row=rate_rows[0], max_row=rate_rows[1], min_col=2):
        for cell in cells:
            cell.number_format = "0.00%"

    fund_rows = []
    for year, item in years:
        funds = item["funds"]
        lines = [(names["source"].get(code, code), row) for code, row in funds["by_source"].items()]
        if funds["total"]:
            lines.append((_("合计"), funds["total"]))
        for name, row in lines:
            fund_rows.append(
                [
                    year,
                    name,
                    *[row[k] for k in BALANCE_KEYS],
                    *[wanyuan(row[k]) for k in BALANCE_KEYS],
                ]
            )
    balance_titles = [_("上年结余"), _("拨入"), _("支出"), _("退回"), _("借款归还"), _("结余")]
    sheet(
        _("资金"),
        [
            _("年度"),
            _("资金来源"),
            *balance_titles,
            *[_("%(title)s（万元）") % {"title": title} for title in balance_titles],
        ],
        fund_rows,
        money_columns=range(3, 3 + len(BALANCE_KEYS)),
        wan_columns=range(3 + len(BALANCE_KEYS), 3 + 2 * len(BALANCE_KEYS)),
    )

    type_rows = []
    for year, item in years:
        for code, row in item["funds"]["by_assistance_type"].items():
            type_rows.append(
                [
                    year,
                    names["assistance_type"].get(code, code),
                    row["households"],
                    row["payments"],
                    row["amount"],
                    wanyuan(row["amount"]),
                ]
            )
    sheet(
        _("帮扶项目"),
        [_("年度"), _("帮扶类型"), _("户数"), _("笔数"), _("金额"), _("金额（万元）")],
        type_rows,
        money_columns=(5,),
        wan_columns=(6,),
    )

    service_rows, money_rows = [], []
    for year, item in years:
        services = item["services"]
        for code, count in services["cases_by_window"].items():
            service_rows.append([year, names["window"].get(code, code), count])
        service_rows.append([year, _("合计（件）"), services["cases_total"]])
        legal_aid, referrals = services["legal_aid"], services["job_referrals"]
        service_rows.append([year, _("法律援助案件"), legal_aid["cases"]])
        for label, amount in (
            (_("追回拖欠工资（元）"), legal_aid["wages_recovered"]),
            (_("其中农民工（元）"), legal_aid["wages_recovered_migrant"]),
        ):
            service_rows.append([year, label, amount, wanyuan(amount)])
            money_rows.append(len(service_rows) + 1)  # + the header row
        service_rows += [
            [year, _("职业介绍（人）"), referrals["referred"]],
            [year, _("成功就业（人）"), referrals["placed"]],
            [year, _("参加培训（人次）"), services["trainees"]],
        ]
    ws = sheet(_("服务中心"), [_("年度"), _("项目"), _("数量"), _("万元")], service_rows)
    for row in money_rows:
        ws.cell(row, 3).number_format = yuan_format()
        ws.cell(row, 4).number_format = wan_format()

    latest = years[-1][1]
    if latest.get("children"):
        sheet(
            _("各县（区）") if latest.get("compared") == COUNTIES else _("下级组织"),
            [
                _("单位"),
                _("在档户数"),
                _("存量"),
                _("新建档"),
                _("解困"),
                _("脱困"),
                _("注销"),
                _("帮扶支出"),
                _("服务中心件数"),
                _("帮扶支出（万元）"),
            ],
            [
                [row["name"], *(row[key] for key in COMPARED), wanyuan(row["paid"])]
                for row in comparison(latest)
            ],
            money_columns=(8,),
            wan_columns=(10,),
        )

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMATS = {"json": to_json, "pdf": to_pdf, "xlsx": to_xlsx}
CONTENT_TYPES = {
    "json": "application/json",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def filename(data: dict, fmt: str) -> str:
    years = years_of(data)
    org = years[-1][1]["organisation"]
    span = years[0][0] if len(years) == 1 else f"{years[0][0]}-{years[-1][0]}"
    return f"summary-{org['code']}-{span}-{timezone.localdate():%Y%m%d}.{fmt}"
