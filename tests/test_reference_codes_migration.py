"""The migrations that make reference codes unique whatever their case keep existing rows:
the oldest of codes that differ only in case keeps its code, later ones get a free suffix."""

import pytest

BEFORE = [("households", "0017_reference_date_ranges")]
AFTER = [("households", "0018_reference_codes_unique_ci")]


# Serialized rollback: the flush after a transactional test would drop the seeded reference rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_codes_taken_in_other_letters_are_renamed_not_lost(migrator):
    migrator.migrate(BEFORE)
    apps = migrator.loader.project_state(BEFORE).apps
    Cause = apps.get_model("households", "Cause")
    shouting = Cause.objects.create(code="ILLNESS", name="因病（大写）")
    title = Cause.objects.create(code="Illness", name="因病（首字母大写）")
    Cause.objects.create(code="illness-2", name="因病二")

    migrator.loader.build_graph()
    migrator.migrate(AFTER)
    Cause = migrator.loader.project_state(AFTER).apps.get_model("households", "Cause")
    codes = set(Cause.objects.filter(code__istartswith="illness").values_list("code", flat=True))
    assert codes == {"illness", "ILLNESS-3", "Illness-4", "illness-2"}
    assert Cause.objects.get(pk=shouting.pk).name == "因病（大写）"
    assert Cause.objects.get(pk=title.pk).code == "Illness-4"
