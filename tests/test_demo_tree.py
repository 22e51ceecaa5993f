"""The demo tree and users: written in a few statements into an empty database (every test's
start), or kept and completed where they exist (seed_demo run again): the same rows either way."""

from orgs.demo import DEMO_PASSWORD, demo_users, seed_organisations_and_users
from orgs.models import Holiday, Organisation, User


def snapshot():
    return (
        sorted(Organisation.objects.values_list("code", "name", "level", "parent__code", "path")),
        sorted(Holiday.objects.values_list("date", "name", "is_working_day", "organisation")),
        sorted(
            User.objects.values_list(
                "username", "full_name", "organisation__code", "is_staff", "groups__name"
            )
        ),
    )


def test_an_empty_database_and_a_second_run_give_the_same_rows(db):
    fresh = seed_organisations_and_users()
    assert fresh["450102001"].path == "/450000/450100/450102/450102001/"
    first = snapshot()
    assert len(first[2]) == len(demo_users())
    # The row-by-row path (a database with the tree already) from a partial tree.
    User.objects.filter(username__startswith="viewer_").delete()
    Organisation.objects.filter(code="450103002").delete()
    Holiday.objects.filter(date="2026-10-01").delete()
    seed_organisations_and_users()
    assert snapshot() == first
    for user in User.objects.all():
        assert user.check_password(DEMO_PASSWORD), user.username
    assert Organisation.objects.get(code="450102").contains(
        Organisation.objects.get(code="450102002")
    )


def test_the_demo_holidays_start_their_field_history(db):
    """Holidays keep field history (old → new on their admin history page): the demo's start it
    with a record of their values, as holidays entered by hand and those the migration found."""
    seed_organisations_and_users()
    created = Holiday.history.filter(history_type="+")
    assert sorted(created.values_list("id", "name")) == sorted(
        Holiday.objects.values_list("id", "name")
    )
