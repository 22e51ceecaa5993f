"""Reference rows (causes, categories, fund sources, assistance types, service windows) in the
interface language. Their names are data an administrator may edit; the migrations seed them in
Chinese and mark the seeded names for the catalogues, so a seeded name shows translated and a
name an administrator typed shows as typed. Exports, reports and PDFs print the stored name:
the workbooks' values and the documents sent up are Chinese whatever the reader's language."""

from django.utils.translation import gettext


def translated_name(name: str) -> str:
    return gettext(name) if name else ""  # gettext("") would be the catalogue's header
