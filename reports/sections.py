"""The funds and service-centre sections, from the selectors those apps publish."""

from decimal import Decimal

from funds.models import AssistanceType, FundSource
from funds.selectors import fund_statement, fund_statements_of_units, to_wanyuan
from orgs.models import Organisation
from orgs.money import ZERO
from reports.selectors import Period
from services.selectors import service_centre_summaries, service_centre_summary

BALANCE_KEYS = ("opening", "received", "paid", "refunded", "repaid", "closing")
# 万元 to the yuan, as the summaries sent up write it (27.0873 万元, seed 000).
WAN_PLACES = 4


def wanyuan(amount: Decimal) -> Decimal:
    """Yuan → 万元 with four decimals, rounded half up (Decimal throughout): the one conversion
    of the page, the PDF and the workbook."""
    return to_wanyuan(amount, WAN_PLACES)


def services(org, children, period: Period) -> dict:
    """The service-centre section of `org` and of each of `children`, by organisation id."""
    dates = {"date_from": period.date_from, "date_to": period.cutoff}
    return {
        org.pk: service_centre_summary(organisations_qs_or_user_scope=org, **dates),
        **service_centre_summaries(units=children, **dates),
    }


def funds(org, children, period: Period) -> dict:
    """The funds section of `org` and of each of `children`, by organisation id: per source
    and in total, opening, received, paid, refunded, repaid (small loans paid back), closing
    (every source listed, zeros included); per assistance type: households, payments,
    amount. The same few queries whatever the number of children."""
    dates = {"start": period.date_from, "end": period.date_to, "cutoff": period.cutoff}
    statements = {
        org.pk: fund_statement(organisations=Organisation.objects.subtree(org), **dates),
        **fund_statements_of_units(units=children, **dates),
    }
    sources = list(FundSource.objects.filter(is_active=True).values_list("code", flat=True))
    kinds = list(AssistanceType.objects.values_list("code", flat=True))
    return {pk: _funds(statement, sources, kinds) for pk, statement in statements.items()}


def _funds(statement: dict, sources: list[str], kinds: list[str]) -> dict:
    rows = {row["code"]: row for row in statement["sources"]}
    by_source = {}
    for code in sources:
        row = rows.pop(code, None)
        by_source[code] = {key: row[key] if row else ZERO for key in BALANCE_KEYS}
    for code, row in rows.items():  # a retired source that still holds money
        by_source[code] = {key: row[key] for key in BALANCE_KEYS}
    types = {row["code"]: row for row in statement["types"]}
    by_type = {}
    for code in kinds:
        row = types.get(code)
        by_type[code] = {
            "households": row["households"] if row else 0,
            "payments": row["payments"] if row else 0,
            "amount": row["amount"] if row else ZERO,
        }
    return {
        "by_source": by_source,
        "total": {key: statement["totals"][key] for key in BALANCE_KEYS},
        "by_assistance_type": by_type,
    }
