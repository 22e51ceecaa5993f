"""Benchmark of issue 7 (run by hand; results in README).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bangfu_import_bench \\
        .venv/bin/python bench/imports_bench.py [--households 100000] [--memory 20000,100000]

Creates the database if it is missing, migrates it and seeds the demo organisations. Generates
(once, cached in /tmp) a workbook in the import template's layout with N households and 2.5 N
members, empties the household tables, imports it end to end (read and checked, validated,
written with history, the same `run_import` the pages and commands use) and reports households
per second; then loads the very rows the import wrote with PostgreSQL COPY (dumped with COPY TO,
tables emptied, COPY FROM timed) for comparison. `--memory` runs the import in a fresh process
per size and reports its peak Python heap (tracemalloc) and peak resident memory."""

import argparse
import datetime as dt
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine

DB_NAME = "bangfu_import_bench"
TARGET_RATE = 5000
TARGET_RATIO = 5.0


def ensure_database():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.rstrip("/").endswith("/" + DB_NAME):
        sys.exit(f"set DATABASE_URL=postgres://…/{DB_NAME} (never the shared bangfu_bench)")
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def setup_django():
    from common import setup

    setup()
    from django.conf import settings
    from django.core.management import call_command

    # As in production: with DEBUG on, Django would also log the SQL of every query.
    settings.DEBUG = False

    call_command("migrate", verbosity=0)
    from orgs.demo import seed_organisations_and_users

    seed_organisations_and_users()


TABLES = [
    "households_identityclaim",
    "households_transition",
    "households_historicalmember",
    "households_member",
    "households_filingperiod",
    "households_historicalhousehold",
    "households_household",
]


def empty_tables():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE " + ", ".join(TABLES) + ", households_household_secondary_causes CASCADE"
        )


def workbook_path(households: int) -> Path:
    return Path(tempfile.gettempdir()) / f"bangfu-import-bench-{households}.xlsx"


def generate(households: int) -> Path:
    """A workbook of legacy files as a county sends it: on-file, relieved, exited and
    deregistered files over ten years, 2.5 members per file on average, valid and unique ID
    numbers."""
    path = workbook_path(households)
    if path.exists():
        return path
    from households.demo import AREAS, EMPLOYERS, STREETS, name, person_id_number
    from households.importing import workbook_spec
    from imports.xlsx import export_workbook

    rng = random.Random(7)
    causes = ["因病", "因残", "因子女就学", "低收入", "下岗失业", "单亲", "其他"]
    people_per_file = 6
    member_counts = [rng.choice((1, 2, 2, 3, 3, 4)) for _ in range(households)]  # mean 2.5
    incomes = [[rng.randrange(0, 150) * 10 for _ in range(n)] for n in member_counts]

    def household_rows():
        for i in range(households):
            filed = dt.date(2014, 1, 1) + dt.timedelta(days=rng.randrange(3000))
            roll = rng.random()
            status, relieved, exited, deregistered, reason = "在档", None, None, None, ""
            if roll < 0.15:
                status, relieved = "解困", filed + dt.timedelta(days=400)
            elif roll < 0.27:
                status, exited = "脱困", filed + dt.timedelta(days=700)
            elif roll < 0.32:
                status, deregistered, reason = "注销", filed + dt.timedelta(days=500), "迁出"
            worker_income = rng.randrange(0, 260) * 10
            yield [
                f"B-{i + 1:07d}",
                "450102" if i % 2 else "450103",
                name(rng),
                "",
                person_id_number(i * people_per_file),
                f"13{rng.randrange(10**9):09d}",
                rng.choice(EMPLOYERS),
                rng.random() < 0.2,
                1 + member_counts[i],
                worker_income + sum(incomes[i]),
                rng.choice(causes),
                "深度困难",
                filed,
                status,
                relieved,
                exited,
                deregistered,
                reason,
                "中国工商银行南宁分行",
                f"6217{i:015d}",
                f"南宁市{rng.choice(STREETS)}{rng.randint(1, 300)}号",
            ]

    def member_rows():
        for i in range(households):
            for m in range(member_counts[i]):
                yield [
                    f"B-{i + 1:07d}",
                    name(rng),
                    ["配偶", "子女", "子女", "父母"][m],
                    person_id_number(i * people_per_file + 1 + m),
                    "健康",
                    "在岗",
                    incomes[i][m],
                ]

    assert AREAS
    started = time.perf_counter()
    data = export_workbook(
        workbook_spec(), {"households": household_rows(), "members": member_rows()}
    )
    path.write_bytes(data)
    print(f"generated {path} ({len(data) / 2**20:.1f} MB) in {time.perf_counter() - started:.0f} s")
    return path


def import_once(path: Path):
    from households.models import Household, Member
    from imports.runner import run_import
    from orgs.models import User

    # the region's supervisor: importing approved files takes the approval permission
    user = User.objects.get(username="supervisor_450000")
    empty_tables()
    started = time.perf_counter()
    report = run_import("households", path, user=user, dry_run=False)
    seconds = time.perf_counter() - started
    assert report.ok, report.errors[:5]
    return seconds, Household.objects.count(), Member.objects.count(), report


def copy_baseline() -> float:
    """COPY the rows the import just wrote back into emptied tables; seconds of the load."""
    from django.db import connection, transaction

    dumps = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            dumps[table] = buffer.getvalue()
    empty_tables()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in reversed(TABLES):
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(dumps[table])
    return time.perf_counter() - started


def memory_child(households: int):
    """Run in a fresh process: import with tracemalloc on, print the peaks."""
    import resource
    import tracemalloc

    path = generate(households)
    tracemalloc.start()
    seconds, *_ = import_once(path)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"MEMORY {households} {peak / 2**20:.1f} {rss:.0f} {seconds:.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--memory", default="20000,100000")
    parser.add_argument("--memory-child", type=int)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    ensure_database()
    setup_django()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    from django.db import connection
    from django.utils import timezone

    print(
        f"machine: {machine()}; date: {timezone.localdate()}; "
        f"database: {connection.vendor} {connection.pg_version // 10000}"
    )
    path = generate(args.households)
    if args.profile:
        import cProfile

        cProfile.runctx(
            "import_once(path)",
            globals(),
            {"path": path, "import_once": import_once},
            sort="cumulative",
            filename=str(Path(tempfile.gettempdir()) / "imports_bench.prof"),
        )
        return
    seconds, households, members, report = import_once(path)
    rate = households / seconds
    print(
        f"import {households:,} households + {members:,} members (incl. the workers' own rows): "
        f"{seconds:.1f} s, {rate:,.0f} households/s"
        + ("  OK" if rate >= TARGET_RATE else "  SLOWER THAN TARGET")
    )
    copy_seconds = copy_baseline()
    ratio = seconds / copy_seconds
    print(
        f"COPY of the same rows (households, members, periods, transitions, claims, history): "
        f"{copy_seconds:.1f} s; import / COPY = {ratio:.1f}x"
        + ("  OK" if ratio <= TARGET_RATIO else "  SLOWER THAN TARGET")
    )
    reimport = time.perf_counter()
    from imports.runner import run_import
    from orgs.models import User

    again = run_import(
        "households", path, user=User.objects.get(username="supervisor_450000"), dry_run=False
    )
    print(
        f"re-import of the same workbook (all skipped: {again.sheets['households'].skipped:,}): "
        f"{time.perf_counter() - reimport:.1f} s"
    )
    for size in [int(s) for s in args.memory.split(",") if s]:
        out = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [sys.executable, __file__, "--memory-child", str(size)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout
        line = next(line for line in out.splitlines() if line.startswith("MEMORY"))
        _tag, n, heap, rss, secs = line.split()
        print(f"peak memory, {int(n):,} households: Python heap {heap} MB, resident {rss} MB")


if __name__ == "__main__":
    main()
