"""Supporting documents: the type is decided by the content (PDF, JPEG, PNG), not the name; the
size is limited by settings.DOCUMENT_MAX_BYTES; nothing the uploader named reaches the disk; the
files are served only by the permission-checked, logged download view, as attachments that a
browser will not sniff into HTML."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from households.models import Document
from tests.households.conftest import dibao, make_household  # noqa: F401

PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def upload(client, household, content, name):
    return client.post(
        reverse("households:document_upload", args=[household.pk]),
        {"kind": "income_proof", "file": SimpleUploadedFile(name, content)},
    )


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "证明.pdf"),  # a Windows program
        (b"<!DOCTYPE html><script>alert(document.cookie)</script>", "证明.pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "照片.png"),
        (b"PK\x03\x04" + b"\x00" * 64, "证明.jpg"),  # a zip (or an Office file)
        (b"", "空.pdf"),
        (b" %PDF-1.4 with a space before", "证明.pdf"),
    ],
)
def test_content_that_is_not_pdf_jpeg_or_png_is_refused(login, make_household, content, name):  # noqa: F811
    household = make_household(documents=False)
    response = upload(login("clerk_450102"), household, content, name)
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert any("只能上传PDF、JPEG或PNG文件" in e or "空" in e for e in errors), errors
    assert Document.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PDF, "扫描件.PDF", "application/pdf"),
        (PNG, "photo", "image/png"),
        (JPEG, "a.pdf", "image/jpeg"),
    ],
)
def test_the_content_decides_the_type_not_the_name(
    login,
    make_household,  # noqa: F811
    content,
    name,
    content_type,
):  # noqa: F811
    household = make_household(documents=False)
    assert upload(login("clerk_450102"), household, content, name).status_code == 302
    document = Document.objects.get()
    assert document.content_type == content_type
    assert document.original_name == name


@override_settings(DOCUMENT_MAX_BYTES=1024 * 1024)
def test_the_size_limit_is_a_setting_and_the_error_names_the_field(login, make_household):  # noqa: F811
    household = make_household(documents=False)
    clerk = login("clerk_450102")
    response = upload(clerk, household, PDF + b"0" * (1024 * 1024), "大.pdf")
    assert response.context["form"].errors["file"] == ["文件不能超过1MB。"]
    assert Document.objects.count() == 0
    assert upload(clerk, household, PDF + b"0" * 1000, "小.pdf").status_code == 302


def test_the_uploaders_file_name_never_reaches_the_disk(login, make_household):  # noqa: F811
    household = make_household(documents=False)
    upload(login("clerk_450102"), household, PDF, "../../../etc/cron.d/x.pdf")
    document = Document.objects.get()
    assert "/" not in document.original_name  # Django keeps only the base name, as data
    assert ".." not in document.file.name and "cron" not in document.file.name
    assert document.file.name.startswith(f"households/{household.pk}/income_proof-")


def test_downloads_are_attachments_checked_and_logged(login, make_household, users):  # noqa: F811
    from orgs.models import AccessLog

    household = make_household(documents=False)
    upload(login("clerk_450102"), household, PDF, "<b>名</b>.pdf")
    document = Document.objects.get()
    response = login("supervisor_450102").get(
        reverse("households:document_download", args=[document.pk])
    )
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"  # the sniffed type, not the browser's
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert AccessLog.objects.filter(action="download", user=users["supervisor_450102"]).exists()
    # Not served from MEDIA_URL: there is no such URL.
    assert login("supervisor_450102").get("/media/" + document.file.name).status_code == 404
