"""Migration 0025: documents uploaded before their names were masked keep no ID, bank or phone
number in full in their stored name, on the document nor in its field history; names without
such a number are left as they are."""

import pytest

from orgs.pii import mask_numbers

BEFORE = [("households", "0024_notice_ends")]
AFTER = [("households", "0025_document_names_masked")]


# Serialized rollback: as tests/households/test_migration_withdrawn.py.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_stored_document_names_are_masked(make_household, users, migrator, tmp_path, settings):
    from households.models import Document

    settings.MEDIA_ROOT = tmp_path
    household = make_household()
    names = {
        "id": f"{household.id_number}身份证.pdf",
        "bank": "6222020200112233445 银行卡.jpg",
        "phone": "诊断证明13812345678.pdf",
        "plain": "收入证明2019-03-31.pdf",
        "masked": f"{household.id_masked}户口簿.pdf",
    }
    documents = {}
    for key, name in names.items():  # as the code before 0025 stored them
        documents[key] = Document.objects.create(
            household=household,
            kind="other",
            file="documents/x.pdf",
            original_name=name,
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
            uploaded_by=users["clerk_450102"],
        )

    migrator.migrate(BEFORE)
    migrator.loader.build_graph()
    migrator.migrate(AFTER)
    apps = migrator.loader.project_state(AFTER).apps

    Document = apps.get_model("households", "Document")
    History = apps.get_model("households", "HistoricalDocument")
    stored = dict(Document.objects.values_list("pk", "original_name"))
    for key, name in names.items():
        pk = documents[key].pk
        assert stored[pk] == mask_numbers(name), key
        assert set(History.objects.filter(id=pk).values_list("original_name", flat=True)) == {
            mask_numbers(name)
        }
    assert stored[documents["id"].pk] == f"{household.id_masked}身份证.pdf"
    assert stored[documents["phone"].pk] == "诊断证明1******5678.pdf"
    assert stored[documents["plain"].pk] == names["plain"]
