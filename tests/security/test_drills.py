"""Failure drills: what a crash half-way, a race and a restore leave behind.

(a) An approval or a payment that fails after its first write leaves nothing: no approval, no
    ledger entry, no history row, the same state and the same balances.
(b) An import that crashes while writing writes nothing (households/importing.py).
(c) Two supervisors approving at once cannot overdraw a fund (PostgreSQL, real threads; the
    larger races are in tests/funds/test_concurrency.py, whose helper is reused here).
(d) Backup and restore bring every file and payment back, identical.

Backup and restore, as verified here:

    # SQLite (or any database): a logical dump by natural keys, loaded into an empty database
    python manage.py dumpdata --natural-foreign --natural-primary \
        -e contenttypes -e auth.permission -e sessions -e admin.logentry -e reports.report \
        -o backup.json
    python manage.py migrate          # on the new, empty database
    python manage.py loaddata backup.json
    # NOTE: dumpdata writes ID and bank numbers DECRYPTED (the ORM decrypts them): keep the
    # JSON file as secret as the keys, or prefer pg_dump, whose dump keeps the ciphertext.

    # PostgreSQL: the custom-format dump, restored into a new database
    pg_dump -Fc -f bangfu.dump bangfu
    createdb bangfu_restored && pg_restore --no-owner -d bangfu_restored bangfu.dump

Either way the restored data is readable only with the same PII_ENCRYPTION_KEYS and PII_HASH_KEY
(keep them with the backups, apart from them).
"""

import os
import subprocess
import tempfile
import uuid
from datetime import date
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from funds import selectors
from funds import services as funds
from funds.models import Approval, AssistanceRequest, LedgerEntry, Receipt, RequestState
from households.models import FilingPeriod, Household, Member, Transition
from orgs import pii
from tests.funds.test_concurrency import run_at_once

D = Decimal
YEAR = timezone.localdate().year
TODAY = timezone.localdate  # read when used: a run may cross midnight in Asia/Shanghai


class Crash(Exception):
    """The power cut in the middle of a write."""


def history_rows() -> int:
    return AssistanceRequest.history.count()


def money_state(orgs, sources):
    account = {"organisation": orgs["450102"], "source": sources["central"]}
    return {
        "approvals": Approval.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "history": history_rows(),
        "states": dict(AssistanceRequest.objects.values_list("pk", "state")),
        "balance": selectors.balance(**account),
        "committed": selectors.committed(**account),
    }


# --- (a) half-way failures ----------------------------------------------------------------------

# Where the crash happens: the request's own save (after the approval row or the ledger entry
# was written) or the field-history row written after that save.
CRASH_POINTS = {
    "state save": ("funds.models.AssistanceRequest.save", {}),
    "history write": ("simple_history.models.HistoricalRecords.create_historical_record", {}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("point", sorted(CRASH_POINTS))
def test_an_approval_that_fails_half_way_leaves_nothing(
    point, filed, receive, ask, users, orgs, sources
):
    receive("5000.00", on=date(YEAR, 1, 2))
    request = ask(filed(), "800.00")
    before = money_state(orgs, sources)
    target, _ = CRASH_POINTS[point]
    with mock.patch(target, side_effect=Crash), pytest.raises(Crash):
        funds.request_approve(user=users["supervisor_450102"], request=request)
    assert money_state(orgs, sources) == before
    # and it works once the fault is gone: the drill could have failed
    funds.request_approve(user=users["supervisor_450102"], request=request)
    assert money_state(orgs, sources)["committed"] == before["committed"] + D("800.00")


@pytest.mark.django_db
@pytest.mark.parametrize("point", sorted(CRASH_POINTS))
def test_a_payment_that_fails_half_way_leaves_nothing(
    point, filed, receive, ask, approve, users, orgs, sources
):
    receive("5000.00", on=date(YEAR, 1, 2))
    request = approve(ask(filed(), "800.00"))
    before = money_state(orgs, sources)
    target, _ = CRASH_POINTS[point]
    # the ledger entry is written first; the crash comes after it
    with mock.patch(target, side_effect=Crash), pytest.raises(Crash):
        funds.payment_mark_paid(
            user=users["finance_450102"], request=request, paid_on=TODAY(), bank_reference="B-1"
        )
    assert money_state(orgs, sources) == before
    funds.payment_mark_paid(
        user=users["finance_450102"], request=request, paid_on=TODAY(), bank_reference="B-1"
    )
    after = money_state(orgs, sources)
    assert after["ledger"] == before["ledger"] + 1
    assert after["balance"] == before["balance"] - D("800.00")


@pytest.mark.django_db
def test_a_crash_behind_the_approval_page_is_a_500_and_writes_nothing(
    filed, receive, ask, users, orgs, sources, client
):
    receive("5000.00", on=date(YEAR, 1, 2))
    request = ask(filed(), "800.00")
    before = money_state(orgs, sources)
    client.force_login(users["supervisor_450102"])
    client.raise_request_exception = False
    with mock.patch("funds.models.AssistanceRequest.save", side_effect=Crash):
        response = client.post(
            reverse("funds:request_decide", args=[request.pk]),
            {"decision": "approve", "reason": "同意"},
        )
    assert response.status_code == 500
    assert money_state(orgs, sources) == before


# --- (b) an import that crashes while writing -----------------------------------------------------


def import_tables():
    return {
        model.__name__: model._base_manager.count()
        for model in (Household, Household.history.model, Member, FilingPeriod, Transition)
    }


@pytest.mark.django_db
# The writer inserts the households (and their history, periods, transitions) first, then
# the members: crash when the members are written, or when the workers' own member rows are,
# after their households went to the database.
@pytest.mark.parametrize(("step", "nth"), [("members", 1), ("_members", 1)])
def test_an_import_that_crashes_while_writing_writes_nothing(step, nth, users, dibao, tmp_path):
    from imports.runner import run_import
    from tests.imports.conftest import household_row, member_row, write_workbook

    rows = [household_row(**{"档案编号": f"XN-{n:04d}", "姓名": f"职工{n}"}) for n in range(1, 4)]
    members = [member_row(f"XN-{n:04d}") for n in range(1, 4)]
    path = write_workbook(tmp_path / "book.xlsx", {"households": rows, "members": members})
    before = import_tables()
    real = getattr(__import__("households.importing", fromlist=["_Writer"])._Writer, step)
    calls = []

    def crash(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            raise Crash
        return real(self, *args, **kwargs)

    with mock.patch(f"households.importing._Writer.{step}", crash):
        with pytest.raises(Crash):
            run_import("households", path, user=users["supervisor_450102"], dry_run=False)
    assert len(calls) == nth
    assert import_tables() == before
    # the same workbook imports completely once the fault is gone
    report = run_import("households", path, user=users["supervisor_450102"], dry_run=False)
    assert report.ok, report.errors
    assert import_tables()["Household"] == before["Household"] + 3


# --- (c) racing approvals -------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_supervisors_racing_for_the_last_money(filed, receive, ask, add_user, users, orgs):
    receive("1500.00", on=date(YEAR, 1, 2))  # enough for one of the two
    first, second = ask(filed(), "1000.00"), ask(filed(worker_name="王二"), "1000.00")
    other = add_user("supervisor2_450102", "450102", "supervisor")
    outcomes = run_at_once(
        [
            lambda: funds.request_approve(user=users["supervisor_450102"], request=first),
            lambda: funds.request_approve(user=other, request=second),
        ]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert any("可用余额不足" in outcome for outcome in outcomes), outcomes
    states = set(AssistanceRequest.objects.values_list("state", flat=True))
    assert states == {RequestState.APPROVED, RequestState.REQUESTED}
    account = {"organisation": orgs["450102"], "source": first.source}
    assert selectors.committed(**account) == D("1000.00") <= selectors.balance(**account)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_supervisors_approving_the_same_request_approve_it_once(
    filed, receive, ask, add_user, users
):
    receive("5000.00", on=date(YEAR, 1, 2))
    request = ask(filed(), "1000.00")
    other = add_user("supervisor2_450102", "450102", "supervisor")
    outcomes = run_at_once(
        [
            lambda: funds.request_approve(user=users["supervisor_450102"], request=request),
            lambda: funds.request_approve(user=other, request=request),
        ]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert Approval.objects.filter(request=request).count() == 1


# --- (d) backup and restore -----------------------------------------------------------------------


def populate(filed, receive, ask, approve, pay, make_household, walk):
    """Files with members (encrypted IDs), transitions, receipts, payments and the ledger."""
    receive("20000.00", on=date(YEAR, 1, 2))
    receive("3000.00", source="donation", on=date(YEAR, 1, 3), document_number="捐〔2026〕1号")
    household = filed()
    pay(approve(ask(household, "800.00")), on=TODAY())
    approve(ask(household, "500.00", kind="living"))
    ask(filed(worker_name="王大力"), "300.00")
    walk(make_household(worker_name="陈小红"), "on_file")


def snapshot():
    """Everything a restore must bring back, by natural identifiers (not primary keys)."""
    from funds.models import FundSource
    from orgs.models import Organisation

    households = {
        h.file_number: (h.worker_name, h.id_number, h.bank_account, h.status)
        for h in Household.objects.all()
    }
    members = sorted(
        (m.household.file_number, m.name, m.id_number)
        for m in Member.objects.select_related("household")
    )
    balances = {}
    for org in Organisation.objects.all():
        for source in FundSource.objects.all():
            value = selectors.balance(organisation=org, source=source)
            if value:
                balances[(org.code, source.code)] = value
    return {
        "households": households,
        "members": members,
        "transitions": Transition.objects.count(),
        "requests": sorted(AssistanceRequest.objects.values_list("amount", "state")),
        "ledger": sorted(LedgerEntry.objects.values_list("kind", "amount", "entry_date")),
        "receipts": Receipt.objects.count(),
        "balances": balances,
    }


# reports.report has no table (it only carries permissions): dumpdata fails without -e
DUMP_EXCLUDES = ["contenttypes", "auth.permission", "sessions", "admin.logentry", "reports.report"]


@pytest.mark.django_db
def test_dumpdata_and_loaddata_bring_everything_back(
    filed, receive, ask, approve, pay, make_household, walk, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL round trip is pg_dump/pg_restore, below")
    populate(filed, receive, ask, approve, pay, make_household, walk)
    before = snapshot()
    assert before["households"] and before["balances"]
    backup = tmp_path / "backup.json"
    call_command(
        "dumpdata",
        "--natural-foreign",
        "--natural-primary",
        *[f"--exclude={label}" for label in DUMP_EXCLUDES],
        output=str(backup),
        verbosity=0,
    )
    call_command("flush", interactive=False, verbosity=0)
    assert not Household.objects.exists() and not LedgerEntry.objects.exists()
    call_command("loaddata", str(backup), verbosity=0, stdout=StringIO())
    assert snapshot() == before


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pg_dump_and_pg_restore_bring_everything_back(
    filed, receive, ask, approve, pay, make_household, walk
):
    import psycopg

    populate(filed, receive, ask, approve, pay, make_household, walk)
    before = snapshot()
    household = Household.objects.order_by("pk").first()
    settings = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": settings["HOST"] or "",
        "PGPORT": str(settings["PORT"] or 5432),
        "PGUSER": settings["USER"] or "",
        "PGPASSWORD": settings["PASSWORD"] or "",
    }
    restored = f"bangfu_restore_{uuid.uuid4().hex[:12]}"
    params = {
        "host": env["PGHOST"],
        "port": env["PGPORT"],
        "user": env["PGUSER"],
        "password": env["PGPASSWORD"],
    }
    with tempfile.TemporaryDirectory() as folder:
        dump = os.path.join(folder, "bangfu.dump")
        subprocess.run(  # noqa: S603 - fixed arguments
            ["pg_dump", "-Fc", "-f", dump, settings["NAME"]],
            env=env,
            check=True,  # noqa: S607
        )
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'CREATE DATABASE "{restored}"')
        try:
            subprocess.run(  # noqa: S603
                ["pg_restore", "--no-owner", "-d", restored, dump],  # noqa: S607
                env=env,
                check=True,
            )
            with psycopg.connect(dbname=restored, **params) as copy:
                count = copy.execute("SELECT count(*) FROM households_household").fetchone()[0]
                token, bank = copy.execute(
                    "SELECT id_number, bank_account FROM households_household WHERE id = %s",
                    [household.pk],
                ).fetchone()
                ledger = dict(
                    copy.execute(
                        "SELECT o.code || '/' || s.code, sum(e.amount) FROM funds_ledgerentry e"
                        " JOIN orgs_organisation o ON o.id = e.organisation_id"
                        " JOIN funds_fundsource s ON s.id = e.source_id GROUP BY 1"
                    ).fetchall()
                )
                requests = copy.execute("SELECT count(*) FROM funds_assistancerequest").fetchone()
        finally:
            with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
    assert count == len(before["households"])
    assert token != household.id_number  # stored encrypted …
    assert pii.decrypt(token) == household.id_number  # … and readable with the same keys
    assert (pii.decrypt(bank) if bank else "") == household.bank_account
    assert {key: value for key, value in ledger.items() if value} == {
        f"{org}/{source}": value for (org, source), value in before["balances"].items()
    }
    assert requests[0] == len(before["requests"])
