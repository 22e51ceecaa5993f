"""The annual summary as one plain dict: the shape README documents and every renderer uses."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.models import Organisation
from reports import sections
from reports.selectors import MOVEMENT_KEYS, Period, default_cutoff, household_figures, target

# What the last section compares side by side: the organisation's direct children, or every
# county (区/县) of its subtree, which a region's viewer compares across its cities.
CHILDREN, COUNTIES = "children", "counties"


def compared_parts(org: Organisation, compare: str = CHILDREN) -> list[Organisation]:
    """The organisations compared (none inside another, so their figures add up), ordered so
    that a city's counties stand together."""
    if compare == COUNTIES:
        counties = Organisation.objects.subtree(org).filter(level=Organisation.Level.COUNTY)
        keys = list(counties.exclude(pk=org.pk).values_list("pk", flat=True))
        return sorted(Organisation.with_ancestors(keys).values(), key=lambda o: o.path)
    children = list(org.children.order_by("code"))
    for child in children:  # its settings (the yearly target's goal) without a query each
        child.ancestors_and_self = [*org.ancestors_and_self, child]
    return children


def check_compare(org: Organisation, compare: str) -> None:
    """Counties are compared below a region or a city; a county's own parts are its base
    unions (its direct children)."""
    if compare == COUNTIES and org.level not in (
        Organisation.Level.REGION,
        Organisation.Level.CITY,
    ):
        raise ValidationError(
            {
                "compare": _("%(name)s 以下没有县（区）总工会：请选择对比直属下级单位。")
                % {"name": org.name}
            },
            code="no_counties",
        )


def build(
    org: Organisation, period: Period, *, with_children: bool = True, compare: str = CHILDREN
) -> dict:
    children = compared_parts(org, compare) if with_children else []
    # Each figure is read for the organisation and all its children at once.
    figures = {
        "households": household_figures(org, period, children),
        "funds": sections.funds(org, children, period),
        "services": sections.services(org, children, period),
    }
    data = _section(org, period, figures)
    if with_children:
        # A retired child still counts in the total while it has figures of the period (files,
        # payments or service cases): it stays listed then, or they would read as 本级's own.
        listed = [(child, _section(child, period, figures)) for child in children]
        data["children"] = [
            section
            for child, section in listed
            if child.is_active or any(figure(section) for figure in COMPARED.values())
        ]
        data["compared"] = compare
    return data


# The columns of the comparison of child organisations (section 5 of the page, PDF and Excel).
COMPARED = {
    "households": lambda item: item["on_file"]["households"],
    "stock": lambda item: item["on_file"]["stock"],
    "filed": lambda item: item["movements"]["filed"],
    "relieved": lambda item: item["movements"]["relieved"],
    "exited": lambda item: item["movements"]["exited"],
    "deregistered": lambda item: item["movements"]["deregistered"],
    "paid": lambda item: item["funds"]["total"]["paid"],
    "cases": lambda item: item["services"]["cases_total"],
}


def comparison(data: dict) -> list[dict]:
    """One row per child, then 本级: what the organisation holds itself, outside every child
    (a county keeps its files itself, its base unions none), so that the rows add up to the
    organisation's total."""
    rows = [
        {"name": child["organisation"]["name"], **{k: f(child) for k, f in COMPARED.items()}}
        for child in data.get("children", [])
    ]
    own = {key: figure(data) - sum(row[key] for row in rows) for key, figure in COMPARED.items()}
    if any(own.values()):
        # Beside the counties, the rest is what the region and its cities hold themselves.
        name = _("本级及市级") if data.get("compared") == COUNTIES else _("本级")
        rows.append({"name": name, **own})
    return rows


def _section(org: Organisation, period: Period, figures: dict) -> dict:
    """`org`'s part of `figures` (build's: by figure, then by organisation id)."""
    households = figures["households"][org.pk]
    return {
        "organisation": {"code": org.code, "name": org.name},
        "period": {"from": period.date_from, "to": period.date_to, "cutoff": period.cutoff},
        "on_file": households["on_file"],
        "movements": households["movements"],
        "funds": figures["funds"][org.pk],
        "services": figures["services"][org.pk],
        "target": target(org, households),
    }


MAX_YEARS = 10
FIRST_YEAR = 2000  # the earliest year a report covers


def parse_years(text: str) -> tuple[int, int]:
    """ "2019" or "2017-2019": at most ten years, one column each (what an A4 page holds), from
    FIRST_YEAR to the current year."""
    try:
        parts = [int(part) for part in text.split("-")]
    except ValueError:
        raise ValidationError(_("年度格式应为 2019 或 2017-2019。"), code="format") from None
    if len(parts) > 2:
        raise ValidationError(_("年度格式应为 2019 或 2017-2019。"), code="format")
    check_years(parts[0], parts[-1])
    return parts[0], parts[-1]


def check_years(first: int, last: int) -> None:
    """The years of a report: in order, from FIRST_YEAR to this year (a year that has not begun
    has no figures yet), at most MAX_YEARS of them."""
    current = timezone.localdate().year
    if first > last:
        raise ValidationError(
            _("年度范围颠倒了：起始年 %(first)d 晚于结束年 %(last)d，应写作 %(last)d-%(first)d。")
            % {"first": first, "last": last},
            code="reversed",
        )
    if first < FIRST_YEAR:
        raise ValidationError(
            _("年度应在 %(min)d 年至今年（%(max)d 年）之间：%(year)d 年早于 %(min)d 年。")
            % {"min": FIRST_YEAR, "max": current, "year": first},
            code="too_early",
        )
    if last > current:
        raise ValidationError(
            _("%(year)d 年尚未开始：年度最晚为今年（%(max)d 年）。")
            % {"year": last, "max": current},
            code="future",
        )
    if last - first >= MAX_YEARS:
        raise ValidationError(_("一次最多对比 %(n)d 个年度。") % {"n": MAX_YEARS}, code="too_many")


def check_dates(
    first: int,
    last: int,
    *,
    cutoff: date | None,
    baseline: date | None,
    default_baseline: date | None = None,
) -> None:
    """Every rule of a report's dates, each refusal keyed by the field it is about (years,
    cutoff, baseline): the form shows it there, the command names its option. Without a
    baseline typed, the organisation's (`default_baseline`) is checked in its place."""
    errors = {}
    try:
        check_years(first, last)
    except ValidationError as exc:
        errors["years"] = exc
    else:
        try:
            check_cutoff(first, last, cutoff)
        except ValidationError as exc:
            errors["cutoff"] = exc
        else:
            try:
                check_baseline(first, last, cutoff, baseline, default_baseline)
            except ValidationError as exc:
                errors["baseline"] = exc
    if errors:
        raise ValidationError(errors)


def build_years(
    org: Organisation,
    first: int,
    last: int,
    *,
    cutoff: date | None,
    baseline: date | None,
    compare: str = CHILDREN,
) -> dict:
    """One summary per year (the seed's 2017–2019 columns); the cut-off limits the last year
    (by default its end, or today while it runs)."""
    check_compare(org, compare)
    check_dates(
        first,
        last,
        cutoff=cutoff,
        baseline=baseline,
        default_baseline=org.setting("stock_baseline_date"),
    )
    whole = Period.for_years(org, first, last, cutoff=cutoff, baseline=baseline)
    years = {}
    for year in range(first, last + 1):
        period = Period.for_years(org, year, baseline=whole.baseline)
        if year == last:
            period = replace(period, cutoff=whole.cutoff)
        years[str(year)] = build(org, period, compare=compare)
    return {"years": years}


def check_cutoff(first: int, last: int, cutoff: date | None) -> None:
    """A cut-off is a day that has passed (the figures of a day to come do not exist yet) and
    ends the last year of the span: the years before it are always reported whole, so a
    cut-off in an earlier year would mix figures of different dates."""
    if cutoff is None:
        return
    check_cutoff_has_passed(cutoff)
    if date(last, 1, 1) <= cutoff <= date(last, 12, 31):
        return
    if first == last:
        message = _("截止日期 %(cutoff)s 不在统计期 %(start)s 至 %(end)s 之内。")
    else:
        message = _(
            "截止日期只限定最后一年：%(cutoff)s 不在 %(start)s 至 %(end)s 之内。"
            "要统计更早的截止日期，请把年度范围截到那一年。"
        )
    raise ValidationError(
        message % {"cutoff": cutoff, "start": date(last, 1, 1), "end": date(last, 12, 31)},
        code="outside",
    )


def check_cutoff_has_passed(cutoff: date) -> None:
    """The figures of a day to come do not exist yet (whatever the years asked for)."""
    today = timezone.localdate()
    if cutoff > today:
        raise ValidationError(
            _("截止日期不能晚于今天（%(today)s）：%(cutoff)s 的数据还没有发生。")
            % {"today": today, "cutoff": cutoff},
            code="future",
        )


def check_baseline(
    first: int,
    last: int,
    cutoff: date | None,
    baseline: date | None,
    default_baseline: date | None = None,
) -> None:
    """Stock (存量) is what was filed on or before the baseline: a baseline after a year's
    cut-off would make every file of that year stock. Every year of a span counts stock against
    the one baseline, each on its own cut-off, so the first year's (the earliest) decides, as
    its single-year report would; the organisation's baseline, used when none is typed, is held
    to the same rule."""
    year_cutoff = (cutoff or default_cutoff(last)) if first == last else default_cutoff(first)
    if baseline is None:
        if default_baseline is not None and default_baseline > year_cutoff:
            raise ValidationError(
                _(
                    "单位设置的存量基准日 %(baseline)s 晚于 %(year)d 年的截止日期 %(cutoff)s，"
                    "该年所有档案都会算作存量：请为本报表填写存量基准日。"
                )
                % {"baseline": default_baseline, "year": first, "cutoff": year_cutoff},
                code="default_after_cutoff",
            )
        return
    if baseline <= year_cutoff:
        return
    if first == last:
        message = _("存量基准日 %(baseline)s 不能晚于截止日期 %(cutoff)s，否则所有档案都算作存量。")
    else:
        message = _(
            "存量基准日 %(baseline)s 不能晚于 %(year)d 年的截止日期 %(cutoff)s，"
            "否则该年所有档案都算作存量：各年按同一基准日统计存量。"
        )
    raise ValidationError(
        message % {"baseline": baseline, "year": first, "cutoff": year_cutoff},
        code="after_cutoff",
    )


def jsonable(value):
    """Amounts become strings in yuan with two decimals; dates ISO strings; rates 4 decimals."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        places = 4 if isinstance(exponent, int) and exponent < -2 else 2
        return f"{value:.{places}f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_json_shape(data: dict) -> dict:
    """Only the keys of the published schema (README), every one present."""
    if "years" in data:
        return {"years": {year: to_json_shape(item) for year, item in data["years"].items()}}
    shaped = {
        "organisation": data["organisation"],
        "period": data["period"],
        "on_file": {
            key: data["on_file"][key]
            for key in (
                "households",
                "relieved",
                "stock",
                "relapsed",
                "migrant_workers",
                "by_cause",
                "by_category",
            )
        },
        "movements": {
            key: data["movements"][key]
            for key in (*MOVEMENT_KEYS, "deregistered_by_reason", "under_review")
        },
        "funds": data["funds"],
        "services": {
            key: data["services"][key]
            for key in ("cases_by_window", "cases_total", "legal_aid", "job_referrals", "trainees")
        },
        # rate: null without households on file at the start (not applicable); the two counts
        # it divides say why it may pass 1 (reports.selectors.target).
        "target": {
            key: data["target"][key]
            for key in ("rate", "goal", "relieved_or_exited", "on_file_at_start")
        },
    }
    if "children" in data:
        shaped["compared"] = data["compared"]
        shaped["children"] = [to_json_shape(child) for child in data["children"]]
    return jsonable(shaped)
