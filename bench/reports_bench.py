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
from datetime import date

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

HAND_SQL = """
WITH scope AS (
  SELECT h.id, h.is_migrant_worker, h.primary_cause_id, h.category_id
  FROM households_household h JOIN orgs_organisation o ON o.id = h.organisation_id
  WHERE o.path LIKE %(path)s
), in_force AS (
  SELECT t.to_status, t.period_id, s.is_migrant_worker, s.primary_cause_id, s.category_id
  FROM households_transition t JOIN scope s ON s.id = t.household_id
  WHERE t.effective_date <= %(cutoff)s AND (t.valid_until IS NULL OR t.valid_until > %(cutoff)s)
)
SELECT
  (SELECT count(*) FILTER (WHERE to_status IN ('on_file', 'relieved'))
          FROM in_force) AS on_file,
  (SELECT count(*) FILTER (WHERE to_status = 'relieved') FROM in_force) AS relieved,
  (SELECT count(*) FROM in_force f JOIN households_filingperiod p ON p.id = f.period_id
     WHERE f.to_status IN ('on_file', 'relieved') AND p.filed_on <= %(baseline)s
       AND p.origin <> 'relapsed') AS stock,
  (SELECT count(*) FILTER (WHERE to_status IN ('on_file', 'relieved') AND is_migrant_worker)
          FROM in_force) AS migrant,
  (SELECT json_object_agg(primary_cause_id, n) FROM (SELECT primary_cause_id, count(*) n
     FROM in_force WHERE to_status IN ('on_file', 'relieved') GROUP BY 1) c) AS by_cause,
  (SELECT json_object_agg(coalesce(category_id, 0), n) FROM (SELECT category_id, count(*) n
     FROM in_force WHERE to_status IN ('on_file', 'relieved') GROUP BY 1) c) AS by_category,
  (SELECT count(*) FILTER (WHERE to_status IN ('applied', 'reviewed', 'notice'))
          FROM in_force) AS under_review,
  (SELECT json_build_object(
      'applied', count(*) FILTER (WHERE t.to_status = 'applied'),
      'filed', count(*) FILTER (WHERE t.to_status = 'on_file'),
      'relieved', count(*) FILTER (WHERE t.to_status = 'relieved'),
      'exited', count(*) FILTER (WHERE t.to_status = 'exited'),
      'deregistered', count(*) FILTER (WHERE t.to_status = 'deregistered'))
     FROM households_transition t JOIN scope s ON s.id = t.household_id
     WHERE t.effective_date BETWEEN %(start)s AND %(cutoff)s) AS movements
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

        from households.notice_pdf import html_to_pdf

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
