"""Fail when a message catalogue has untranslated or fuzzy entries.

Source strings are Simplified Chinese (the default language); the `en` catalogues carry the
English. Run `manage.py makemessages -l en --no-location` first so new strings show up here.
"""

import sys
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
    return found


if __name__ == "__main__":
    issues = problems()
    print("\n".join(issues) or "translations complete")
    sys.exit(1 if issues else 0)
