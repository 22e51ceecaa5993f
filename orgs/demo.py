"""The demo organisation tree and users of `seed_demo` (README lists them)."""

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from orgs.models import Holiday, Organisation, User
from orgs.roles import ADMIN_SITE_ROLES, Role

DEMO_PASSWORD = "bangfu-demo-2026"  # noqa: S105 - documented demo password

L = Organisation.Level
DEMO_ORGANISATIONS = [
    # code, name, level, parent code
    ("450000", "广西壮族自治区总工会", L.REGION, None),
    ("450100", "南宁市总工会", L.CITY, "450000"),
    ("450102", "兴宁区总工会", L.COUNTY, "450100"),
    ("450103", "青秀区总工会", L.COUNTY, "450100"),
    ("450102001", "兴宁区民生街道工会联合会", L.BASE, "450102"),
    ("450102002", "南宁糖业股份有限公司工会", L.BASE, "450102"),
    ("450103001", "青秀区中山街道工会联合会", L.BASE, "450103"),
    ("450103002", "广西建工第一建筑工程公司工会", L.BASE, "450103"),
]
COUNTY_CODES = ["450102", "450103"]
COUNTY_ROLES = [Role.CLERK, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN]
SURNAMES = "王李张刘陈杨黄赵吴周"

# 2026 public holidays and make-up working days (国务院办公厅通知), for the notice-period rule.
DEMO_HOLIDAYS = [
    ("2026-01-01", "元旦", False),
    ("2026-01-02", "元旦", False),
    ("2026-01-04", "元旦调休", True),
    *[(f"2026-02-{d:02d}", "春节", False) for d in range(15, 24)],
    ("2026-02-14", "春节调休", True),
    ("2026-02-28", "春节调休", True),
    ("2026-04-04", "清明节", False),
    ("2026-04-05", "清明节", False),
    ("2026-04-06", "清明节", False),
    *[(f"2026-05-{d:02d}", "劳动节", False) for d in range(1, 6)],
    ("2026-05-09", "劳动节调休", True),
    ("2026-06-19", "端午节", False),
    ("2026-06-20", "端午节", False),
    ("2026-06-21", "端午节", False),
    ("2026-09-25", "中秋节", False),
    ("2026-09-26", "中秋节", False),
    ("2026-09-27", "中秋节", False),
    *[(f"2026-10-{d:02d}", "国庆节", False) for d in range(1, 8)],
    ("2026-10-10", "国庆节调休", True),
]


def demo_users() -> list[tuple[str, str, str, str]]:
    """(username, full name, organisation code, role) for every demo user."""
    users = []
    for index, code in enumerate(COUNTY_CODES):
        for offset, role in enumerate(COUNTY_ROLES):
            surname = SURNAMES[(index * 4 + offset) % len(SURNAMES)]
            users.append((f"{role.value}_{code}", f"{surname}{role.label}", code, role.value))
    # Approvers of the second level of assistance requests, so each kind can be completed in
    # the demo: another supervisor of the county, the city union's and the region's.
    for code in COUNTY_CODES:
        users.append((f"supervisor2_{code}", f"{code}第二审批人", code, Role.SUPERVISOR.value))
    users.append(("supervisor_450100", "南宁市审核审批", "450100", Role.SUPERVISOR.value))
    users.append(("supervisor_450000", "自治区审核审批", "450000", Role.SUPERVISOR.value))
    users.append(("viewer_450100", "南宁市总工会（只读）", "450100", Role.VIEWER.value))
    users.append(("viewer_450000", "自治区总工会（只读）", "450000", Role.VIEWER.value))
    users.append(("admin_450000", "自治区系统管理员", "450000", Role.ADMIN.value))
    return users


@transaction.atomic
def seed_organisations_and_users(password: str = DEMO_PASSWORD) -> dict[str, Organisation]:
    """The demo tree, holidays and users; kept as they are where they exist already (seed_demo
    run twice), each written once in a few statements where none exist (every test's start)."""
    if not Organisation.objects.exists() and not User.objects.exists():
        return _seed_empty(password)
    from django.contrib.auth.models import Group

    orgs: dict[str, Organisation] = {}
    for code, name, level, parent_code in DEMO_ORGANISATIONS:
        org, _ = Organisation.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "parent": orgs.get(parent_code)}
        )
        orgs[code] = org
    for day, name, working in DEMO_HOLIDAYS:
        Holiday.objects.update_or_create(
            date=day, organisation=None, defaults={"name": name, "is_working_day": working}
        )
    groups = {group.name: group for group in Group.objects.all()}
    for username, full_name, code, role in demo_users():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "organisation": orgs[code],
                "is_staff": role in ADMIN_SITE_ROLES,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(groups[role])
    return orgs


def _seed_empty(password: str) -> dict[str, Organisation]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    orgs: dict[str, Organisation] = {}
    for level in Organisation.Level.values:  # top down: a level's parents have their keys
        rows = [row for row in DEMO_ORGANISATIONS if row[2] == level]
        for code, name, _level, parent_code in rows:
            parent = orgs.get(parent_code)
            path = f"{parent.path if parent else '/'}{code}/"  # as Organisation.save
            orgs[code] = Organisation(code=code, name=name, level=level, parent=parent, path=path)
        Organisation.objects.bulk_create(orgs[row[0]] for row in rows)
    # With the first record of their field history, as a holiday saved one by one starts it.
    bulk_create_with_history(
        [
            Holiday(date=day, name=name, is_working_day=working, organisation=None)
            for day, name, working in DEMO_HOLIDAYS
        ],
        Holiday,
        default_change_reason="演示数据",
    )
    hashed = make_password(password)  # one hash for the one demo password
    people = demo_users()
    users = User.objects.bulk_create(
        User(
            username=username,
            full_name=full_name,
            organisation=orgs[code],
            is_staff=role in ADMIN_SITE_ROLES,
            password=hashed,
        )
        for username, full_name, code, role in people
    )
    groups = {group.name: group for group in Group.objects.all()}
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=groups[role].pk)
        for user, (_username, _name, _code, role) in zip(users, people, strict=True)
    )
    return orgs
