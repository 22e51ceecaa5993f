"""Demo reference data (dibao lines) and, on request, generated household files."""

from decimal import Decimal

from households.models import DibaoStandard

# Illustrative monthly urban dibao lines for the demo region (元/人/月), not official figures.
DEMO_DIBAO = {
    2015: "460",
    2016: "510",
    2017: "560",
    2018: "660",
    2019: "760",
    2020: "810",
    2021: "850",
    2022: "880",
    2023: "905",
    2024: "930",
    2025: "950",
    2026: "970",
    2027: "990",
}


def seed_reference(*, orgs, stdout):
    region = orgs["450000"]
    for year, amount in DEMO_DIBAO.items():
        DibaoStandard.objects.update_or_create(
            organisation=region,
            year=year,
            defaults={"monthly_amount": Decimal(amount), "note": "演示数据"},
        )
