"""The contract between the workbook framework (reading, checking, jobs, pages, commands) and the
importers of the apps (`households.importing`, `funds.importing`).

An importer declares its sheets with their exact Chinese header rows and turns the rows of an
already-read workbook into records. It validates everything first; it writes only when the whole
workbook is free of errors and `dry_run` is false, inside one transaction, so a workbook with any
error writes nothing."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Row numbers are the spreadsheet's own (the header is row 1, the first data row is row 2).
FIRST_DATA_ROW = 2


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int | None  # None: an error about the whole sheet or workbook (a missing column, say)
    column: str  # the Chinese header of the column, or "" when no single column is at fault
    message: str  # translated, names the value when useful

    def __str__(self):
        where = self.sheet
        if self.row is not None:
            where += f" {self.row}"
        if self.column:
            where += f" {self.column}"
        return f"{where}: {self.message}"


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # rows identical to what is on record (re-import)
    removed: int = 0  # rows on record the import deletes (members an update no longer lists)
    # Rows with at least one error. The three counts above then cover the other rows: what
    # the import would do with them once the errors are fixed.
    invalid: int = 0


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    sheets: dict[str, SheetCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def has_invalid(self) -> bool:
        return any(counts.invalid for counts in self.sheets.values())

    @property
    def removes(self) -> bool:
        return any(counts.removed for counts in self.sheets.values())

    @property
    def rows(self) -> int:
        return sum(c.created + c.updated + c.skipped for c in self.sheets.values())

    def as_dict(self) -> dict:
        """What a background job stores as its result (JSON)."""
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "sheets": {name: vars(counts) for name, counts in self.sheets.items()},
            "errors": [vars(error) for error in self.errors],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ImportReport":
        return cls(
            kind=data["kind"],
            dry_run=data["dry_run"],
            sheets={name: SheetCounts(**counts) for name, counts in data["sheets"].items()},
            errors=[RowError(**error) for error in data["errors"]],
        )


# The cells of one data row in header order (str, int, float, bool, date, datetime or None, as
# python-calamine gives them), with the row's spreadsheet number.
Row = tuple[int, Sequence[Any]]

# progress(done, total): called every few hundred rows so a job can show a progress bar.
Progress = Callable[[int, int], None]


class Importer(Protocol):
    kind: str  # "households" or "funds"
    # sheet name -> its exact header row; every sheet is required unless named in
    # `optional_sheets` (an importer may declare them), a sheet may have no data rows. `rows`
    # has no entry for an optional sheet the workbook does not have.
    sheets: dict[str, tuple[str, ...]]

    def run(
        self,
        rows: dict[str, Iterable[Row]],
        *,
        user,
        dry_run: bool,
        progress: Progress | None = None,
        known_errors: Sequence[RowError] = (),
        exported_at=None,
    ) -> ImportReport: ...

    # `known_errors`: what the workbook's own check found in cells (a formula, an error value).
    # The run then writes nothing, and leaves those rows out of its created/updated/skipped
    # counts; it reports its own errors only (the caller merges both lists).
    # `exported_at`: when the workbook was exported from the system (None for a filled-in
    # template); an importer that updates records refuses to overwrite later changes.


def error_rows(errors: Iterable[RowError], sheet: str) -> set[int]:
    """The data rows of `sheet` that have an error."""
    return {
        error.row
        for error in errors
        if error.sheet == sheet and error.row is not None and error.row >= FIRST_DATA_ROW
    }
