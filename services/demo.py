"""Demo records of the service centre (`seed_demo --households N`): per county a few dozen
cases over the past year, some legal aid with wages recovered, referrals and one course.
The windows themselves come from migration 0002. Counties that already have cases are left
alone, so the command can be run again."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.demo import COUNTY_CODES
from orgs.models import User
from services.models import (
    Case,
    CaseEvent,
    JobReferral,
    LegalAidCase,
    TrainingAttendee,
    TrainingCourse,
    Window,
)
from services.services import (
    attendee_save,
    case_close,
    case_create,
    case_refer,
    course_save,
    legal_aid_save,
    referral_save,
)
from services.validators import id_check_char

CASES_PER_COUNTY = 36
GIVEN_NAMES = "建国 秀英 志强 桂兰 海燕 国庆 丽华 明 伟 芳 军 静 磊 敏 勇 艳 杰 娟 涛 霞".split()
SURNAMES = "王李张刘陈杨黄赵吴周韦蓝农覃莫"
MATTERS = {
    "petition": ["反映企业拖欠社保缴费", "咨询劳动合同续签问题", "反映单位食堂卫生问题"],
    "hardship_aid": ["申请困难职工建档", "咨询送温暖慰问金", "子女上学申请金秋助学"],
    "medical_mutual_aid": ["咨询职工医疗互助报销", "办理住院互助金申领"],
    "legal_aid": ["被拖欠工资三个月", "工伤认定后单位拒绝赔偿", "被单位无故辞退"],
    "employment_training": ["下岗后求职登记", "报名电工技能培训", "咨询创业扶持政策"],
    "general_benefits": ["办理工会会员卡", "咨询职工疗休养", "领取普惠服务券"],
}
EMPLOYERS = ["南宁某建筑劳务公司", "广西某物流有限公司", "某商贸中心", "某食品加工厂"]
POSITIONS = ["仓库管理员", "焊工", "保洁员", "叉车司机", "收银员"]


def _id_number(rng: random.Random, area: str) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35))
    first17 = f"{area}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def _worker(rng: random.Random, area: str) -> dict:
    return {
        "worker_name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
        "worker_phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
        "worker_id_number": _id_number(rng, area) if rng.random() < 0.6 else "",
    }


def seed_records(*, orgs, households, seed, stdout) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    windows = list(Window.objects.filter(is_active=True))
    if not windows:
        return
    for code in COUNTY_CODES:
        county = orgs[code]
        if Case.objects.filter(organisation=county).exists():
            continue
        clerk = User.objects.get(username=f"clerk_{code}")
        with transaction.atomic():
            _seed_county(rng=rng, county=county, clerk=clerk, windows=windows)
        stdout.write(
            _("服务中心演示案件 %(n)d 件：%(org)s") % {"n": CASES_PER_COUNTY, "org": county.name}
        )


def _office_hours(now, rng):
    """A moment of the past 330 days between 8:30 and 17:30 local time (the centre's hours),
    never after `now`: a moment later today is taken the day before (capped at `now`, a seed
    before 8:30 gave a case received outside the hours, on the previous day in UTC)."""
    day = timezone.localdate(now) - timedelta(days=rng.randrange(0, 330))
    moment = datetime.combine(day, time(8, 30)) + timedelta(minutes=rng.randrange(540))
    moment = timezone.make_aware(moment)
    return moment - timedelta(days=1) if moment > now else moment


def _seed_county(*, rng, county, clerk, windows) -> None:
    now = timezone.now()
    for _index in range(CASES_PER_COUNTY):
        window = rng.choice(windows)
        received_at = _office_hours(now, rng)
        case = case_create(
            user=clerk,
            case=Case(
                organisation=county,
                channel=rng.choice(Case.Channel.values),
                received_at=received_at,
                window=window,
                matter=rng.choice(MATTERS.get(window.code, ["咨询"])),
                handler=clerk,
                follow_up_on=timezone.localdate(received_at) + timedelta(days=14),
                **_worker(rng, county.code),
            ),
        )
        # Demo only: the case was logged when it was received, not when the demo was seeded.
        CaseEvent.objects.filter(case=case, action=CaseEvent.Action.LOGGED).update(at=received_at)
        if window.code == "legal_aid":
            wages = Decimal(rng.randrange(0, 40)) * Decimal("1000.00")
            legal_aid_save(
                user=clerk,
                legal_aid=LegalAidCase(
                    case=case,
                    dispute_type=rng.choice(LegalAidCase.DisputeType.values),
                    employer=rng.choice(EMPLOYERS),
                    lawyer=rng.choice(["覃律师", "莫律师", "韦律师"]),
                    fees_waived=Decimal("800.00"),
                    wages_recovered=wages,
                    is_migrant_worker=rng.random() < 0.5,
                    outcome="调解结案" if wages else "",
                ),
            )
        if window.code == "employment_training" and rng.random() < 0.7:
            referral_save(
                user=clerk,
                referral=JobReferral(
                    organisation=county,
                    case=case,
                    worker_name=case.worker_name,
                    worker_phone=case.worker_phone,
                    worker_id_number=case.worker_id_number,
                    employer=rng.choice(EMPLOYERS),
                    position=rng.choice(POSITIONS),
                    referred_on=timezone.localdate(received_at),
                    result=rng.choice(JobReferral.Result.values),
                ),
            )
        roll = rng.random()
        if roll < 0.15:
            case_refer(user=clerk, case=case, referred_to="区人力资源和社会保障局")
            referred_at = min(received_at + timedelta(days=rng.randrange(0, 5)), now)
            CaseEvent.objects.filter(case=case, action=CaseEvent.Action.REFERRED).update(
                at=referred_at
            )
        elif roll < 0.8:
            case_close(user=clerk, case=case, outcome="已答复并办理")
            # Demo only: spread the closing dates as if the cases had been closed over time.
            closed_at = received_at + timedelta(days=rng.randrange(0, 30))
            Case.objects.filter(pk=case.pk).update(closed_at=min(closed_at, now))
            CaseEvent.objects.filter(case=case, action=CaseEvent.Action.CLOSED).update(
                at=min(closed_at, now)
            )
    starts = timezone.localdate() - timedelta(days=rng.randrange(30, 200))
    course = course_save(
        user=clerk,
        course=TrainingCourse(
            organisation=county,
            name="家政服务员职业技能培训",
            starts_on=starts,
            ends_on=starts + timedelta(days=10),
        ),
    )
    for _index in range(12):
        certified = rng.random() < 0.7
        attendee_save(
            user=clerk,
            attendee=TrainingAttendee(
                course=course,
                certificate_obtained=certified,
                certificate_name="家政服务员（五级）" if certified else "",
                **_worker(rng, county.code),
            ),
        )
