"""No page's number of SQL queries grows with the rows it shows (no N+1 queries).

Every list-like staff page, every admin changelist and the admin change pages with inlines are
rendered once on the security tests' dataset (tests/security/world.py: one or two records of
each kind), then again after `grow` has added several more of every kind through the real
services: more files in each state, requests, money, cases, courses, users... The second count
may exceed the first by a small constant at most (a section that appears, a cache), never by a
query per row. One dataset for the whole module: the counts are taken once, each page is a test.
"""

import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import on_day
from tests.households.conftest import walk_file
from tests.security.matrix import ADMIN_MODELS, MATRIX, roles_of
from tests.security.world import (
    IN_SCOPE,
    PDF,
    export_job,
    filed_long_ago,
    make_household,
    world,  # noqa: F401 - the module's dataset
)

MORE = 6  # rows added of every kind
UNITS = ("450102", "450102001", "450102002")  # county A and its base unions: where rows go
ALLOWANCE = 2  # queries a page may gain for reasons other than its rows

# Staff pages that list rows (or a record with a list: timeline, members, lines, attendees),
# as the matrix names them (tests/security/matrix.py, which also says who may read them).
LIST_PAGES = [
    "home",
    "households:list",
    "households:list_total",
    "households:standing",
    "households:notice_start",
    "households:detail",
    "households:detail[money]",
    "households:file_pdf[money]",  # the printed file: its members, documents, steps, payments
    "households:spotcheck_list",
    "households:spotcheck_detail",
    "households:late_entries",
    "funds:index",
    "funds:request_list",
    "funds:household_pick",
    "funds:household_year",
    "funds:request_detail",
    "funds:request_detail[loan]",
    "funds:receipt_list",
    "funds:refund_list",
    "funds:ledger",
    "funds:closed_years",
    "funds:batch_list",
    "funds:batch_detail",
    "funds:sample_list",
    "funds:sample_detail",
    "funds:discrepancies",
    "funds:statement",
    "funds:statement_xlsx",
    "funds:export",
    "funds:batch_download",
    "services:case_list",
    "services:case_detail",
    "services:legal_aid_list",
    "services:referral_list",
    "services:course_list",
    "services:course_detail",
    "services:statistics",
    "reports:summary",
    "reports:summary[xlsx]",
    "reports:roster",
    "reports:roster[xlsx]",
    "imports:index",
]
# Pages whose panels or columns differ by role are counted for each role that reads them; the
# others for one (the county's own staff before the city's viewer: county A's rows are theirs).
EVERY_ROLE = {
    "home",
    "households:list",
    "households:standing",
    "households:detail",
    "households:file_pdf",
    "funds:index",
    "funds:request_list",
    "funds:request_detail",
    "services:case_detail",
    "imports:index",
    # the city's viewer sees the counties side by side, the county's staff their base unions
    "funds:statement",
    "reports:summary",
}
ONE_ROLE = ("supervisor", "finance", "clerk", "admin", "viewer")
# A page counted on another record, or with another query, than the matrix's (name[variant]:
# (record names, query string)): the downloads' rows.
VARIANTS = {
    "households:detail[money]": (("money",), ""),
    "households:file_pdf[money]": (("money",), ""),
    "funds:request_detail[loan]": (("loan",), ""),
    "reports:summary[xlsx]": ((), "format=xlsx"),
    "reports:roster[xlsx]": ((), f"org=450102&on={timezone.localdate()}&format=xlsx"),
}
# The supervisor's queues in the admin: the lists filtered to what awaits their approval.
ADMIN_QUEUES = {"households.household": "awaiting=1", "funds.assistancerequest": "awaiting=1"}
# Admin change pages with inlines, on a record `grow` gives many inline rows.
ADMIN_CHANGE_PAGES = {
    "households.household": "money",
    "households.publicnotice": "public_notice",
    "households.spotchecksample": "spotcheck",
    "funds.assistancerequest": "paid",
    "funds.paymentbatch": "batch",
    "services.trainingcourse": "course",
}
# The task queue's list (django-tasks-db's own admin, superusers only) fails to render at all.
BROKEN_CHANGELISTS = {"django_tasks_database.dbtaskresult"}


def _admin_user(label):
    """The county A staff role that reads this admin's list; the superuser where none does."""
    allowed = roles_of(ADMIN_MODELS[label].view) if label in ADMIN_MODELS else set()
    for role in ("admin", "supervisor", "finance"):
        if role in allowed:
            return IN_SCOPE[role]
    return "superuser"


def _label(model):
    return f"{model._meta.app_label}.{model._meta.model_name}"


def cases():
    """(test id, username, how to build its URL from the dataset)."""
    for key in LIST_PAGES:
        name = key.split("[")[0]
        rule = MATRIX[key if key in MATRIX else name]
        args, query = VARIANTS.get(key, (rule.args, rule.query))
        roles = sorted(roles_of(rule.get))
        if name not in EVERY_ROLE:
            roles = [next(role for role in ONE_ROLE if role in roles)]
        for role in roles:
            yield f"{key}-{role}", IN_SCOPE[role], (name, args, query)
    for model in admin.site._registry:
        label = _label(model)
        if label in BROKEN_CHANGELISTS:
            continue
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        yield f"{label}-changelist", _admin_user(label), (name, (), "")
    for label, query in ADMIN_QUEUES.items():
        name = f"admin:{label.replace('.', '_')}_changelist"
        yield f"{label}-queue", IN_SCOPE["supervisor"], (name, (), query)
    for label, target in ADMIN_CHANGE_PAGES.items():
        name = f"admin:{label.replace('.', '_')}_change"
        yield f"{label}-change", _admin_user(label), (name, (target,), "")


CASES = list(cases())


def url_of(data, spec):
    name, args, query = spec
    values = [data[a] if isinstance(a, str) and a in data else a for a in args]
    url = reverse(name, args=values)
    return f"{url}?{query}" if query else url


def count(client, url) -> list[str]:
    """The SQL of one GET of `url`."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [query["sql"] for query in queries]


def most_repeated(queries: list[str]) -> str:
    """The statement run most often (its literals masked), to point at the loop."""
    shapes = Counter(re.sub(r"\b\d+\b|'[^']*'", "?", sql) for sql in queries)
    shape, times = shapes.most_common(1)[0]
    return f"{times}× {shape}"


def grow(data, users, orgs):
    """MORE records of every kind the pages list, through the services the staff pages use."""
    from axes.models import AccessAttempt
    from axes.models import AccessLog as LoginLog
    from django.contrib.auth.models import Group

    from funds import services as funds
    from funds.models import (
        Approval,
        AssistanceRequest,
        AssistanceStandard,
        AssistanceType,
        FundSource,
    )
    from households import services as hh
    from households.models import DibaoStandard, Household
    from households.services import MemberData
    from households.spotchecks import spotcheck_draw, spotcheck_record
    from orgs.models import AccessLog, Holiday, Organisation, User
    from services import services as centre
    from services.models import (
        Case,
        JobReferral,
        LegalAidCase,
        TrainingAttendee,
        TrainingCourse,
        Window,
    )
    from tests.households.conftest import kept_members
    from tests.security.world import new_id

    today = timezone.localdate()
    year = today.year
    clerk, supervisor, finance = (
        users["clerk_450102"],
        users["supervisor_450102"],
        users["finance_450102"],
    )
    county = orgs["450102"]
    sources = {s.code: s for s in FundSource.objects.all()}
    kinds = {k.code: k for k in AssistanceType.objects.all()}
    roles = {"clerk": "clerk_450102", "supervisor": "supervisor_450102"}

    def upload(name="证明.pdf"):
        return SimpleUploadedFile(name, PDF, content_type="application/pdf")

    # --- Files in every state, each with what its state lists, in the county and its base
    # unions (a row reading its organisation's settings would show)
    def new_file(i, **fields):
        org = UNITS[i % len(UNITS)]
        return make_household(users, orgs, by="clerk_450102", org=org, **fields)

    for i in range(MORE):
        draft = new_file(i, worker_name=f"草稿{i}")
        # Entered three months after the day it names: 逾期录入 lists it.
        draft.transitions.update(effective_date=today - timedelta(days=90))
        notice = walk_file(users, new_file(i), "notice", **roles)
        hh.objection_record(
            user=clerk, household=notice, raised_by=f"邻居{i}",
            raised_on=notice.current_period.notice.ends_on, content="有住房",
        )  # fmt: skip
        on_file = walk_file(users, new_file(i), "on_file", **roles)
        closure = hh.closure_request(
            user=clerk, household=on_file, kind="exited", effective_date=today, reason="收入稳定"
        )
        # Left waiting for two months: 逾期录入 lists it.
        closure.requested_at -= timedelta(days=60)
        closure.save(update_fields=["requested_at"])
        hh.document_upload(user=clerk, household=on_file, kind="income_proof", upload=upload())
    # One notice of many files (its admin page lists them).
    reviewed = [
        walk_file(users, make_household(users, orgs, by="clerk_450102", org="450102"), "reviewed")
        for _ in range(MORE)
    ]
    with on_day(today - timedelta(days=30)):
        notice = hh.notice_start(
            user=clerk, organisation=county, households=reviewed,
            starts_on=today - timedelta(days=30), objection_contact="0771-12351",
        )  # fmt: skip
    data["public_notice"] = notice.pk

    # --- Spot-checks: last year's draw of the county (all its files on file, some checked),
    # and this year's of its base unions (the list of draws)
    sample = spotcheck_draw(user=supervisor, organisation=county, year=year - 1, share=100)
    for i, item in enumerate(sample.items.all()[:MORE]):
        spotcheck_record(
            user=clerk, item=item, outcome="discrepancy" if i % 2 else "confirmed",
            checked_on=today, note="收入有变化" if i % 2 else "", action="correct" if i % 2 else "",
        )  # fmt: skip
    data["spotcheck"] = sample.pk
    for unit in UNITS[1:]:
        spotcheck_draw(user=supervisor, organisation=orgs[unit], year=year, share=50)

    # --- One file with many members, documents and requests (its page and admin page)
    money = Household.objects.get(pk=data["money"])
    members = kept_members(money) + [
        MemberData(relation="child", name=f"子{i}", id_number=new_id(2004)) for i in range(MORE)
    ]
    hh.household_update(
        user=clerk, household=money, members=members,
        secondary_causes=list(money.secondary_causes.all()), reason="新增家庭成员",
    )  # fmt: skip
    for _ in range(MORE):
        hh.document_upload(user=clerk, household=money, kind="income_proof", upload=upload())

    def ask(household, amount, kind="other", on=None):
        return funds.request_create(
            user=users[f"clerk_{household.organisation.code}"], household=household,
            assistance_type=kinds[kind], source=sources["central"], amount=Decimal(amount),
            reason="因病致困，申请帮扶", requested_on=on or today,
        )  # fmt: skip

    for i in range(MORE):
        request = ask(money, f"{100 + i}.00")
        if i % 2:
            funds.request_approve(user=supervisor, request=request)
            funds.payment_mark_paid(
                user=finance, request=request, paid_on=today, bank_reference="B"
            )

    # --- Requests of many files: new, approved (then a bank file of them), paid
    others = [
        filed_long_ago(users, orgs, org="450102", worker_name=f"申请人{i}") for i in range(MORE)
    ]
    for household in others:
        ask(household, "200.00")
        funds.request_approve(user=supervisor, request=ask(household, "300.00", kind="medical"))
    batch, _skipped = funds.batch_create(user=finance, organisation=county)
    data["batch"] = batch.pk
    # Paid last quarter and sampled (a sample of many items); one a loan, repaid in parts.
    quarter = (today.month - 1) // 3 + 1
    last_year, last_quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    start, _end = funds.quarter_bounds(last_year, last_quarter)
    loan_type = AssistanceType.objects.filter(is_loan=True).first()
    for i, household in enumerate(others):
        day = start + timedelta(days=10 + i)
        request = ask(household, "400.00", kind=loan_type.code if i == 0 else "living", on=day)
        funds.request_approve(user=supervisor, request=request)
        moment = timezone.make_aware(datetime.combine(day, time(12)))  # approved that day
        Approval.objects.filter(request=request).update(decided_at=moment)
        AssistanceRequest.objects.filter(pk=request.pk).update(decided_at=moment)
        request.refresh_from_db()
        funds.payment_mark_paid(user=finance, request=request, paid_on=day, bank_reference="B")
        if i == 0:
            data["loan"] = request.pk
            for j in range(MORE):
                funds.repayment_record(
                    user=finance, request=request, amount="10.00", repaid_on=day + timedelta(j)
                )
    with on_day(today):
        sample = funds.sample_draw(
            user=finance, organisation=county, year=last_year, quarter=last_quarter, size=MORE
        )
    data["sample"] = sample.pk

    # --- Money in and out, corrections, closed years, standards, dibao lines
    for i in range(MORE):
        receipt = funds.receipt_record(
            user=finance, organisation=county, source=sources["regional"], year=year,
            amount=Decimal("1000.00") + i, received_on=date(year, 1, 5),
            document_number=f"桂财〔{year}〕{10 + i}号",
        )  # fmt: skip
        funds.refund_record(
            user=finance, organisation=county, source=sources["central"],
            amount=Decimal("10.00") + i, refunded_on=date(year, 1, 6),
            document_number=f"桂财退〔{year}〕{10 + i}号",
        )  # fmt: skip
        funds.entry_reverse(user=finance, entry=receipt.entries.get(), reason="录入错误")
        funds.year_close(user=users["admin_450102"], organisation=county, year=2000 + i)
        AssistanceStandard.objects.create(
            organisation=county, year=2000 + i, assistance_type=kinds["living"],
            amount_cap=Decimal("500.00"),
        )  # fmt: skip
        DibaoStandard.objects.create(
            organisation=county, year=2000 + i, monthly_amount=Decimal("900.00")
        )

    # --- The service centre
    windows = list(Window.objects.all())
    case = Case.objects.get(pk=data["case"])
    course = TrainingCourse.objects.get(pk=data["course"])
    for i in range(MORE):
        new = centre.case_create(
            user=clerk,
            case=Case(
                organisation=orgs[UNITS[i % 3]], window=windows[i % len(windows)], handler=clerk,
                worker_name=f"来访{i}", worker_id_number=new_id(1970), matter="欠薪",
                channel=Case.Channel.VISIT,
            ),
        )  # fmt: skip
        centre.legal_aid_save(
            user=clerk,
            legal_aid=LegalAidCase(case=new, dispute_type="wage_arrears", wages_recovered=0),
        )
        centre.case_follow_up(user=clerk, case=case, note=f"回访{i}")
        centre.referral_save(
            user=clerk,
            referral=JobReferral(
                organisation=orgs[UNITS[i % 3]], worker_name=f"求职{i}", employer="某厂",
                position="焊工", referred_on=today, result="pending",
            ),
        )  # fmt: skip
        centre.course_save(
            user=clerk,
            course=TrainingCourse(
                organisation=orgs[UNITS[i % 3]], name=f"培训{i}", starts_on=today, ends_on=today
            ),
        )
        centre.attendee_save(
            user=clerk, attendee=TrainingAttendee(course=course, worker_name=f"学员{i}")
        )

    # --- Organisations, users, logs and jobs
    clerks = Group.objects.get(name="clerk")
    for i in range(MORE):
        Organisation.objects.create(
            code=f"4501{90 + i}", name=f"某县总工会{i}", level="county", parent=orgs["450100"]
        )
        union = Organisation.objects.create(
            code=f"4501029{i:02d}", name=f"基层工会{i}", level="base", parent=county
        )
        user = User.objects.create(username=f"clerk{i}_450102", organisation=union)
        user.groups.add(clerks)
        Holiday.objects.create(date=date(year, 11, 1 + i), name=f"调休{i}", organisation=county)
        AccessLog.objects.create(
            user=clerk, action=AccessLog.Action.VIEW_FILE, organisation=county, target=f"X{i}"
        )
        export_job(clerk)
        AccessAttempt.objects.create(
            username=f"clerk{i}_450102", ip_address="192.0.2.1", user_agent="t",
            http_accept="*/*", path_info="/accounts/login/", get_data="", post_data="",
            failures_since_start=5,
        )  # fmt: skip
        LoginLog.objects.create(
            username=f"clerk{i}_450102", ip_address="192.0.2.1", user_agent="t",
            http_accept="*/*", path_info="/accounts/login/",
        )  # fmt: skip


@pytest.fixture(scope="module")
def counts(world, django_db_blocker):  # noqa: F811
    """{test id: (SQL with the world's few rows, SQL with MORE of each)}."""
    from orgs.models import Organisation, User

    with django_db_blocker.unblock():
        users = {u.username: u for u in User.objects.select_related("organisation")}
        orgs = {o.code: o for o in Organisation.objects.all()}
        superuser = User.objects.create_superuser("root_queries", password=None)
        root = Client()
        root.force_login(superuser)

        def client_of(username):
            return root if username == "superuser" else world["clients"](username)

        few, base = {}, {**world, "loan": world["paid"]}  # no loan yet: a paid request
        for case_id, username, spec in CASES:
            few[case_id] = count(client_of(username), url_of(base, spec))
        grown = dict(base)
        grow(grown, users, orgs)
        many = {
            case_id: count(client_of(username), url_of(grown, spec))
            for case_id, username, spec in CASES
        }
    return {case_id: (few[case_id], many[case_id]) for case_id in few}


@pytest.mark.parametrize("case_id", [case_id for case_id, _user, _spec in CASES])
def test_queries_do_not_grow_with_rows(counts, case_id, db):
    few, many = counts[case_id]
    assert len(many) <= len(few) + ALLOWANCE, (
        f"{case_id}: {len(few)} queries, then {len(many)} with {MORE} more rows; "
        f"most repeated: {most_repeated(many)}"
    )
