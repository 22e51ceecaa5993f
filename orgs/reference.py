"""Reference rows (causes, categories, fund sources, assistance types, service windows) in the
interface language. Their names are data an administrator may edit; the migrations seed them in
Chinese and mark the seeded names for the catalogues, so a seeded name shows translated and a
name an administrator typed shows as typed. What is read back or sent up prints the stored
name, Chinese whatever the reader's language: the import/export workbooks (their values are
matched on import) and every PDF. Workbooks only read by people (the summary's, the roster's,
the funds statement's) follow the reader's language like the pages."""

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


def codes_taken_in_other_letters(
    rows: list[tuple[int, str]], *, width: int, separator: str = "-"
) -> dict[int, str]:
    """The new codes, by key, of the rows (key, code), oldest first, whose code differs only in
    case from an older row's ("Illness" beside "illness"), which cannot stay side by side under
    a unique Lower(code). The oldest keeps its code, each later one gets the first free "-2",
    "-3"… (`separator` and a number, cut to `width`); a new code meets no other row's."""
    taken = {code.lower() for _key, code in rows}  # a new code must not meet a later row's
    kept, renamed = set(), {}
    for key, old in rows:
        code, number = old, 1
        while code.lower() in kept or (code != old and code.lower() in taken):
            number += 1
            suffix = f"{separator}{number}"
            code = old[: width - len(suffix)] + suffix
        kept.add(code.lower())
        taken.add(code.lower())
        if code != old:
            renamed[key] = code
    return renamed


def rename_codes_taken_in_other_letters(app_label: str, model_names: list[str]):
    """A migration step before `unique_code`: each code taken in other letters by an older row
    gets a free suffix (`codes_taken_in_other_letters`); its rows and history point at it by
    key, only the code changes."""

    def rename(apps, schema_editor):
        for model_name in model_names:
            model = apps.get_model(app_label, model_name)
            width = model._meta.get_field("code").max_length
            rows = list(model.objects.order_by("pk").values_list("pk", "code"))
            for pk, code in codes_taken_in_other_letters(rows, width=width).items():
                model.objects.filter(pk=pk).update(code=code)

    return rename
