"""The reference tables exchanged as Excel in the admin (orgs/reference_admin.py,
django-import-export): export, preview, confirm, file checks, permissions."""

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from funds.models import AssistanceType, FundSource
from households.models import Category, Cause
from services.models import Window
from tests.imports.conftest import with_cached_values

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "name", "is_special", "sort", "is_active"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, name="causes.xlsx"):
    return client.post(
        "/admin/households/cause/import/",
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile(name, content, content_type=XLSX),
        },
    )


def hidden_fields(preview) -> dict:
    """The confirmation form django-import-export rendered in the preview."""
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', preview.content.decode()))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def confirm(client, preview):
    return client.post("/admin/households/cause/process_import/", hidden_fields(preview))


def test_export_is_an_excel_sheet_keyed_by_code(login):
    client = login("admin_450000")
    Cause.objects.filter(code="other").update(name='=HYPERLINK("http://x")')
    response = client.get("/admin/households/cause/export/")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "code"
    codes = {row[0]: row[1] for row in rows[1:]}
    assert codes["illness"] == Cause.objects.get(code="illness").name
    assert not str(codes["other"]).startswith("=")  # formula neutralised


def test_import_previews_then_confirms(login):
    client = login("admin_450000")
    illness = Cause.objects.get(code="illness")
    preview = upload(
        client,
        workbook(
            [
                ["illness", "因病（含重大疾病）", illness.is_special, illness.sort, True],
                ["pandemic", "疫情", False, 99, True],
            ]
        ),
    )
    assert preview.status_code == 200
    assert "pandemic" in preview.content.decode()
    assert not Cause.objects.filter(code="pandemic").exists()  # the preview writes nothing
    assert Cause.objects.get(code="illness").name == illness.name
    done = confirm(client, preview)
    assert done.status_code == 302
    assert Cause.objects.get(code="illness").name == "因病（含重大疾病）"
    assert Cause.objects.get(code="pandemic").name == "疫情"
    assert Cause.objects.filter(code="illness").count() == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"code,name\nillness,x\n", "CSV"),
        (b"%PDF-1.7 not a workbook", "PDF"),
        (b"", "空文件"),  # Django's own FileField message
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused_before_parsing(login, content, message):
    client = login("admin_450000")
    before = list(Cause.objects.values_list("code", "name"))
    response = upload(client, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(Cause.objects.values_list("code", "name")) == before


@pytest.mark.parametrize(
    "username, status",
    [
        ("clerk_450102", 302),
        ("supervisor_450102", 403),
        ("finance_450102", 403),
        ("admin_450102", 403),  # a county's administrator: the tables are every county's
    ],
)
def test_only_administrators_import(login, username, status):
    """Clerks never reach the admin (login page); other staff lack the change permission; the
    shared tables are kept at the top of the tree."""
    client = login(username)
    response = upload(client, workbook([["pandemic", "疫情", False, 99, True]]))
    assert response.status_code == status
    assert not Cause.objects.filter(code="pandemic").exists()


def test_a_confirmation_posted_twice_goes_back_to_the_upload(login):
    """The browser's back button after a confirmed import: the stored upload is gone."""
    client = login("admin_450000")
    preview = upload(client, workbook([["pandemic", "疫情", False, 99, True]]))
    assert confirm(client, preview).status_code == 302
    again = confirm(client, preview)
    assert (again.status_code, again.url) == (302, "/admin/households/cause/import/")
    shown = [str(message) for message in client.get(again.url).context["messages"]]
    assert shown[-1] == "这份文件已经导入过或已失效，请重新上传。"
    assert Cause.objects.filter(code="pandemic").count() == 1


@pytest.mark.parametrize(
    "changed", [{"format": "abc"}, {"format": "9"}, {"resource": "9"}, {"resource": "abc"}]
)
def test_a_confirmation_with_a_format_or_resource_not_offered_is_refused(login, changed):
    client = login("admin_450000")
    preview = upload(client, workbook([["pandemic", "疫情", False, 99, True]]))
    fields = hidden_fields(preview)
    response = client.post("/admin/households/cause/process_import/", {**fields, **changed})
    assert response.status_code == 200
    assert response.context["errors"]
    assert not Cause.objects.filter(code="pandemic").exists()


def test_a_confirmation_reads_only_the_file_its_own_preview_stored(login, users):
    from orgs.reference_admin import sign_upload

    client = login("admin_450000")
    preview = upload(client, workbook([["pandemic", "疫情", False, 99, True]]))
    fields = hidden_fields(preview)
    name = signing_name(fields["import_file_name"])
    forged = [
        name,  # the bare name (another file in the folder could be named)
        "x" + fields["import_file_name"],  # a signature that does not match
        sign_upload(name, users["clerk_450102"].pk),  # signed, for someone else
    ]
    for value in forged:
        response = client.post(
            "/admin/households/cause/process_import/", {**fields, "import_file_name": value}
        )
        assert response.status_code == 200
        assert "这份文件已经导入过或已失效" in str(response.context["errors"])
    assert not Cause.objects.filter(code="pandemic").exists()
    assert confirm(client, preview).status_code == 302  # the genuine confirmation still works
    assert Cause.objects.filter(code="pandemic").exists()


def signing_name(value: str) -> str:
    from django.core import signing

    from orgs.reference_admin import UPLOAD_SALT

    return signing.loads(value, salt=UPLOAD_SALT)[0]


@pytest.mark.parametrize(
    "row",
    [
        ["bad code!", "丙", False, 1, True],  # not a slug
        ["", "己", False, 1, True],  # no code
        ["qa_b", "", False, 1, True],  # no name
        ["qa_c", "因病", False, 1, True],  # the name of another cause: imports match on it
        ["qa_d", "疫情", False, -1, True],  # sort out of range
    ],
)
def test_an_imported_row_is_validated_as_the_add_form_validates(login, row):
    client = login("admin_450000")
    before = list(Cause.objects.values_list("code", "name"))
    preview = upload(client, workbook([row]))
    assert preview.status_code == 200
    confirm(client, preview)  # whatever the preview offered, nothing is written
    assert list(Cause.objects.values_list("code", "name")) == before


def test_two_causes_of_one_name_are_refused(login):
    client = login("admin_450000")
    response = client.post(
        "/admin/households/cause/add/",
        {"code": "illness_chronic", "name": "因病", "sort": 50, "is_active": "on"},
    )
    assert response.status_code == 200 and "名称" in str(response.context["adminform"].errors)
    assert not Cause.objects.filter(code="illness_chronic").exists()


CODE_TAKEN = "已有相同的代码（代码不区分大小写）。"


@pytest.mark.parametrize(
    ("model", "row"),
    [
        (Cause, {"code": "Illness", "name": "因病2", "sort": 50}),
        (Category, {"code": "DEEP", "name": "深度2", "scheme": "current", "sort": 50}),
        (FundSource, {"code": "Central", "name": "中央2", "sort": 50}),
        (AssistanceType, {"code": "LIVING", "name": "生活2", "sort": 50}),
        (Window, {"code": "Petition", "name": "信访2", "sort_order": 50}),
    ],
)
def test_a_code_taken_in_other_letters_is_refused(login, model, row):
    """Reports and imports group by code: "Illness" beside "illness" would read as one."""
    client = login("admin_450000")
    opts = model._meta
    response = client.post(
        f"/admin/{opts.app_label}/{opts.model_name}/add/", {**row, "is_active": "on"}
    )
    assert response.status_code == 200
    assert CODE_TAKEN in response.context["adminform"].form.non_field_errors()
    assert not model.objects.filter(name=row["name"]).exists()
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        model.objects.create(**row)


def test_an_imported_code_taken_in_other_letters_is_refused(login):
    client = login("admin_450000")
    before = list(Cause.objects.values_list("code", "name"))
    preview = upload(client, workbook([["ILLNESS", "因病（大写）", True, 50, True]]))
    assert preview.status_code == 200
    assert CODE_TAKEN in preview.content.decode()
    confirm(client, preview)
    assert list(Cause.objects.values_list("code", "name")) == before


# Every table with the Excel exchange (orgs.reference_admin.ReferenceAdmin): admin URL, model.
EXCHANGED = [
    ("households/cause", Cause),
    ("households/category", Category),
    ("funds/fundsource", FundSource),
    ("funds/assistancetype", AssistanceType),
]


def exported_with_formula(client, table: str, tmp_path, cached: str | None) -> tuple[bytes, str]:
    """The table as exported, with the name (column B) of its last row turned into a formula,
    with Excel's cached result `cached` or, when None, without one (as openpyxl saves it)."""
    exported = client.get(f"/admin/{table}/export/")
    assert exported.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(exported.content))
    sheet = book.active
    assert sheet.cell(1, 2).value == "name"
    cell = f"B{sheet.max_row}"
    sheet[cell] = '="其他"&"X"'
    path = tmp_path / "exported.xlsx"
    book.save(path)
    if cached is not None:
        with_cached_values(path, {cell: cached})
    return path.read_bytes(), cell


@pytest.mark.parametrize("table, model", EXCHANGED)
@pytest.mark.parametrize("cached", ["其他X", None])
def test_a_formula_in_an_exported_table_is_refused_naming_its_cell(
    login, tmp_path, table, model, cached
):
    """The export edited in Excel, one name made by a formula: openpyxl read its cached result
    as if typed ("更新 other 其他X", ready to confirm), or, without one, as a blank name. The
    upload is refused as the household and funds imports refuse it, and nothing is written."""
    client = login("admin_450000")
    content, cell = exported_with_formula(client, table, tmp_path, cached)
    before = list(model.objects.order_by("pk").values_list("code", "name"))
    response = client.post(
        f"/admin/{table}/import/",
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("exported.xlsx", content, content_type=XLSX),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["import_file"] == [
        f"单元格 {cell} 含有公式。导入只接受录入的值：请复制后“选择性粘贴为数值”再上传。"
    ]
    page = response.content.decode()
    assert "其他X" not in page and "process_import" not in page  # no preview to confirm
    assert list(model.objects.order_by("pk").values_list("code", "name")) == before


def test_an_error_value_in_a_table_is_refused(login):
    """#N/A pasted as a value: openpyxl would import the text "#N/A" as a name."""
    client = login("admin_450000")
    response = upload(client, workbook([["pandemic", "#N/A", False, 99, True]]))
    assert response.context["form"].errors["import_file"] == [
        "单元格 B2 是错误值 #N/A，请改为正确的值后再上传。"
    ]
    assert not Cause.objects.filter(code="pandemic").exists()
