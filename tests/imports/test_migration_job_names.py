"""Migration imports 0004: workbooks uploaded before their names were masked keep no ID, bank
or phone number in full in their stored name; names without such a number are left as they
are."""

import pytest

from orgs.pii import mask_numbers

BEFORE = [("imports", "0003_job_restarted")]
AFTER = [("imports", "0004_job_names_masked")]


# Serialized rollback: as tests/households/test_migration_withdrawn.py.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_stored_job_names_are_masked(users, migrator):
    from imports.models import ImportJob

    names = {
        "id": "450102198003150011韦小宝.xlsx",
        "bank": "6222020200112233445 资金.xlsx",
        "phone": "档案13812345678.xlsx",
        "plain": "档案2019-03-31.xlsx",
        "masked": "450102********0011.xlsx",
        "empty": "",
    }
    jobs = {}
    for key, name in names.items():  # as the code before 0004 stored them
        jobs[key] = ImportJob.objects.create(
            organisation=users["clerk_450102"].organisation,
            created_by=users["clerk_450102"],
            kind="households",
            operation=ImportJob.Operation.IMPORT,
            token=f"{key:0<32}"[:32],
            original_name=name,
        )

    migrator.migrate(BEFORE)
    migrator.loader.build_graph()
    migrator.migrate(AFTER)
    apps = migrator.loader.project_state(AFTER).apps

    stored = dict(apps.get_model("imports", "ImportJob").objects.values_list("pk", "original_name"))
    for key, name in names.items():
        assert stored[jobs[key].pk] == mask_numbers(name), key
    assert stored[jobs["id"].pk] == "450102********0011韦小宝.xlsx"
    assert stored[jobs["phone"].pk] == "档案1******5678.xlsx"
    assert stored[jobs["plain"].pk] == names["plain"]
