"""`__any_of`, the importers' lookup of thousands of keys in one query, and the byte-wise
collation of the ID hashes it looks up on PostgreSQL."""

import pytest
from django.db import connection

from households.models import Household, IdentityClaim, Member

pytestmark = pytest.mark.django_db


def test_any_of_matches_like_in(make_household):
    first, second, third = (make_household() for _ in range(3))
    numbers = [first.file_number, third.file_number, "NO-SUCH-FILE"]
    assert set(Household.objects.filter(file_number__any_of=numbers)) == {first, third}
    assert set(Household.objects.filter(pk__any_of=[second.pk])) == {second}


def test_any_of_follows_a_foreign_key_by_its_column(make_household):
    household = make_household()  # with a spouse, 李芳
    other = make_household()
    names = Member.objects.filter(household_id__any_of=[household.pk]).values_list(
        "name", flat=True
    )
    assert "李芳" in names
    assert not Member.objects.filter(household_id__any_of=[household.pk]).filter(household=other)


def test_any_of_an_empty_list_matches_nothing(make_household):
    make_household()
    assert not Household.objects.filter(file_number__any_of=[]).exists()
    assert Household.objects.exclude(file_number__any_of=[]).count() == 1


@pytest.mark.postgres_only
def test_any_of_sends_one_array_parameter_on_postgresql(make_household):
    household = make_household()
    keys = [household.id_hash] + [f"{n:064x}" for n in range(5000)]
    sql, params = IdentityClaim.objects.filter(id_hash__any_of=keys).query.sql_with_params()
    assert "= ANY(%s)" in sql
    assert params == (keys,)
    assert IdentityClaim.objects.filter(id_hash__any_of=keys).get().household == household


@pytest.mark.postgres_only
def test_id_hashes_compare_bytewise_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, co.collname FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_collation co ON co.oid = a.attcollation
               WHERE a.attname = 'id_hash' AND c.relname = ANY(%s)""",
            [["households_household", "households_member", "households_identityclaim"]],
        )
        assert dict(cursor.fetchall()) == {
            "households_household": "C",
            "households_member": "C",
            "households_identityclaim": "C",
        }


def test_any_of_takes_more_keys_than_sqlite_allows_variables(make_household):
    """A funds workbook looks up every import key at once: beyond SQLite's limit on variables
    (250,000 in Debian's build, 32,766 by default) a plain IN failed."""
    household = make_household()
    keys = [f"NO-{n}" for n in range(300_000)] + [household.file_number]
    assert list(Household.objects.filter(file_number__any_of=keys)) == [household]
    pks = list(range(-300_000, 0)) + [household.pk]
    assert Household.objects.filter(pk__any_of=pks).count() == 1
