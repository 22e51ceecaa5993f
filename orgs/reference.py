"""Reference rows (causes, categories, fund sources, assistance types, service windows) in the
interface language. Their names are data an administrator may edit; the migrations seed them in
Chinese and mark the seeded names for the catalogues, so a seeded name shows translated and a
name an administrator typed shows as typed. What is read back or sent up prints the stored
name, Chinese whatever the reader's language: the import/export workbooks (their values are
matched on import) and every PDF. Workbooks only read by people (the summary's, the roster's)
follow the reader's language like the pages."""

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def translated_name(name: str) -> str:
    return gettext(name) if name else ""  # gettext("") would be the catalogue's header


def unique_code(table: str) -> models.UniqueConstraint:
    """A reference table's code is unique whatever the case of its letters: reports, imports
    and rules group by it, and "Illness" beside "illness" would read as one code."""
    return models.UniqueConstraint(
        Lower("code"),
        name=f"{table}_code_unique_ci",
        violation_error_message=_("已有相同的代码（代码不区分大小写）。"),
    )
