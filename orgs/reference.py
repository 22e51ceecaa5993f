"""Reference rows (causes, categories, fund sources, assistance types, service windows) in the
interface language. Their names are data an administrator may edit; the migrations seed them in
Chinese and mark the seeded names for the catalogues, so a seeded name shows translated and a
name an administrator typed shows as typed. What is read back or sent up prints the stored
name, Chinese whatever the reader's language: the import/export workbooks (their values are
matched on import) and every PDF. Workbooks only read by people (the summary's, the roster's)
follow the reader's language like the pages."""

from django.utils.translation import gettext


def translated_name(name: str) -> str:
    return gettext(name) if name else ""  # gettext("") would be the catalogue's header
