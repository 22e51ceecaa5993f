"""Documents uploaded before their names were masked (scans are often named after the worker's
ID number) keep the name as uploaded, shown on the file's page, its trail and the admin to
readers who see numbers masked: this masks every ID, bank or phone number in the stored names,
on the documents and in their field history, by the rule uploads follow now
(orgs.pii.mask_numbers, copied here as it is today so that the migration does not change with
it)."""

import re

from django.db import migrations

NUMBER_RUN = re.compile(r"(?<!\d)\d{7,29}[\dXx](?![\dXx])")  # 8 to 30 characters


def mask(value: str, head: int = 6, tail: int = 4) -> str:
    """orgs.pii.mask: at least half hidden (rounded up) up to 8 characters, at least 4."""
    size = len(value)
    hidden = max(size - head - tail, min(-(-size // 2), 8), min(4, size))
    if size <= head + tail:
        hidden = max(hidden, size - tail)
    shown_tail = min(tail, size - hidden)
    shown_head = size - hidden - shown_tail
    return value[:shown_head] + "*" * hidden + value[size - shown_tail :]


def mask_numbers(text: str) -> str:
    return NUMBER_RUN.sub(lambda number: mask(number.group()), text)


def mask_names(apps, schema_editor):
    for name in ("Document", "HistoricalDocument"):
        model = apps.get_model("households", name)
        # Only names with a run of 8 digits or more can hold a number (masked ones have none).
        rows = model._base_manager.filter(original_name__regex=r"[0-9]{7}[0-9Xx]")
        changed = []
        for row in rows.only("pk", "original_name").iterator(chunk_size=1000):
            masked = mask_numbers(row.original_name)
            if masked != row.original_name:
                row.original_name = masked
                changed.append(row)
        model._base_manager.bulk_update(changed, ["original_name"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("households", "0024_notice_ends")]

    operations = [
        migrations.RunPython(mask_names, migrations.RunPython.noop, elidable=True),
    ]
