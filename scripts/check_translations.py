"""Fail when a message catalogue has untranslated or fuzzy entries, or when two catalogues
translate one message differently.

Source strings are Simplified Chinese (the default language); the `en` catalogues carry the
English. Run `manage.py makemessages -l en --no-location` first so new strings show up here.
"""

import sys
from collections import defaultdict
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def catalogues():
    for path in sorted(ROOT.glob("**/locale/*/LC_MESSAGES/django.po")):
        if ".venv" not in path.parts:
            yield path


def problems() -> list[str]:
    found = []
    for path in catalogues():
        po = polib.pofile(str(path))
        for entry in po.untranslated_entries():
            found.append(f"{path.relative_to(ROOT)}: untranslated {entry.msgid!r}")
        for entry in po.fuzzy_entries():
            found.append(f"{path.relative_to(ROOT)}: fuzzy {entry.msgid!r}")
    return found + conflicts()


def conflicts() -> list[str]:
    """Django merges the apps' catalogues into one per language, so a message has a single
    translation at run time: another app's wording silently replaces an app's own (funds'
    "Line" for 行 turned the import error list's "Row" column into "Line"). One message, one
    translation; a word that must read differently in two places needs a context (pgettext)."""
    by_message = defaultdict(dict)
    for path in catalogues():
        for entry in polib.pofile(str(path)):
            if entry.translated() and not entry.obsolete:
                key = (path.parts[-3], entry.msgctxt, entry.msgid, entry.msgid_plural)
                translation = entry.msgstr or tuple(sorted(entry.msgstr_plural.items()))
                by_message[key[1:]][str(path.relative_to(ROOT))] = translation
    return [
        f"translated differently: {msgid!r} " + "; ".join(f"{p}: {t!r}" for p, t in found.items())
        for (_context, msgid, _plural), found in by_message.items()
        if len(set(found.values())) > 1
    ]


if __name__ == "__main__":
    issues = problems()
    print("\n".join(issues) or "translations complete")
    sys.exit(1 if issues else 0)
