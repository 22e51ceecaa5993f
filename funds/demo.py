"""Demo reference data: the DOMAIN.md default assistance standards for the region (recent
years), and on request some receipts and payments for the demo households."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from funds.models import (
    AssistanceRequest,
    AssistanceStandard,
    AssistanceType,
    FundSource,
    Receipt,
    SecondApprover,
    StandardScope,
    Tier,
)
from households.models import Household
from orgs.models import User

D = Decimal
# (type, tier, fields) — DOMAIN.md "Assistance" [002, 003]: dibao households twice a year 500
# yuan, capped at 12 months of the dibao line (8 for relative hardship); medical aid 2,000 twice
# a year, 5,000 once for cancer, never above the out-of-pocket share, large sums approved by the
# region; schooling by stage, once a year per student (per person, not per household); festival
# visits 1,000; one project a year warns.
DEFAULT_STANDARDS = [
    (
        "living",
        Tier.GENERAL,
        {
            "amount_cap": D("500.00"),
            "times_per_year": 2,
            "annual_months_deep": D("12"),
            "annual_months_relative": D("8"),
        },
    ),
    (
        "medical",
        Tier.GENERAL,
        {
            "amount_cap": D("2000.00"),
            "times_per_year": 2,
            "cap_out_of_pocket": True,
            "second_approval_above": D("10000.00"),
            "second_approver": SecondApprover.REGION,
        },
    ),
    (
        "medical",
        Tier.SERIOUS_ILLNESS,
        {"amount_cap": D("2000.00"), "times_per_year": 2, "cap_out_of_pocket": True},
    ),
    (
        "medical",
        Tier.TERMINAL,
        {
            "amount_cap": D("5000.00"),
            "times_per_year": 1,
            "cap_out_of_pocket": True,
            "second_approval_above": D("3000.00"),
            "second_approver": SecondApprover.SAME_LEVEL,
        },
    ),
    (
        "schooling",
        Tier.SENIOR,
        {"amount_cap": D("3000.00"), "times_per_year": 1, "scope": StandardScope.PERSON},
    ),
    (
        "schooling",
        Tier.COLLEGE,
        {"amount_cap": D("5000.00"), "times_per_year": 1, "scope": StandardScope.PERSON},
    ),
    (
        "schooling",
        Tier.POSTGRADUATE,
        {"amount_cap": D("10000.00"), "times_per_year": 1, "scope": StandardScope.PERSON},
    ),
    ("festival", Tier.GENERAL, {"amount_cap": D("1000.00"), "times_per_year": 1}),
    (
        "small_loan",
        Tier.GENERAL,
        {
            "amount_cap": D("20000.00"),
            "times_per_year": 1,
            "second_approval_above": D("10000.00"),
            "second_approver": SecondApprover.PARENT,
        },
    ),
]
NOTE = "演示标准：参照各地公布的困难职工帮扶标准拟定，使用前请按本地文件修改。"


def standard_years(today: date | None = None) -> range:
    today = today or timezone.localdate()
    return range(today.year - 2, today.year + 2)


@transaction.atomic
def seed_reference(*, orgs, stdout):
    region = orgs["450000"]
    types = {kind.code: kind for kind in AssistanceType.objects.all()}
    created = 0
    for year in standard_years():
        for code, tier, fields in DEFAULT_STANDARDS:
            _standard, made = AssistanceStandard.objects.get_or_create(
                organisation=region,
                year=year,
                assistance_type=types[code],
                tier=tier,
                defaults={**fields, "note": NOTE},
            )
            created += made
    stdout.write(f"Assistance standards: {created} created for {region.name}.")


def seed_records(*, orgs, households, seed, stdout):
    """This year's receipts for each county and a few paid requests for its households, through
    the services (so every rule holds). Runs once: skipped when the receipts exist."""
    from funds import services

    today = timezone.localdate()
    if Receipt.objects.filter(document_number__startswith="演示").exists():
        stdout.write("Demo fund records already exist.")
        return
    rng = random.Random(seed)
    sources = {source.code: source for source in FundSource.objects.all()}
    types = {kind.code: kind for kind in AssistanceType.objects.all()}
    start = date(today.year, 1, 1)
    paid = waiting = 0
    for code in ("450102", "450103"):
        county = orgs[code]
        finance = User.objects.get(username=f"finance_{code}")
        clerk = User.objects.get(username=f"clerk_{code}")
        supervisor = User.objects.get(username=f"supervisor_{code}")
        with transaction.atomic():
            for source, amount in (("central", "300000.00"), ("upper_union", "80000.00")):
                services.receipt_record(
                    user=finance,
                    organisation=county,
                    source=sources[source],
                    year=today.year,
                    amount=D(amount),
                    received_on=start,
                    document_number=f"演示桂财行〔{today.year}〕{rng.randint(1, 99)}号",
                )
        candidates = (
            Household.objects.filter(organisation=county)
            .supported()
            .exclude(bank_account="")
            .exclude(pk__in=AssistanceRequest.objects.values("household"))
            .order_by("id")[:20]
        )
        for household in candidates:
            filed_on = household.current_period.filed_on if household.current_period else None
            on = max(start, filed_on or start) + timedelta(days=rng.randint(0, 30))
            if on > today:
                continue
            try:
                with transaction.atomic():
                    request = services.request_create(
                        user=clerk,
                        household=household,
                        assistance_type=types["festival"],
                        source=sources["upper_union"],
                        amount=D("1000.00"),
                        reason="春节送温暖",
                        requested_on=on,
                    )
                    services.request_approve(user=supervisor, request=request)
                    if rng.random() < 0.7:
                        services.payment_mark_paid(
                            user=finance,
                            request=request,
                            paid_on=today,  # approved today: not paid before it
                            bank_reference=f"DEMO{request.pk:06d}",
                        )
                        paid += 1
            except ValidationError as error:  # demo data: skip a household that fails
                stdout.write(f"  skipped {household.file_number}: {error}")
        waiting += seed_waiting(
            county=county, clerk=clerk, supervisor=supervisor, today=today, stdout=stdout
        )
    stdout.write(
        f"Demo fund records: receipts for 2 counties, {paid} payments, "
        f"{waiting} requests awaiting a decision."
    )


# Requests left waiting, so each supervisor of the demo has something to decide: (type, tier,
# amount, out-of-pocket, reason, approved by the county supervisor already). The terminal-illness
# request above 3,000 then waits for a second supervisor of the county, the small loan above
# 10,000 for the city (DEFAULT_STANDARDS).
WAITING = [
    ("living", Tier.GENERAL, "500.00", None, "冬季取暖及生活补助", False),
    ("living", Tier.GENERAL, "300.00", None, "子女返校前生活补助", False),
    ("medical", Tier.TERMINAL, "4000.00", "6500.00", "肝癌住院治疗，自付部分救助", True),
    ("small_loan", Tier.GENERAL, "15000.00", None, "开办早餐店周转资金，分期归还", True),
]


def seed_waiting(*, county, clerk, supervisor, today, stdout) -> int:
    from funds import services

    sources = {source.code: source for source in FundSource.objects.all()}
    types = {kind.code: kind for kind in AssistanceType.objects.all()}
    candidates = (
        Household.objects.filter(organisation=county)
        .supported()
        .exclude(bank_account="")
        .order_by("-id")[: len(WAITING)]
    )
    made = 0
    for household, (code, tier, amount, own_share, reason, first) in zip(
        candidates, WAITING, strict=False
    ):
        try:
            with transaction.atomic():
                request = services.request_create(
                    user=clerk,
                    household=household,
                    assistance_type=types[code],
                    source=sources["central" if code == "medical" else "upper_union"],
                    amount=D(amount),
                    out_of_pocket=D(own_share) if own_share else None,
                    tier=tier,
                    reason=reason,
                    requested_on=today,
                )
                if first:
                    services.request_approve(user=supervisor, request=request)
                made += 1
        except ValidationError as error:  # demo data: skip a household that fails
            stdout.write(f"  skipped {household.file_number}: {error}")
    return made
