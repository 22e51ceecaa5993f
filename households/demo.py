"""Demo reference data (dibao lines) and, on request, generated household files.

`seed_demo --households N` makes sure N generated files exist (file numbers DEMO-…), so running
it twice adds nothing. The generator writes with bulk inserts and explicit primary keys, so a
million files with their members, filing periods, transitions and ID claims load in minutes on
PostgreSQL. Each file and member gets the first record of its django-simple-history (created),
as one entered by hand does: the file's first edit is shown against it (without it, the trail
showed nothing for that edit and every member as added)."""

import hashlib
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Exists, Max
from django.utils import timezone, translation

from households import selectors
from households.eligibility import compute_income
from households.idnumbers import check_char, id_hash, sex_of
from households.models import (
    SUPPORTED_STATUSES,
    Category,
    Cause,
    DibaoStandard,
    Document,
    FilingPeriod,
    Household,
    IdentityClaim,
    Member,
    Origin,
    PublicNotice,
    Status,
    Survey,
    Transition,
    facts_of,
)
from orgs.calendar import add_months, add_working_days
from orgs.models import User
from orgs.pii import mask

# Illustrative monthly urban dibao lines for the demo region (元/人/月), not official figures.
DEMO_DIBAO = {
    2014: "430",
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


# What a home visit found, by the file's main cause (demo text).
FINDINGS = {
    "illness": ["本人患慢性病长期服药，家庭收入难以覆盖医疗支出。", "家中有重病人员，需长期治疗。"],
    "disability": ["家中有残疾人员需长期照料，收入来源单一。"],
    "schooling": ["子女在校就读，学杂费和生活费负担较重。"],
    "unemployment": ["本人失业，正在寻找工作，家庭收入明显下降。"],
    "single_parent": ["单亲家庭，独自抚养子女，收入较低。"],
    "other": ["家庭收入低于当地平均水平，生活较为困难。", "核实收入与申报一致，生活较为困难。"],
}


def seed_reference(*, orgs, stdout):
    region = orgs["450000"]
    for year, amount in DEMO_DIBAO.items():
        DibaoStandard.objects.update_or_create(
            organisation=region,
            year=year,
            defaults={"monthly_amount": Decimal(amount), "note": "演示数据"},
        )


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦覃蒙陆莫黎"
# Characters of given names, by the sex the name suggests.
GIVEN = {
    "male": "伟强磊军洋勇杰涛明超平刚华建国志晓东春生",
    "female": "芳娜秀英敏静丽艳娟兰霞桂玉海燕红梅",
}
AREAS = [
    "450102",
    "450103",
    "450105",
    "450107",
    "450108",
    "450109",
    "450110",
    "450123",
    "450124",
    "450125",
]
EMPLOYERS = [
    "南宁糖业股份有限公司",
    "广西建工第一建筑工程公司",
    "兴宁区环卫站",
    "南宁市公交集团",
    "青秀区中山街道社区服务中心",
    "广西壮族自治区机电设备公司",
    "南宁纺织厂",
    "个体经营",
]
STREETS = ["民生路", "朝阳路", "中山路", "七星路", "民族大道", "竹溪大道", "友爱路", "邕武路"]
CHUNK = 5000
# One step in this many of the demo's history was entered late (逾期录入 has something to show).
LATE_EVERY = 60
PEOPLE_PER_HOUSEHOLD = 6  # ID-number slots reserved per generated household
DAYS = 16_800  # birth dates spread over 46 years


def person_id_number(person: int, sex: str = "female") -> str:
    """A valid, unique ID number for person index `person` (a bijection up to 84 million
    people, so no collisions), whose 17th digit says `sex` (odd for men, even for women:
    idnumbers.sex_of)."""
    area = AREAS[person % len(AREAS)]
    rest = person // len(AREAS)
    born = date(1958, 1, 1) + timedelta(days=rest % DAYS)
    sequence = rest // DAYS % 500 * 2 + (sex == "male")
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def name(rng, sex: str | None = None) -> str:
    """A name that suits `sex` (either, when not given)."""
    characters = GIVEN[sex] if sex else GIVEN["male"] + GIVEN["female"]
    given = "".join(rng.choice(characters) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def insert_history(model, rows, *, when) -> None:
    """The first field-history record of each row: created ("+"), by nobody, at `when`."""
    historical = model.history.model
    names = [f.attname for f in historical.tracked_fields]
    records = [
        historical(
            history_date=when,
            history_type="+",
            history_change_reason="演示数据",
            **{name: getattr(row, name) for name in names},
        )
        for row in rows
    ]
    insert(historical, records, database_ids=True)


def placeholder_pdf(text: str) -> bytes:
    """A one-page PDF saying `text` (ASCII): what the demo's documents hold."""
    stream = f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def seed_records(*, orgs, households, seed, stdout):
    existing = Household.objects.filter(file_number__startswith="DEMO-").count()
    missing = households - existing
    if missing <= 0:
        stdout.write(f"{existing} demo households already exist.")
        return
    generator = Generator(orgs=orgs, seed=seed)
    done = 0
    while done < missing:
        size = min(CHUNK, missing - done)
        generator.write_chunk(existing + done, size)
        done += size
        if done % 50_000 < CHUNK or done == missing:
            stdout.write(f"  {existing + done} / {households} demo households")
    generator.finish()


def insert(model, rows, *, database_ids: bool = False) -> None:
    """Bulk insert; on PostgreSQL through COPY, several times faster than INSERT for millions.
    `database_ids`: the rows have no primary keys, the database numbers them."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=2000)
        return
    fields = [f for f in model._meta.concrete_fields if not (database_ids and f is model._meta.pk)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
                )


class Generator:
    def __init__(self, *, orgs, seed):
        self.seed = seed
        self.counties = [orgs["450102"], orgs["450103"]]
        self.bases = {
            county.pk: [o for o in orgs.values() if o.parent_id == county.pk]
            for county in self.counties
        }
        clerks = {c.pk: User.objects.get(username=f"clerk_{c.code}") for c in self.counties}
        self.clerks = {pk: user.pk for pk, user in clerks.items()}
        self.clerk_names = {user.pk: str(user) for user in clerks.values()}
        self.supervisors = {
            c.pk: User.objects.get(username=f"supervisor_{c.code}").pk for c in self.counties
        }
        # Twice a year by default: each county's own setting, as the services apply it.
        self.survey_months = {c.pk: c.setting("survey_interval_months") for c in self.counties}
        self.causes = {c.code: c.pk for c in Cause.objects.all()}
        self.categories = {c.code: c.pk for c in Category.objects.all()}
        self.lines = {y: Decimal(v) for y, v in DEMO_DIBAO.items()}
        self.today = timezone.localdate()
        self.notices = {}
        self.documents = self.stored_documents()
        self.next_ids = {
            model: (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
            for model in (Household, Member, FilingPeriod, Transition, IdentityClaim, Survey)
        }

    @staticmethod
    def stored_documents() -> dict[str, tuple[str, str, int, str]]:
        """One stored scan per document kind, which every demo document of that kind points
        to: (storage name, original name, size, sha256)."""
        stored = {}
        for kind in Document.Kind.values:
            content = placeholder_pdf(f"Bangfu demo document: {kind}")
            name = f"households/demo/{kind}.pdf"
            if not default_storage.exists(name):
                name = default_storage.save(name, ContentFile(content))
            with translation.override("zh-hans"):
                original = f"{Document.Kind(kind).label}（演示）.pdf"
            digest = hashlib.sha256(content).hexdigest()
            stored[kind] = (name, original, len(content), digest)
        return stored

    def documents_of(self, household, index, applied) -> list[Document]:
        """The documents the file's application came with (selectors.REQUIRED_DOCUMENTS, a
        diagnosis for an illness): all of them once submitted; a draft's ID and hukou copies
        only, so that its page shows what is still missing. Not drawn from rng: every other
        demo value stays as it was."""
        kinds = list(selectors.REQUIRED_DOCUMENTS)
        if household.primary_cause_id == self.causes[selectors.ILLNESS_CAUSE]:
            kinds.append(Document.Kind.DIAGNOSIS)
        if household.status == Status.DRAFT:
            kinds = [Document.Kind.ID_COPY, Document.Kind.HUKOU]
        documents = []
        for kind in kinds:
            name, original, size, digest = self.documents[kind]
            issued = (
                applied - timedelta(days=index % 30) if kind == Document.Kind.DIAGNOSIS else None
            )
            documents.append(
                Document(
                    household_id=household.pk,
                    kind=kind,
                    file=name,
                    original_name=original,
                    content_type="application/pdf",
                    size=size,
                    sha256=digest,
                    issued_on=issued,
                    uploaded_by_id=household.created_by_id,
                )
            )
        return documents

    def record_steps_on_their_day(self, transitions) -> None:
        """Each step recorded on its day at 10:00, as if typed in then (inserted, the rows say
        today: 逾期录入 listed every step of the demo's history), and one in LATE_EVERY two to
        three months late, so that the list shows what it is for. Grouped by time: one UPDATE
        per day, not per row."""
        days = defaultdict(list)
        for row in transitions:
            day = row.effective_date
            if row.pk % LATE_EVERY == 0:
                day += timedelta(days=60 + row.pk % 40)
            days[min(day, self.today)].append(row.pk)
        now = timezone.now()
        for day, keys in days.items():
            at = min(timezone.make_aware(datetime.combine(day, time(10))), now)
            for start in range(0, len(keys), 500):
                Transition.objects.filter(pk__in=keys[start : start + 500]).update(created_at=at)

    def take_ids(self, model, count) -> range:
        start = self.next_ids[model]
        self.next_ids[model] = start + count
        return range(start, start + count)

    @transaction.atomic
    def write_chunk(self, first: int, count: int):
        rng = random.Random(self.seed * 1_000_003 + first)
        households, members, periods, transitions, claims, surveys = [], [], [], [], [], []
        documents = []
        household_ids = self.take_ids(Household, count)
        period_ids = self.take_ids(FilingPeriod, count)
        for offset in range(count):
            index = first + offset
            hid, pid = household_ids[offset], period_ids[offset]
            built = self.build(rng, index, hid, pid)
            households.append(built["household"])
            members.extend(built["members"])
            periods.append(built["period"])
            transitions.extend(built["transitions"])
            claims.extend(built["claims"])
            surveys.extend(built["surveys"])
            documents.extend(built["documents"])
        for row, pk in zip(surveys, self.take_ids(Survey, len(surveys)), strict=True):
            row.pk = pk
        for row, pk in zip(members, self.take_ids(Member, len(members)), strict=True):
            row.pk = pk
        for row, pk in zip(transitions, self.take_ids(Transition, len(transitions)), strict=True):
            row.pk = pk
        for row, pk in zip(claims, self.take_ids(IdentityClaim, len(claims)), strict=True):
            row.pk = pk
        # Households point at their current period and periods at their household: insert the
        # households first without it, then the periods, then set it in one UPDATE.
        current = {h.pk: h.current_period_id for h in households}
        for household in households:
            household.current_period_id = None
        for model, rows in (
            (Household, households),
            (FilingPeriod, periods),
            (Member, members),
            (Transition, transitions),
            (IdentityClaim, claims),
            (Survey, surveys),
        ):
            insert(model, rows)
        insert(Document, documents, database_ids=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE households_household SET current_period_id = ("
                " SELECT p.id FROM households_filingperiod p"
                " WHERE p.household_id = households_household.id)"
                " WHERE id BETWEEN %s AND %s",
                [min(current), max(current)],
            )
        self.record_steps_on_their_day(transitions)
        # The exit list's date, from the surveys just written (as services.recompute_exit_run).
        Household.objects.filter(pk__range=(min(current), max(current))).filter(
            Exists(selectors.above_line_run())
        ).update(above_line_since=selectors.above_line_since())
        for household in households:
            household.current_period_id = current[household.pk]
        now = timezone.now()
        insert_history(Household, households, when=now)
        insert_history(Member, members, when=now)

    def build(self, rng, index, hid, pid):
        county = self.counties[index % 2]
        # The worker's name, ID number and sex agree (the ID number's 17th digit says the sex).
        sex = rng.choice(("male", "female"))
        worker_number = person_id_number(index * PEOPLE_PER_HOUSEHOLD, sex)
        worker_name = name(rng, sex)
        # Dates always run forward and never past today: application, review (+7 days), notice
        # (+10), approval (+20 to +60), then relief or closure.
        roll = rng.random()
        if roll < 0.58:
            status = Status.ON_FILE
        elif roll < 0.68:
            status = Status.RELIEVED
        elif roll < 0.80:
            status = Status.EXITED
        elif roll < 0.85:
            status = Status.DEREGISTERED
        elif roll < 0.88:
            status = Status.REJECTED
        elif roll < 0.94:
            status = rng.choice([Status.APPLIED, Status.REVIEWED, Status.NOTICE])
        else:
            status = Status.DRAFT
        span = (self.today - date(2014, 1, 1)).days - 70
        applied = date(2014, 1, 1) + timedelta(days=rng.randrange(span))
        filed = applied + timedelta(days=rng.randint(20, 60))
        if status in (Status.DRAFT, Status.APPLIED, Status.REVIEWED, Status.NOTICE):
            applied = self.today - timedelta(days=rng.randint(12, 40))
            filed = None
        notice = None
        if status == Status.NOTICE:  # posted on the county's current notice, reviewed before it
            notice = self.notice_of(county)
            applied = notice.starts_on - timedelta(days=rng.randint(8, 30))
        closed = None
        if status in (Status.EXITED, Status.DEREGISTERED) and filed:
            closed = min(filed + timedelta(days=rng.randint(180, 1500)), self.today)
        if status == Status.REJECTED:
            closed = applied + timedelta(days=rng.randint(10, 40))
            filed = None

        cause = rng.choices(
            [
                "illness",
                "disability",
                "schooling",
                "low_income",
                "unemployment",
                "single_parent",
                "accident",
                "no_work_capacity",
                "disaster",
                "other",
            ],
            weights=[34, 14, 16, 10, 8, 5, 4, 4, 2, 3],
        )[0]
        size_extra = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4))
        incomes = [Decimal(rng.randrange(0, 260)) * 10]
        people = []
        for m in range(size_extra):
            relation = ["spouse", "child", "child", "parent", "child"][m]
            income = Decimal(rng.randrange(0, 150)) * 10 if relation != "child" else Decimal(0)
            incomes.append(income)
            other = "female" if sex == "male" else "male"
            member_sex = other if relation == "spouse" else rng.choice(("male", "female"))
            number = person_id_number(index * PEOPLE_PER_HOUSEHOLD + 1 + m, member_sex)
            people.append((relation, number, income))
        rigid = Decimal(rng.choice((0, 0, 2000, 6000, 12000, 20000)))
        income = compute_income(
            member_incomes=incomes, other_monthly=Decimal(0), rigid_annual=rigid, rule="net_annual"
        )
        year = (filed or applied).year
        line = self.lines.get(year, self.lines[2026])
        category = "deep" if income.per_capita <= line else "relative"
        if cause in ("accident", "disaster") and rng.random() < 0.5:
            category = "accident"
        origin = Origin.STOCK if filed and filed <= date(2015, 12, 31) else Origin.NEW
        bases = self.bases[county.pk]
        account = f"6217{index:015d}"
        household = Household(
            pk=hid,
            organisation_id=county.pk,
            base_union_id=bases[index % len(bases)].pk if bases else None,
            file_number=f"DEMO-{county.code}-{index + 1:07d}",
            worker_name=worker_name,
            sex=sex_of(worker_number),
            id_number=worker_number,
            id_hash=id_hash(worker_number),
            id_masked=mask(worker_number),
            birth_date=date(
                int(worker_number[6:10]), int(worker_number[10:12]), int(worker_number[12:14])
            ),
            phone=f"13{rng.randrange(10**9):09d}",
            employer=rng.choice(EMPLOYERS),
            is_migrant_worker=rng.random() < 0.18,
            is_model_worker=rng.random() < 0.01,
            address=f"南宁市{county.name[:3]}{rng.choice(STREETS)}{rng.randint(1, 300)}号",
            bank_name="中国工商银行南宁分行",
            bank_account=account,
            bank_account_masked=mask(account),
            rigid_spending_annual=rigid,
            household_size=income.size,
            monthly_income=income.monthly,
            per_capita_income=income.per_capita,
            primary_cause_id=self.causes[cause],
            category_id=self.categories[category] if filed else None,
            responsible_staff_id=self.clerks[county.pk],
            responsible_chair=name(rng),
            status=status,
            current_period_id=pid,
            created_by_id=self.clerks[county.pk],
        )
        if household.is_migrant_worker:
            # Filed or applying, a migrant worker meets the filing condition (a union member
            # a year or more into the labour relation on the application date), so that the
            # demo's applications can be approved. Not drawn from rng: the draws after it,
            # and so every other demo value, stay as they were.
            household.is_union_member = True
            household.labour_relation_since = add_months(applied, -12 * (1 + index % 8))
        surveys = self.surveys(rng, household, pid, cause, applied, filed, status)
        household.last_survey_on = surveys[-1].surveyed_on if surveys else None
        if household.last_survey_on and status in SUPPORTED_STATUSES:  # closed: no next visit
            months = self.survey_months[county.pk]
            household.next_survey_due = add_months(household.last_survey_on, months)
        period = FilingPeriod(
            pk=pid,
            household_id=hid,
            number=1,
            origin=origin,
            applied_on=applied,
            filed_on=filed,
            closed_on=closed,
            notice=notice,
        )
        members = [
            Member(
                household_id=hid,
                relation="self",
                name=worker_name,
                id_number=worker_number,
                id_hash=household.id_hash,
                id_masked=household.id_masked,
                monthly_income=incomes[0],
                health="serious" if cause == "illness" else "healthy",
                employment="employed",
            )
        ]
        for relation, number, member_income in people:
            members.append(
                Member(
                    household_id=hid,
                    relation=relation,
                    name=name(rng, sex_of(number)),
                    id_number=number,
                    id_hash=id_hash(number),
                    id_masked=mask(number),
                    monthly_income=member_income,
                    employment="student" if relation == "child" else "flexible",
                    school_stage=rng.choice(["primary", "junior", "senior", "college"])
                    if relation == "child"
                    else "none",
                )
            )
        transitions = self.transitions(
            hid, pid, county.pk, status, applied, filed, closed, rng, notice=notice
        )
        for transition in transitions:  # the copies the summary reads (see Transition)
            for field, value in facts_of(household, period).items():
                setattr(transition, field, value)
        # The day of the step that gave the file its status (a notice's start, a relief).
        household.status_changed_on = transitions[-1].effective_date
        claims = []
        if status not in (Status.EXITED, Status.DEREGISTERED, Status.REJECTED):
            claims = [IdentityClaim(household_id=hid, id_hash=m.id_hash) for m in members]
        return {
            "household": household,
            "members": members,
            "period": period,
            "transitions": transitions,
            "claims": claims,
            "surveys": surveys,
            "documents": self.documents_of(household, index, applied),
        }

    def surveys(self, rng, household, pid, cause, applied, filed, status) -> list[Survey]:
        """The home survey the review needs (a week after the application, as `transitions`
        dates the review) and, for a file on record, the latest visit in the past eight months,
        so the file's survey dates and its survey records agree."""
        if not filed and status not in (Status.REVIEWED, Status.NOTICE):
            return []
        days = [applied + timedelta(days=7)]
        if filed and status in SUPPORTED_STATUSES:
            latest = self.today - timedelta(days=rng.randint(0, 240))
            if latest > max(days[0], filed):
                days.append(latest)
        clerk = self.clerks[household.organisation_id]
        surveys = []
        for day in days:
            line = self.lines.get(day.year, self.lines[2026])
            surveys.append(
                Survey(
                    household_id=household.pk,
                    period_id=pid,
                    surveyed_on=day,
                    surveyors=f"{self.clerk_names[clerk]}、{name(rng)}",
                    findings=rng.choice(FINDINGS[cause if cause in FINDINGS else "other"]),
                    per_capita_income=household.per_capita_income,
                    dibao_line=line,
                    is_above_line=household.per_capita_income > line,
                    recorded_by_id=clerk,
                )
            )
        return surveys

    def notice_of(self, county):
        """The county's demo notice: started eight days ago, so its five working days have run
        and the supervisor can approve its files (or hear an objection first)."""
        if county.pk not in self.notices:
            starts = self.today - timedelta(days=8)
            days = county.setting("notice_min_working_days")
            self.notices[county.pk], _created = PublicNotice.objects.get_or_create(
                organisation=county,
                starts_on=starts,
                defaults={
                    "title": f"{county.name}困难职工建档公示",
                    "ends_on": add_working_days(starts, days, county),
                    "working_days": days,
                    "objection_contact": f"{county.name}职工服务中心 0771-12351",
                    "created_by_id": self.clerks[county.pk],
                },
            )
        return self.notices[county.pk]

    def transitions(self, hid, pid, county_pk, status, applied, filed, closed, rng, notice=None):
        clerk, supervisor = self.clerks[county_pk], self.supervisors[county_pk]
        steps = [("create", "", "draft", applied, clerk)]
        chain = {"applied": 1, "reviewed": 2, "notice": 3}
        if status != Status.DRAFT:
            steps.append(("submit", "draft", "applied", applied, clerk))
        if filed or chain.get(status, 0) >= 2:
            steps.append(("review", "applied", "reviewed", applied + timedelta(days=7), clerk))
        if filed or chain.get(status, 0) >= 3:
            posted = notice.starts_on if notice else applied + timedelta(days=10)
            steps.append(("start_notice", "reviewed", "notice", posted, clerk))
        if filed:
            steps.append(("approve", "notice", "on_file", filed, supervisor))
        if status == Status.RELIEVED:
            when = min(filed + timedelta(days=rng.randint(90, 900)), self.today)
            steps.append(("relieve", "on_file", "relieved", when, supervisor))
        if status in (Status.EXITED, Status.DEREGISTERED):
            action = "exit" if status == Status.EXITED else "deregister"
            steps.append((action, "on_file", status, closed, supervisor))
        if status == Status.REJECTED:
            steps.append(("reject", "applied", "rejected", closed, supervisor))
        reasons = ["death", "moved", "not_eligible", "false_information", "other"]
        valid_until = [step[3] for step in steps[1:]] + [None]
        return [
            Transition(
                household_id=hid,
                period_id=pid,
                action=action,
                from_status=source,
                to_status=target,
                effective_date=when,
                actor_id=actor,
                reason="演示数据",
                deregistration_reason=rng.choice(reasons) if action == "deregister" else "",
                valid_until=until,
            )
            for (action, source, target, when, actor), until in zip(steps, valid_until, strict=True)
        ]

    def finish(self):
        """Explicit primary keys bypass PostgreSQL's sequences: move them past the new rows."""
        if connection.vendor != "postgresql":
            return
        from django.core.management.color import no_style

        models = [Household, Member, FilingPeriod, Transition, IdentityClaim, Survey]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
