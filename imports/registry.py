"""Which importer and exporter serve each kind of workbook, and the permissions they need."""

from dataclasses import dataclass

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    importer: str  # dotted path of the Importer class (imports.base.Importer)
    spec: str  # dotted path of `workbook_spec() -> imports.xlsx.WorkbookSpec` (the template)
    exporter: str  # dotted path of `export(*, user, full, progress) -> bytes`, "" when none
    import_permission: str
    export_permission: str
    # The export holds ID or bank numbers, masked unless the user asks for them in full.
    personal_numbers: bool = False


KINDS = {
    "households": Kind(
        "households",
        _("困难职工档案"),
        "households.importing.HouseholdImporter",
        "households.importing.workbook_spec",
        "households.exports.export_households",
        "imports.import_households",
        "imports.export_households",
        personal_numbers=True,
    ),
    "funds": Kind(
        "funds",
        _("帮扶资金收支"),
        "funds.importing.FundsImporter",
        "funds.importing.workbook_spec",
        "funds.importing.export_funds",
        "imports.import_funds",
        "imports.export_funds",
    ),
}


def kind(code: str) -> Kind:
    return KINDS[code]


def importer(code: str):
    """A new importer instance for the kind."""
    return import_string(KINDS[code].importer)()


def template(code: str) -> bytes:
    from imports.xlsx import template_workbook

    return template_workbook(import_string(KINDS[code].spec)())


def exporter(code: str):
    """The export function of the kind, or None when the app has none (yet)."""
    path = KINDS[code].exporter
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError:
        return None
