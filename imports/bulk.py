"""The bulk write path of the importers: plain rows (dicts of column values) instead of model
instances, primary keys taken from the database's sequences up front, COPY on PostgreSQL and
executemany elsewhere, and the django-simple-history rows written alongside (bulk writes send
no signals, so nothing else would).

Also the two per-value costs of a large import done in batches: the keyed hashes of ID numbers
and their Fernet encryption (orgs/pii.py), each several times faster than value by value and
producing exactly what `keyed_hash` and `encrypt` would."""

import base64
import hashlib
import hmac
import os
import queue
import struct
import sys
import threading
import time
from collections.abc import Iterator
from functools import cache
from operator import itemgetter

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

# --- Hashes and encryption in batches ---------------------------------------------------------


@cache
def _hmac_base(key: str):
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def hash_id(normalised: str) -> str:
    """orgs.pii.keyed_hash of an already normalised identifier (upper case, no spaces)."""
    mac = _hmac_base(settings.PII_HASH_KEY).copy()
    mac.update(normalised.encode())
    return mac.hexdigest()


@cache
def _fernet_parts(key: str):
    raw = base64.urlsafe_b64decode(key)
    signing, encryption = raw[:16], raw[16:]
    return hmac.new(signing, digestmod=hashlib.sha256), Cipher(
        algorithms.AES(encryption),
        modes.ECB(),  # noqa: S305 - CBC is chained by hand over the blocks
    )


def encrypt_many(values: list[str]) -> list[str]:
    """Fernet tokens (spec: version 0x80, timestamp, IV, AES-128-CBC with PKCS7 padding,
    HMAC-SHA256) under the newest PII key, as orgs.pii.encrypt makes them one at a time. The
    CBC chaining runs over the whole batch block by block, so AES is called once per block
    position instead of once per value; each value still has its own random IV."""
    if not values:
        return []
    mac_base, cipher = _fernet_parts(settings.PII_ENCRYPTION_KEYS[0])
    header = b"\x80" + struct.pack(">Q", int(time.time()))
    ivs = os.urandom(16 * len(values))
    tokens: list[str | None] = [None] * len(values)
    groups: dict[int, list[int]] = {}
    padded = []
    for index, value in enumerate(values):
        data = value.encode()
        pad = 16 - len(data) % 16
        data += bytes([pad]) * pad
        padded.append(data)
        groups.setdefault(len(data) // 16, []).append(index)
    encryptor = cipher.encryptor()
    for blocks, members in groups.items():
        previous = b"".join(ivs[16 * i : 16 * i + 16] for i in members)
        out = []
        for block in range(blocks):
            plain = b"".join(padded[i][16 * block : 16 * block + 16] for i in members)
            mixed = (int.from_bytes(plain, "big") ^ int.from_bytes(previous, "big")).to_bytes(
                len(plain), "big"
            )
            previous = encryptor.update(mixed)
            out.append(previous)
        for position, index in enumerate(members):
            start = 16 * position
            body = (
                header
                + ivs[16 * index : 16 * index + 16]
                + b"".join(part[start : start + 16] for part in out)
            )
            mac = mac_base.copy()
            mac.update(body)
            tokens[index] = base64.urlsafe_b64encode(body + mac.digest()).decode()
    encryptor.finalize()
    return tokens


# --- Rows -------------------------------------------------------------------------------------


ID_BATCH = 10_000  # new keys fetched per query (Table.take_ids)


class Table:
    """A model's table for bulk inserts: rows are dicts by attribute name; columns left out
    take the field's default (or NULL). With `database_ids` the primary key is left out too and
    the database numbers the rows (for rows nothing else refers to: no ids to fetch first)."""

    def __init__(self, model, *, database_ids: bool = False):
        self.model = model
        self.fields = [
            f for f in model._meta.concrete_fields if not (database_ids and f is model._meta.pk)
        ]
        self.names = [f.attname for f in self.fields]
        self.defaults = {}
        for f in self.fields:
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            elif f.null:
                self.defaults[f.attname] = None
        self._getter = _getter(self.names)
        self.columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        self.name = connection.ops.quote_name(model._meta.db_table)
        pk = model._meta.pk
        self.sequence_column = pk.column
        self._sequence = None  # resolved once: per row in the query it costs more than nextval
        self._types = None
        # Values that need converting for the database (aware datetimes on SQLite).
        self.datetimes = [
            i for i, f in enumerate(self.fields) if f.get_internal_type() == "DateTimeField"
        ]

    def values(self, rows: list[dict]) -> list[tuple]:
        """The rows as tuples in column order. The rows of one batch have the same keys (the
        importers build them so), so the columns they leave out are found once, not per row."""
        if not rows:
            return []
        present = [name for name in self.names if name in rows[0]]
        absent = [name for name in self.names if name not in rows[0]]
        try:
            constants = tuple(self.defaults[name] for name in absent)
            if not absent:
                return [self._getter(row) for row in rows]
            take = _getter(present)
            order = _getter([(present + absent).index(name) for name in self.names])
            return [order(take(row) + constants) for row in rows]
        except KeyError as missing:
            raise ValueError(f"{self.model.__name__}: no value for {missing}") from None

    def insert(self, rows: list[dict]) -> None:
        self.insert_values(self.values(rows))

    def insert_values(self, values: list[tuple]) -> None:
        if not values:
            return
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if connection.vendor == "postgresql":
                self.copy(cursor.cursor, values)
            else:
                if self.datetimes:
                    values = [self._adapt(value) for value in values]
                marks = ", ".join(["%s"] * len(self.names))
                cursor.executemany(
                    f"INSERT INTO {self.name} ({self.columns}) VALUES ({marks})",  # noqa: S608
                    values,
                )

    def copy(self, cursor, values: list[tuple]) -> None:
        """COPY the rows with a psycopg cursor. Binary: the server decodes numbers, dates and
        timestamps without parsing text, and the server is the slower end of a large import."""
        types = self.column_types(cursor)
        with cursor.copy(f"COPY {self.name} ({self.columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for value in values:
                write_row(value)

    def column_types(self, cursor) -> list[int]:
        """The type oids of the columns, in order (PostgreSQL), as binary COPY needs them."""
        if self._types is None:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass",
                [self.name],
            )
            oids = dict(cursor.fetchall())
            self._types = [oids[f.column] for f in self.fields]
        return self._types

    def _adapt(self, value: tuple) -> tuple:
        value = list(value)
        for i in self.datetimes:
            if value[i] is not None:
                value[i] = connection.ops.adapt_datetimefield_value(value[i])
        return tuple(value)

    def take_ids(self, count: int) -> Iterator[int]:
        """`count` new primary keys, one at a time (an import takes hundreds of thousands: the
        caller stages them rather than holding them). Read them all before the next query on
        the connection. PostgreSQL: from the table's sequence, so a concurrent import (or a
        clerk saving a file) never gets the same ones. Elsewhere the database allows one writer
        at a time: the next ids after the largest ever given. SQLite: Django's tables there are
        AUTOINCREMENT, which never gives a key again (sqlite_sequence keeps the highest), so a
        deleted row's key is not taken either (a new member given a deleted member's key shared
        its field history); the keys taken are recorded there, so the database's own numbering
        (Django's inserts) continues after them, and the write lock is held from now on."""
        if count <= 0:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if self._sequence is None:
                    cursor.execute(
                        "SELECT pg_get_serial_sequence(%s, %s)",
                        [self.model._meta.db_table, self.sequence_column],
                    )
                    self._sequence = cursor.fetchone()[0]
                # A batch at a time: the driver holds a query's whole result in memory.
                for start in range(0, count, ID_BATCH):
                    cursor.execute(
                        "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                        [self._sequence, min(ID_BATCH, count - start)],
                    )
                    for (pk,) in cursor.fetchall():
                        yield pk
                return
            cursor.execute(
                f"SELECT MAX({connection.ops.quote_name(self.sequence_column)}) FROM {self.name}"  # noqa: S608
            )
            start = (cursor.fetchone()[0] or 0) + 1
            if connection.vendor == "sqlite":
                start = self._sqlite_reserve(cursor, start, count)
        yield from range(start, start + count)

    def _sqlite_reserve(self, cursor, start: int, count: int) -> int:
        """The first of `count` keys after both the largest in the table (`start` - 1) and the
        largest ever given (sqlite_sequence), recorded as given."""
        table = self.model._meta.db_table
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        if found is not None:
            start = max(start, found[0] + 1)
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [start + count - 1, table]
            )
        else:  # no row was ever inserted
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                [table, start + count - 1],
            )
        return start


def _getter(keys: list) -> itemgetter:
    """itemgetter that returns a tuple for one key too."""
    if len(keys) == 1:
        key = keys[0]
        return lambda row: (row[key],)
    return itemgetter(*keys)


class History:
    """The django-simple-history rows of rows written to `table`: the same values plus who,
    when and why, derived from the table's value tuples (no second dict per row). The history
    table numbers its rows (Table(..., database_ids=True))."""

    def __init__(self, table: Table, history: Table, *, user, when, kind="+", reason=None):
        extras = {
            "history_date": when,
            "history_type": kind,
            "history_user_id": user.pk if user is not None else None,
            "history_change_reason": reason,
        }
        positions, constants = [], []
        for name in history.names:
            if name in table.names:
                positions.append(table.names.index(name))
                continue
            if name in extras:
                constant = extras[name]
            elif name in history.defaults:
                constant = history.defaults[name]
            else:
                raise ValueError(f"{history.model.__name__}: no value for {name}")
            positions.append(len(table.names) + len(constants))
            constants.append(constant)
        self.table = history
        self._constants = tuple(constants)
        self._order = _getter(positions)

    def values(self, values: list[tuple]) -> list[tuple]:
        constants, order = self._constants, self._order
        return [order(value + constants) for value in values]


def now():
    return timezone.now()


# --- After a large write ----------------------------------------------------------------------

ANALYZE_AFTER = 10_000  # rows written


def analyze(models) -> None:
    """Fresh planner statistics for the tables a large import has just filled. Until
    autovacuum gets to them (a minute later at best, and only past its 10 % threshold),
    PostgreSQL plans queries on them with the row counts from before the import: right after
    100,000 files, fetching the relief transitions of 5,000 of them (the re-import's
    comparison) took 275 ms instead of 22 ms. SQLite keeps no statistics unless asked and
    plans well without them."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


# --- Writing on a second thread ---------------------------------------------------------------

CHECK = object()  # queued by Copier.check()


class Copier:
    """Inserts rows for an import; on PostgreSQL the COPYs run on a second thread, so the
    server stores one batch while Python builds the next (without it each waits for the other).

    The thread uses the same database connection, hence the same transaction. psycopg holds
    the connection's lock for a whole COPY, so a query from the main thread meanwhile waits
    instead of interleaving; callers still avoid queries while copying (take ids up front) so
    as not to stall. An error of the thread (an IntegrityError from a unique key, say) is
    raised in the main thread by the next `insert` or on leaving the block. Elsewhere (SQLite)
    `insert` writes at once.

    Two measured costs of the thread (bench/imports_bench.py, 100,000 files): with Python's
    default 5 ms switch interval the copying thread, back from each send, waited for the
    building thread's turn to end while the server sat idle (a fifth of the run); and the
    foreign keys, deferred, were all checked at COMMIT while Python had nothing left to do.
    So the interval is shortened while copying, and `check()` has the keys of the rows written
    so far checked on the copying thread, while Python builds the next rows."""

    SWITCH_INTERVAL = 0.0005

    def __init__(self, tables: list[Table]):
        self.tables = tables
        self.threaded = connection.vendor == "postgresql"
        self.error: BaseException | None = None
        self.cancelled = False

    def __enter__(self):
        if self.threaded:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                for table in self.tables:  # no queries once the thread runs
                    table.column_types(cursor.cursor)
            # The wrapper itself, not the thread-local proxy, for the thread.
            self.database = connections[DEFAULT_DB_ALIAS]
            self.queue = queue.Queue(maxsize=4)  # bounds the rows held in memory
            self.interval = sys.getswitchinterval()
            sys.setswitchinterval(self.SWITCH_INTERVAL)
            self.thread = threading.Thread(target=self._run, name="import-copy", daemon=True)
            self.thread.start()
        return self

    def check(self) -> None:
        """Check the deferred constraints of every row written so far (PostgreSQL), on the
        copying thread. Only between complete batches: every row a written row refers to must
        be written too. They stay deferred for the rows after."""
        if self.threaded:
            self._raise()
            self.queue.put(CHECK)

    def insert(self, table: Table, rows: list[dict], history: History | None = None) -> None:
        """Insert the rows, and their history rows when given. The tuples are made here, not
        on the copying thread: its own Python work holds the GIL while the server waits for
        the rows, so it is kept to the COPY itself."""
        if not rows:
            return
        values = table.values(rows)
        history_values = history.values(values) if history is not None else None
        if not self.threaded:
            table.insert_values(values)
            if history is not None:
                history.table.insert_values(history_values)
            return
        self._raise()
        self.queue.put((table, values, history, history_values))

    def _run(self) -> None:
        raw = self.database.connection
        while (item := self.queue.get()) is not None:
            if self.error is not None or self.cancelled:
                continue  # drain, so the main thread never blocks on a full queue
            try:
                if item is CHECK:
                    with self.database.wrap_database_errors, raw.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                    continue
                table, values, history, history_values = item
                with self.database.wrap_database_errors, raw.cursor() as cursor:
                    table.copy(cursor, values)
                    if history is not None:
                        history.table.copy(cursor, history_values)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            self.cancelled = True
            raise error

    def __exit__(self, exc_type, exc, traceback):
        if self.threaded:
            self.cancelled = exc_type is not None
            self.queue.put(None)
            self.thread.join()
            sys.setswitchinterval(self.interval)
            if exc_type is None:
                self._raise()
        return False
