"""Benchmarks of issue 6 (run by hand; results in README).

    DATABASE_URL=postgres://…/bangfu_bench .venv/bin/python bench/reports_bench.py

needs `seed_demo --households 1000000` in that database for the JSON summary part.
1. The JSON summary of the region (every household) vs one hand-written SQL query computing the
   same household figures in the same run (target: < 1 s, and within 3×).
2. A one-page Chinese county summary PDF vs the same page in a Latin font (target: within 2×).
3. A 10,000-household roster PDF (target: < 20 s).
"""

import json
import time
from datetime import date, timedelta

from common import machine, report, setup, timed

setup()

from django.db import connection  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import timezone  # noqa: E402

from households.models import Household  # noqa: E402
from orgs.models import Organisation  # noqa: E402
from reports import render, roster  # noqa: E402
from reports.selectors import Period  # noqa: E402
from reports.summary import build, to_json_shape  # noqa: E402

# The household figures of the region and of each child, hand-written: the same two span scans
# and the movements, grouped by organisation, reading the copies on the history rows.
HAND_SQL = """
WITH scope AS (
  SELECT id FROM orgs_organisation WHERE path LIKE %(path)s
), spans AS (
  SELECT organisation_id, primary_cause_id, category_id, is_migrant_worker, filed_on, origin,
         to_status, effective_date, valid_until
  FROM households_transition
  WHERE valid_until IS NULL AND effective_date <= %(cutoff)s
    AND organisation_id IN (SELECT id FROM scope)
  UNION ALL
  SELECT organisation_id, primary_cause_id, category_id, is_migrant_worker, filed_on, origin,
         to_status, effective_date, valid_until
  FROM households_transition
  WHERE valid_until > %(before)s AND effective_date <= %(cutoff)s
    AND organisation_id IN (SELECT id FROM scope)
), status AS (
  SELECT organisation_id, primary_cause_id, category_id,
    count(*) FILTER (WHERE now AND to_status IN ('on_file', 'relieved')) AS households,
    count(*) FILTER (WHERE now AND to_status = 'relieved') AS relieved,
    count(*) FILTER (WHERE now AND to_status IN ('on_file', 'relieved')
                     AND filed_on <= %(baseline)s AND origin <> 'relapsed') AS stock,
    count(*) FILTER (WHERE now AND to_status IN ('on_file', 'relieved')
                     AND origin = 'relapsed') AS relapsed,
    count(*) FILTER (WHERE now AND to_status IN ('on_file', 'relieved')
                     AND is_migrant_worker) AS migrant,
    count(*) FILTER (WHERE now AND to_status IN ('applied', 'reviewed', 'notice')) AS review,
    count(*) FILTER (WHERE effective_date <= %(before)s
                     AND (valid_until IS NULL OR valid_until > %(before)s)
                     AND to_status IN ('on_file', 'relieved')) AS at_start
  FROM (SELECT *, valid_until IS NULL OR valid_until > %(cutoff)s AS now FROM spans) s
  GROUP BY 1, 2, 3
), moves AS (
  SELECT organisation_id, to_status, deregistration_reason, count(*) AS n,
    count(*) FILTER (WHERE filed_on <= %(baseline)s AND origin <> 'relapsed') AS stock
  FROM households_transition
  WHERE effective_date BETWEEN %(start)s AND %(cutoff)s
    AND to_status IN ('applied', 'on_file', 'relieved', 'exited', 'deregistered')
    AND organisation_id IN (SELECT id FROM scope)
  GROUP BY 1, 2, 3
)
SELECT (SELECT json_agg(status) FROM status), (SELECT json_agg(moves) FROM moves)
"""


def main():
    print(
        f"machine: {machine()}; date: {timezone.localdate()}; "
        f"database: {connection.vendor}; households: {Household.objects.count():,}"
    )
    region = Organisation.objects.get(code="450000")
    year = timezone.localdate().year - 1
    period = Period(
        date(year, 1, 1),
        date(year, 12, 31),
        date(year, 12, 31),
        region.setting("stock_baseline_date"),
    )

    def summary_json():
        return json.dumps(to_json_shape(build(region, period)), ensure_ascii=False)

    def hand_sql():
        with connection.cursor() as cursor:
            cursor.execute(
                HAND_SQL,
                {
                    "path": region.path + "%",
                    "cutoff": period.cutoff,
                    "baseline": period.baseline,
                    "start": period.date_from,
                    "before": period.date_from - timedelta(days=1),
                },
            )
            return cursor.fetchone()

    if connection.vendor == "postgresql":
        ours, _ = timed(summary_json, repeat=7, warmup=1)
        reference, _ = timed(hand_sql, repeat=7, warmup=1)
        report(f"JSON summary, region, {year} (target < 1 s)", ours, 1.0)
        report("  reference: hand-written SQL of the household figures", reference)
        print(f"  ratio {ours / reference:.2f} (target within 3x)")

    county = Organisation.objects.get(code="450102")
    data = build(county, period, with_children=False)
    chinese = render.to_pdf(data)
    assert chinese.startswith(b"%PDF")

    def latin_only():
        # The same layout with the Chinese replaced by Latin text: what a Latin report costs.
        import re

        from orgs.pdf import html_to_pdf

        html = render_to_string("reports/pdf/summary.html", render.context(data))
        html = re.sub(r"[\u3000-\u9fff\uff00-\uffef]", "x", html)
        return html_to_pdf(
            html.replace("Noto Sans CJK SC", "DejaVu Sans"),
            stylesheets=("reports/summary-print.css",),
        )

    cjk, _ = timed(lambda: render.to_pdf(data), repeat=5, warmup=1)
    latin, _ = timed(latin_only, repeat=5, warmup=1)
    report("county summary PDF, Chinese", cjk)
    report("  reference: the same page in a Latin font", latin)
    print(f"  ratio {cjk / latin:.2f} (target within 2x)")

    households = roster.households_on(county, timezone.localdate())
    count = households.count()
    sample = Organisation.objects.get(code="450102")
    start = time.perf_counter()
    pdf = roster.to_pdf(sample, timezone.localdate(), full=False, limit=10_000)
    seconds = time.perf_counter() - start
    report(f"roster PDF, 10,000 of {count:,} households ({len(pdf) // 1024} kB)", seconds, 20.0)


if __name__ == "__main__":
    main()
