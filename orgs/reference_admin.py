"""The admin of the reference tables (causes, categories, fund sources, assistance types):
names are edited, a code is fixed once created (reports, imports and the rules group by it),
rows are retired (启用 off), never deleted.

Administrators also exchange a whole table as an Excel sheet through django-import-export:
rows matched by code, a preview before anything is written, one transaction. These tables have
a few dozen rows, so its row-by-row path is the right tool here; the household and funds
workbooks (hundreds of thousands of rows) use the bulk path of the `imports` app instead."""

import os
import tempfile

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext, gettext_noop
from import_export import resources
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import XLSX
from import_export.forms import ConfirmImportForm, ImportForm

from imports.workbook import WorkbookRefused, cell_errors
from orgs.scoping import NationalTableMixin


class ReferenceImportForm(ImportForm):
    """The same file checks as the household imports (size, content, zip limits, and no cell
    holding a formula or an error value, on any sheet) before django-import-export's parser
    sees the upload: openpyxl would take a formula's cached value as if typed."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        with tempfile.NamedTemporaryFile(suffix=".xlsx", dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
            for chunk in upload.chunks():
                copy.write(chunk)
            copy.flush()
            try:
                errors = cell_errors(copy.name)
            except WorkbookRefused as refused:
                errors = refused.errors
            if errors:
                raise ValidationError([error.message for error in errors])
        upload.seek(0)
        return upload


# The stored upload's name travels through the preview page signed, with the user's key: the
# confirmation reads only the file its own preview stored (django-import-export would open
# whatever name the hidden field says, in its temporary folder).
UPLOAD_SALT = "orgs.reference_admin.upload"
UPLOAD_GONE = gettext_noop("这份文件已经导入过或已失效，请重新上传。")
UPLOAD_MAX_AGE = 24 * 3600


def sign_upload(name: str, user_pk) -> str:
    return signing.dumps([name, user_pk], salt=UPLOAD_SALT)


class ReferenceConfirmImportForm(ConfirmImportForm):
    """The preview's hidden fields, posted back to confirm: a format or resource the admin does
    not offer is an invalid form (django-import-export would index its lists with it: a 500),
    and so is a file name this user's preview did not sign."""

    def __init__(self, *args, formats: int, resources: int, user_pk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_pk = user_pk
        hidden = forms.HiddenInput()
        self.fields["format"] = forms.ChoiceField(choices=numbered(formats), widget=hidden)
        self.fields["resource"] = forms.ChoiceField(
            choices=numbered(resources), widget=hidden, required=False
        )

    def clean_import_file_name(self):
        try:
            name, user_pk = signing.loads(
                self.cleaned_data["import_file_name"], salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE
            )
        except (signing.BadSignature, ValueError, TypeError):
            raise ValidationError(gettext(UPLOAD_GONE)) from None
        if user_pk != self.user_pk:
            raise ValidationError(gettext(UPLOAD_GONE))
        return os.path.basename(name)


def numbered(count: int) -> list[tuple[str, str]]:
    return [(str(index), str(index)) for index in range(count)]


def resource_for(model, fields):
    """Rows keyed by code; unchanged rows are skipped, none is ever deleted."""
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": fields,
            "import_id_fields": ["code"],
            "skip_unchanged": True,
            "report_skipped": True,
            "use_transactions": True,
            # Each row is validated as the add form validates it (code, name, sort range), so a
            # workbook cannot write a code the reports would then carry.
            "clean_model_instances": True,
        },
    )
    return type(f"{model.__name__}Resource", (resources.ModelResource,), {"Meta": meta})


class ReferenceAdmin(NationalTableMixin, ImportExportModelAdmin):
    search_fields = ["code", "name"]
    import_form_class = ReferenceImportForm
    confirm_form_class = ReferenceConfirmImportForm
    formats = [XLSX]  # the one format the rest of the product reads and writes

    def __init__(self, model, admin_site):
        self.resource_classes = [resource_for(model, self.exchanged_fields())]
        super().__init__(model, admin_site)

    def get_confirm_form_kwargs(self, request, import_form=None):
        return {
            **super().get_confirm_form_kwargs(request, import_form),
            "formats": len(self.get_import_formats()),
            "resources": len(self.get_import_resource_classes(request)),
            "user_pk": request.user.pk,
        }

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if initial.get("import_file_name"):
            initial["import_file_name"] = sign_upload(initial["import_file_name"], request.user.pk)
        return initial

    def process_import(self, request, **kwargs):
        """A confirmation posted again (the browser's back button) finds its upload gone: the
        rows were written the first time, or the upload expired. Back to the upload, not a 500."""
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:
            messages.error(request, gettext(UPLOAD_GONE))
            opts = self.opts
            return redirect(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_import")

    def exchanged_fields(self) -> list[str]:
        return list(self.fields or self.list_display)

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False
