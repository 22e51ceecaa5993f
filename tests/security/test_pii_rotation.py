"""Key rotation of the encrypted ID and bank numbers: with a new key first in
PII_ENCRYPTION_KEYS, `manage.py rotate_pii_keys` re-encrypts every encrypted column (field
history included) under it, in batches, without touching the data or writing history; after
that the old key can go."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from households.models import Household, Member
from orgs import pii
from tests.households.conftest import dibao, make_household  # noqa: F401

ACCOUNT = "6222020200112233445"


def raw_tokens(model, column) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {model._meta.db_table} WHERE {column} <> ''"  # noqa: S608
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def old_key(settings):
    return settings.PII_ENCRYPTION_KEYS[0]


def test_rotation_reencrypts_everything_under_the_new_key(
    make_household,  # noqa: F811
    old_key,
):
    first = make_household(bank_account=ACCOUNT, bank_name="工行")
    second = make_household()
    numbers = {h.pk: h.id_number for h in Household.objects.all()}
    members = {m.pk: m.id_number for m in Member.objects.exclude(id_number="")}
    history_count = Household.history.count()
    new_key = Fernet.generate_key().decode()

    with override_settings(PII_ENCRYPTION_KEYS=[new_key, old_key]):
        out = StringIO()
        call_command("rotate_pii_keys", "--batch-size", "1", stdout=out)
        assert "households.Household：检查 3 个，重新加密 3 个" in out.getvalue()
        assert "households.HistoricalHousehold" in out.getvalue()

    # Only the new key is needed now, for the files and their field history alike.
    with override_settings(PII_ENCRYPTION_KEYS=[new_key]):
        assert {h.pk: h.id_number for h in Household.objects.all()} == numbers
        assert Household.objects.get(pk=first.pk).bank_account == ACCOUNT
        assert {m.pk: m.id_number for m in Member.objects.exclude(id_number="")} == members
        assert {h.id_number for h in Household.history.all()} == set(numbers.values())
        for model, column in ((Household, "id_number"), (Member, "id_number")):
            for token in raw_tokens(model, column):
                assert pii.is_under_newest_key(token)
        # Nothing else changed: no new history rows, the same hashes.
        assert Household.history.count() == history_count
        assert Household.objects.get(pk=second.pk).id_hash == pii.keyed_hash(numbers[second.pk])

    # The old key alone can no longer read them.
    with override_settings(PII_ENCRYPTION_KEYS=[old_key]):
        with pytest.raises(ImproperlyConfigured):
            Household.objects.get(pk=first.pk)


def test_rotation_twice_rewrites_nothing(make_household, old_key):  # noqa: F811
    make_household()
    new_key = Fernet.generate_key().decode()
    with override_settings(PII_ENCRYPTION_KEYS=[new_key, old_key]):
        call_command("rotate_pii_keys", stdout=StringIO())
        before = raw_tokens(Household, "id_number")
        out = StringIO()
        call_command("rotate_pii_keys", stdout=out)
        assert raw_tokens(Household, "id_number") == before
        assert "已用最新密钥重新加密 0 个值" in out.getvalue()


def test_dry_run_writes_nothing(make_household, old_key):  # noqa: F811
    make_household()
    before = raw_tokens(Household, "id_number")
    with override_settings(PII_ENCRYPTION_KEYS=[Fernet.generate_key().decode(), old_key]):
        out = StringIO()
        call_command("rotate_pii_keys", "--dry-run", stdout=out)
    assert raw_tokens(Household, "id_number") == before
    assert "未写入" in out.getvalue()


def test_a_value_under_an_unlisted_key_stops_the_rotation(make_household, old_key):  # noqa: F811
    make_household()
    with override_settings(PII_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(CommandError, match="households"):
            call_command("rotate_pii_keys", stdout=StringIO())


def test_every_encrypted_column_is_covered():
    covered = {(model._meta.label, tuple(columns)) for model, columns in pii.encrypted_fields()}
    labels = {label for label, _columns in covered}
    assert {
        "households.Household",
        "households.HistoricalHousehold",
        "households.Member",
        "services.Case",
        "services.HistoricalCase",
        "funds.PaymentBatchLine",
        "funds.AssistanceRequest",
    } <= labels
    assert ("households.Household", ("id_number", "bank_account")) in covered
