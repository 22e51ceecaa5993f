"""Workbooks uploaded before their names were masked keep the name as uploaded (a workbook may
be named after a worker's ID, bank or phone number), shown on the job pages and the admin: this
masks every such number in the stored names by the rule uploads follow now (orgs.pii.mask_numbers,
copied here as it is today so that the migration does not change with it; as households 0025
does for the documents)."""

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
    model = apps.get_model("imports", "ImportJob")
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
    dependencies = [("imports", "0003_job_restarted")]

    operations = [
        migrations.RunPython(mask_names, migrations.RunPython.noop, elidable=True),
    ]
