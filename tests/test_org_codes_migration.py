"""The migration that makes organisation codes unique whatever their case keeps existing rows:
the oldest of codes that differ only in case keeps its code, later ones get a free number, and
the materialised paths of the renamed organisations and their subtrees follow."""

import pytest

BEFORE = [("orgs", "0007_access_log_id_search")]
AFTER = [("orgs", "0008_organisation_code_unique_ci")]


# Serialized rollback: the flush after a transactional test would drop the seeded reference rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_codes_taken_in_other_letters_are_renamed_with_their_subtrees(migrator):
    executor = migrator
    executor.migrate(BEFORE)
    Organisation = executor.loader.project_state(BEFORE).apps.get_model("orgs", "Organisation")

    def org(code, parent=None, level="county"):
        path = f"{parent.path if parent else '/'}{code}/"
        return Organisation.objects.create(
            code=code, name=code, level=level, parent=parent, path=path
        )

    region = org("45", level="region")
    lower = org("4501a", region)  # the oldest keeps its code
    kept_base = org("4501b01", lower, "base")
    upper = org("4501A", region)
    base = org("4501A01", upper, "base")  # under a renamed one, its own code kept
    nested = org("4501B01", upper, "base")  # renamed itself, under a renamed one
    below = org("4501B01001", nested, "base")
    org("4501a2", region)  # the first free number is taken: 4501A gets 3

    executor.loader.build_graph()
    executor.migrate(AFTER)
    Organisation = executor.loader.project_state(AFTER).apps.get_model("orgs", "Organisation")
    paths = dict(Organisation.objects.values_list("pk", "path"))
    assert paths[lower.pk] == "/45/4501a/"
    assert paths[kept_base.pk] == "/45/4501a/4501b01/"
    assert paths[upper.pk] == "/45/4501A3/"
    assert paths[base.pk] == "/45/4501A3/4501A01/"
    assert paths[nested.pk] == "/45/4501A3/4501B012/"
    assert paths[below.pk] == "/45/4501A3/4501B012/4501B01001/"
    for pk, path in paths.items():  # every code is the last step of its path
        assert path.endswith(f"/{Organisation.objects.get(pk=pk).code}/")

    from orgs.models import Organisation as Current

    # A subtree no longer takes in another whose codes differ only in case (LIKE on SQLite).
    subtree = Current.objects.subtree(Current.objects.get(pk=lower.pk))
    assert set(subtree.values_list("code", flat=True)) == {"4501a", "4501b01"}
