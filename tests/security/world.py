"""One populated database per test module for the security tests: every kind of record the
URLs and admin pages need, in county A (兴宁区 450102), a few in county B (青秀区 450103), and
the demo users plus a viewer of another city (柳州 450200) who must see none of it.

The data is written once per module inside a transaction that is rolled back at the end; each
test runs in a savepoint inside it (pytest-django's `db`), so tests stay independent and the
matrix does not rebuild the world for each of its hundreds of cases."""

from datetime import date, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from io import BytesIO
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from tests.funds.conftest import file_back_dated, sample_this_quarter
from tests.households.conftest import walk_file

PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ACCOUNT = "6222020200112233445"
BANK = "中国工商银行南宁分行"
FILED_ON = date(2016, 3, 1)
# Names that appear on county B's records only: a county A page must never show them.
B_MARKER = "青秀秘户"

# The user of each role in county A (or above it), and one of the same role elsewhere.
IN_SCOPE = {
    "clerk": "clerk_450102",
    "supervisor": "supervisor_450102",
    "finance": "finance_450102",
    "viewer": "viewer_450100",
    "admin": "admin_450102",
}
OUT_OF_SCOPE = {
    "clerk": "clerk_450103",
    "supervisor": "supervisor_450103",
    "finance": "finance_450103",
    "viewer": "viewer_450200",
    "admin": "admin_450103",
}


def restore_reference_rows():
    """What tests/conftest.py's `_reference_rows` does for one test, for a whole module: a
    transactional test elsewhere may have emptied the tables before this module starts."""
    from importlib import import_module

    from django.apps import apps
    from django.core.management.sql import emit_post_migrate_signal

    from households.models import Cause
    from tests.conftest import REFERENCE_SEEDS

    if Cause.objects.exists() and Group.objects.exists():
        return
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    editor = SimpleNamespace(connection=connection)
    for module, function in REFERENCE_SEEDS:
        getattr(import_module(module), function)(apps, editor)


_ids = iter(range(500, 1000))


def new_id(year=1980, area="450102"):
    from households.idnumbers import make_id_number

    return make_id_number(area, date(year, 3, 15), next(_ids))


def make_household(users, orgs, *, by, org, bank=False, applied_on=None, **fields):
    from households import services
    from households.models import Cause, Household
    from households.services import MemberData

    household = Household(
        organisation=orgs[org],
        worker_name=fields.pop("worker_name", "张小明"),
        id_number=fields.pop("id_number", None) or new_id(area=org[:6]),
        primary_cause=Cause.objects.get(code="illness"),
        **({"bank_name": BANK, "bank_account": ACCOUNT} if bank else {}),
        **fields,
    )
    members = [
        MemberData(relation="self", name="", monthly_income=Decimal("600.00")),
        MemberData(relation="spouse", name="李芳", id_number=new_id(1982, area=org[:6])),
    ]
    return services.household_create(
        user=users[by], household=household, members=members, applied_on=applied_on
    )


def filed_long_ago(users, orgs, *, org, **fields):
    """A household on file since 2016 with a bank account (imported, back-dated steps), the
    way the funds tests make one: assistance can be requested and paid for it any day."""
    from households.models import Category

    clerk = users[f"clerk_{org}"]
    household = make_household(
        users, orgs, by=f"clerk_{org}", org=org, bank=True,
        applied_on=FILED_ON - timedelta(days=40), **fields,
    )  # fmt: skip
    household.category = Category.objects.get(code="deep")
    household.save(update_fields=["category"])
    file_back_dated(clerk, household, FILED_ON)
    household.refresh_from_db()
    return household


def build_world() -> dict:
    """Every record the matrix needs; returns {name: primary key or value}."""
    from django.contrib.contenttypes.models import ContentType

    from funds import services as funds
    from funds.models import AssistanceStandard, AssistanceType, FundSource
    from households import services as hh
    from households.models import DibaoStandard, Household, Transition
    from households.spotchecks import spotcheck_draw
    from orgs.audit import log_access  # noqa: F401 - the access log is written by views
    from orgs.demo import seed_organisations_and_users
    from orgs.models import AccessLog, Holiday, Organisation, User
    from services.models import (
        Case,
        JobReferral,
        LegalAidCase,
        TrainingAttendee,
        TrainingCourse,
        Window,
    )
    from services.services import attendee_save, case_create, legal_aid_save

    restore_reference_rows()
    orgs = seed_organisations_and_users()
    city = Organisation.objects.create(
        code="450200", name="柳州市总工会", level="city", parent=orgs["450000"]
    )
    outsider = User.objects.create(
        username="viewer_450200", full_name="柳州市总工会（只读）", organisation=city
    )
    outsider.groups.add(Group.objects.get(name="viewer"))
    # A user for the admin's user form to edit (hostile posts may rename or deactivate it).
    spare = User.objects.create(username="spare_450102", organisation=orgs["450102"])
    spare.groups.add(Group.objects.get(name="clerk"))
    users = {u.username: u for u in User.objects.select_related("organisation")}
    today = timezone.localdate()
    year = today.year
    for y in (year - 1, year, year + 1):
        DibaoStandard.objects.create(
            organisation=orgs["450000"], year=y, monthly_amount=Decimal("1000.00")
        )
    supervisors = {"clerk": "clerk_450102", "supervisor": "supervisor_450102"}

    # --- Household files of county A
    draft = make_household(users, orgs, by="clerk_450102", org="450102")
    notice = walk_file(
        users, make_household(users, orgs, by="clerk_450102", org="450102"), "notice",
        **supervisors,
    )  # fmt: skip
    objection = hh.objection_record(
        user=users["clerk_450102"],
        household=notice,
        raised_by="邻居",
        raised_on=notice.current_period.notice.ends_on,  # within the notice
        content="有两套住房",
    )
    on_file = walk_file(
        users, make_household(users, orgs, by="clerk_450102", org="450102"), "on_file",
        **supervisors,
    )  # fmt: skip
    refused = walk_file(
        users, make_household(users, orgs, by="clerk_450102", org="450102"), "applied",
        **supervisors,
    )  # fmt: skip
    hh.transition_apply(
        user=users["supervisor_450102"], household=refused, action="reject", reason="收入高于标准"
    )
    closure = hh.closure_request(
        user=users["clerk_450102"],
        household=on_file,
        kind="exited",
        effective_date=today,
        reason="收入已稳定",
    )
    document = hh.document_upload(
        user=users["clerk_450102"],
        household=on_file,
        kind="income_proof",
        upload=SimpleUploadedFile("收入证明.pdf", PDF, content_type="application/pdf"),
    )
    spotcheck = spotcheck_draw(
        user=users["supervisor_450102"], organisation=orgs["450102"], year=year, share=100
    )
    county_line = DibaoStandard.objects.create(
        organisation=orgs["450102"], year=year + 2, monthly_amount=Decimal("1100.00")
    )

    # --- Money of county A
    sources = {s.code: s for s in FundSource.objects.all()}
    kinds = {k.code: k for k in AssistanceType.objects.all()}
    receipt = funds.receipt_record(
        user=users["finance_450102"],
        organisation=orgs["450102"],
        source=sources["central"],
        year=year,
        amount=Decimal("50000.00"),
        received_on=date(year, 1, 2),
        document_number="桂财行〔2026〕1号",
    )
    refund = funds.refund_record(
        user=users["finance_450102"],
        organisation=orgs["450102"],
        source=sources["central"],
        amount=Decimal("100.00"),
        refunded_on=date(year, 1, 3),
        document_number="桂财行〔2026〕2号",
    )
    money = filed_long_ago(users, orgs, org="450102")

    def ask(household, amount, kind, by="clerk_450102"):
        return funds.request_create(
            user=users[by],
            household=household,
            assistance_type=kinds[kind],
            source=sources["central"],
            amount=Decimal(amount),
            reason="因病致困，申请帮扶",
            requested_on=today,
        )

    new = ask(money, "500.00", "living")
    paid = ask(money, "800.00", "medical")
    funds.request_approve(user=users["supervisor_450102"], request=paid)
    funds.payment_mark_paid(
        user=users["finance_450102"], request=paid, paid_on=today, bank_reference="BANK-1"
    )
    waiting = ask(filed_long_ago(users, orgs, org="450102", worker_name="王大力"), "1000.00",
                  "festival")  # fmt: skip
    funds.request_approve(user=users["supervisor_450102"], request=waiting)
    batch, _skipped = funds.batch_create(user=users["finance_450102"], organisation=orgs["450102"])
    sample = sample_this_quarter(users["finance_450102"], orgs["450102"])
    closed = funds.year_close(user=users["admin_450102"], organisation=orgs["450102"], year=2010)
    standard = AssistanceStandard.objects.create(
        organisation=orgs["450102"], year=2010, assistance_type=kinds["living"],
        amount_cap=Decimal("500.00"),
    )  # fmt: skip

    # --- Service centre of county A
    windows = {w.code: w for w in Window.objects.all()}
    windows["general_benefits"].save()  # a history row for the admin's history pages
    case = case_create(
        user=users["clerk_450102"],
        case=Case(
            organisation=orgs["450102"],
            window=windows["legal_aid"],
            handler=users["clerk_450102"],
            worker_name="王芳",
            worker_id_number=new_id(1975),
            matter="欠薪",
            channel=Case.Channel.VISIT,
        ),
    )
    legal = legal_aid_save(
        user=users["clerk_450102"],
        legal_aid=LegalAidCase(case=case, dispute_type="wage_arrears", wages_recovered=0),
    )
    referral = JobReferral.objects.create(
        organisation=orgs["450102"], worker_name="李强", employer="某厂", position="焊工",
        referred_on=today, result="pending", created_by=users["clerk_450102"],
    )  # fmt: skip
    course = TrainingCourse.objects.create(
        organisation=orgs["450102"], name="电工", starts_on=today, ends_on=today,
        created_by=users["clerk_450102"],
    )  # fmt: skip
    attendee = attendee_save(
        user=users["clerk_450102"], attendee=TrainingAttendee(course=course, worker_name="学员")
    )

    # --- County B: a file with money and a case, named so that a leak is easy to spot
    b_household = filed_long_ago(users, orgs, org="450103", worker_name=B_MARKER)
    funds.receipt_record(
        user=users["finance_450103"],
        organisation=orgs["450103"],
        source=sources["central"],
        year=year,
        amount=Decimal("9000.00"),
        received_on=date(year, 1, 2),
        document_number="青财〔2026〕1号",
    )
    b_request = ask(b_household, "300.00", "living", by="clerk_450103")
    b_case = case_create(
        user=users["clerk_450103"],
        case=Case(
            organisation=orgs["450103"], window=windows["legal_aid"],
            handler=users["clerk_450103"], worker_name=B_MARKER, matter="欠薪",
            channel=Case.Channel.VISIT,
        ),
    )  # fmt: skip

    # --- Reference and organisation records
    holiday = Holiday.objects.create(
        date=date(year, 12, 30), name="兴宁区调休", organisation=orgs["450102"]
    )
    access = AccessLog.objects.create(
        user=users["clerk_450102"],
        action=AccessLog.Action.VIEW_FILE,
        organisation=orgs["450102"],
        target=on_file.file_number,
    )
    from axes.models import AccessAttempt
    from axes.models import AccessLog as LoginLog

    attempt = AccessAttempt.objects.create(  # a lockout: 解除登录锁定 has one to lift
        username="clerk_450102", ip_address="192.0.2.1", user_agent="t", http_accept="*/*",
        path_info="/accounts/login/", get_data="", post_data="", failures_since_start=5,
    )  # fmt: skip
    login_log = LoginLog.objects.create(
        username="clerk_450102", ip_address="192.0.2.1", user_agent="t", http_accept="*/*",
        path_info="/accounts/login/",
    )  # fmt: skip
    job = export_job(users["clerk_450102"])
    rejected = rejected_job(users["clerk_450102"])
    from django_tasks_db.models import DBTaskResult

    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}}, task_path="imports.tasks.run_job",
        backend_name="default", run_after=timezone.now(), exception_class_path="", traceback="",
    )  # fmt: skip
    full_numbers = list(Household.objects.values_list("id_number", flat=True))
    return {
        # households
        "draft": draft.pk,
        "notice": notice.pk,
        "on_file": on_file.pk,
        "refused": refused.pk,
        "objection": objection.pk,
        "closure": closure.pk,
        "document": document.pk,
        "public_notice": notice.current_period.notice_id,
        "transition": Transition.objects.filter(household=on_file).latest("pk").pk,
        "on_file_history": on_file.history.latest().history_id,
        "spotcheck": spotcheck.pk,
        "spotcheck_item": spotcheck.items.get(household=on_file).pk,
        "county_line": county_line.pk,
        "county_line_history": county_line.history.latest().history_id,
        "cause": on_file.primary_cause_id,
        "category": money.category_id,
        # funds
        "money": money.pk,
        "new": new.pk,
        "paid": paid.pk,
        "waiting": waiting.pk,
        "new_history": new.history.latest().history_id,
        "receipt": receipt.pk,
        "refund": refund.pk,
        "entry": receipt.entries.get().pk,
        "batch": batch.pk,
        "sample": sample.pk,
        "item": sample.items.get().pk,
        "closed_year": closed.pk,
        "standard": standard.pk,
        "standard_history": standard.history.latest().history_id,
        "source": sources["central"].pk,
        "kind": kinds["living"].pk,
        # services
        "case": case.pk,
        "case_history": case.history.latest().history_id,
        "legal": legal.pk,
        "legal_history": legal.history.latest().history_id,
        "referral": referral.pk,
        "referral_history": referral.history.latest().history_id,
        "course": course.pk,
        "course_history": course.history.latest().history_id,
        "attendee": attendee.pk,
        "window": windows["general_benefits"].pk,
        "window_history": windows["general_benefits"].history.latest().history_id,
        # organisations
        "base_union": orgs["450102001"].pk,
        "holiday": holiday.pk,
        "holiday_history": holiday.history.latest().history_id,
        "clerk_user": users["clerk_450102"].pk,
        "spare_user": spare.pk,
        "access": access.pk,
        "group": Group.objects.get(name="clerk").pk,
        "household_ct": ContentType.objects.get_for_model(Household).pk,
        "attempt": attempt.pk,
        "login_log": login_log.pk,
        # imports: an export the county A clerk made (jobs are their creator's only)
        "job": job.pk,
        "rejected_job": rejected.pk,  # an import whose check found errors (its error list)
        "task": str(task.pk),
        # county B
        "b_household": b_household.pk,
        "b_request": b_request.pk,
        "b_case": b_case.pk,
        # every full ID number on file (for "never shown" checks)
        "full_numbers": full_numbers,
    }


def export_job(user):
    """A finished households export of `user`, with its (masked) workbook."""
    from django.core.files.base import ContentFile
    from openpyxl import Workbook

    from imports.models import ImportJob

    job = ImportJob.objects.create(
        organisation=user.organisation,
        created_by=user,
        kind=ImportJob.Kind.HOUSEHOLDS,
        operation=ImportJob.Operation.EXPORT,
        state=ImportJob.State.DONE,
        token="0123456789abcdef0123456789abcdef",
        finished_at=timezone.now(),
    )
    book = Workbook()
    book.active.append(["档案编号", "身份证号码"])
    book.active.append(["450102-2026-0001", "450102********1234"])
    buffer = BytesIO()
    book.save(buffer)
    job.file.save("export.xlsx", ContentFile(buffer.getvalue()))
    return job


def rejected_job(user):
    """A households import of `user` whose check found an error: nothing to confirm, an error
    list to download."""
    from imports.models import ImportJob

    error = {
        "sheet": "households",
        "row": 2,
        "column": "组织代码",
        "message": "组织代码“999999”不存在。",
    }
    return ImportJob.objects.create(
        organisation=user.organisation,
        created_by=user,
        kind=ImportJob.Kind.HOUSEHOLDS,
        operation=ImportJob.Operation.IMPORT,
        state=ImportJob.State.REJECTED,
        token="fedcba9876543210fedcba9876543210",
        original_name="档案.xlsx",
        preview={"kind": "households", "dry_run": True, "sheets": {}, "errors": [error]},
    )


class Clients:
    """One test client per demo user, signed in once for the module: signing in for every
    request would write a session, the last login and the login log each time. The cookies
    are put back before each use, so a logout or a language switch does not carry over."""

    def __init__(self, usernames):
        from django.test import Client

        from orgs.models import User

        self._clients = {}
        for user in User.objects.filter(username__in=usernames):
            client = Client()
            client.force_login(user)
            self._clients[user.username] = (client, SimpleCookie(client.cookies))
        self._anonymous = Client()

    def __call__(self, username):
        if username is None:
            self._anonymous.cookies = SimpleCookie()
            return self._anonymous
        client, cookies = self._clients[username]
        client.cookies = SimpleCookie(cookies)
        return client


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            data = build_world()
            data["clients"] = Clients([*IN_SCOPE.values(), *OUT_OF_SCOPE.values()])
            yield data
            transaction.set_rollback(True)
