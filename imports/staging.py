"""A scratch SQLite database on disk for what an import must remember between its passes.

The checks that look across rows (a file number twice, an ID number in two open files, the
members of each file against its household size) need every row of the workbook. Kept in
Python dicts they grew the heap by about 1.2 KB a file (120 MB for 100,000 files); here they
live in a private temporary database file that SQLite pages through a small cache, so an
import's memory stays flat however large the workbook, and the cross-row checks are joins and
groupings in SQL. The standard library's sqlite3 whatever the project's database is: this is
scratch space, not the system's data."""

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import suppress

CHUNK = 5000
CACHE_KB = 16 * 1024


class Staging:
    def __init__(self, schema: str):
        # "": a private temporary database on disk, deleted when the connection closes.
        self.db = sqlite3.connect("", isolation_level=None)
        # Nothing here outlives the import: no journal, no syncing to disk.
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KB}")
        self.db.execute("PRAGMA temp_store = FILE")  # sorts spill to disk, not to memory
        self.db.executescript(schema)
        self.db.execute("BEGIN")  # one transaction: inserts are not committed one by one
        self._buffers: dict[str, list[tuple]] = {}
        self._inserts: dict[str, str] = {}

    def add(self, table: str, row: tuple) -> None:
        buffer = self._buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self._flush(table)

    def add_many(self, table: str, rows: Iterable[tuple]) -> None:
        for row in rows:
            self.add(table, row)
        self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._buffers.get(table)
        if not rows:
            return
        if table not in self._inserts:
            marks = ", ".join("?" * len(rows[0]))
            self._inserts[table] = f"INSERT INTO {table} VALUES ({marks})"  # noqa: S608 - ours
        self.db.executemany(self._inserts[table], rows)
        self._buffers[table] = []

    def flush(self) -> None:
        for table in list(self._buffers):
            self._flush(table)

    def execute(self, sql: str, params: Iterable = ()) -> None:
        self.flush()
        self.db.execute(sql, tuple(params))

    def chunks(self, sql: str, params: Iterable = ()) -> Iterator[list[tuple]]:
        """The result a chunk at a time. Rows may be added to other tables meanwhile (SQLite
        leaves undefined what a query sees of changes to the tables it reads)."""
        self.flush()
        cursor = self.db.execute(sql, tuple(params))
        try:
            while rows := cursor.fetchmany(CHUNK):
                yield rows
        finally:
            # A reader left behind by an error may be collected after close().
            with suppress(sqlite3.ProgrammingError):
                cursor.close()

    def rows(self, sql: str, params: Iterable = ()) -> Iterator[tuple]:
        for chunk in self.chunks(sql, params):
            yield from chunk

    def value(self, sql: str, params: Iterable = ()):
        self.flush()
        row = self.db.execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.db.close()
