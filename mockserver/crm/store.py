"""A fake CRM's record store: records with real ids in memory, and, with ``data``, in a
SQLite file of this version's layout, one running server's at a time (an exclusive lock).

Writes are durable before an answer leaves, but the SQLite commit runs on a worker
thread and commits every write waiting at that moment at once (group commit), so a
burst of writes on one account never holds the event loop other accounts need."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sqlite3
import threading
import weakref
from collections import defaultdict, deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    pass

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "StoreFull"]


class StoreFull(Exception):
    """A write that would take the store past its limit (records or bytes)."""


class StoreError(Exception):
    """A ``data`` file the store cannot use (not SQLite, written by a newer version, its
    tables or rows not ours, not writable): one sentence naming the file and why."""


#: The layout of a store's SQLite file (``PRAGMA user_version``); a file of a later one
#: was written by a newer version and is refused rather than half read.
SCHEMA_VERSION: Final = 1
_TABLES: Final = {
    "records": ("entity", "id", "body"),
    "counters": ("entity", "last"),
    "meta": ("key", "value"),
}


class Store:
    """Records by entity type, with increasing integer ids per type.

    In memory by default. With ``path`` every write is also queued for SQLite;
    :meth:`durable` waits until the writes so far are committed (``synchronous=FULL``,
    so fsynced) by the store's own worker thread, which commits all the writes
    waiting at that moment in one transaction. The CRM profile awaits it before an
    answer leaves, so a restarted server has every record it ever acknowledged,
    and ids go on where they stopped.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        max_records: int = 200_000,
        max_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.count = 0
        self.bytes = 0
        self._sizes: dict[tuple[str, int], int] = {}
        self.records: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.counters: dict[str, int] = {}
        self.meta: dict[str, Any] = {}
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        self._written = 0  # writes queued so far
        self._committed = 0  # of which committed, or lost with a commit that failed
        #: The batches whose commit failed (writes after ``start`` up to ``upto``), newest
        #: last: a caller that waited for one of them is told, however many wait.
        self._lost: deque[tuple[int, int, sqlite3.Error]] = deque(maxlen=1024)
        self._db_lock = threading.Lock()
        self._commit_lock: asyncio.Lock | None = None
        self._worker: ThreadPoolExecutor | None = None
        #: Closes the descriptor whose lock says the file is ours (also when the store
        #: is dropped unclosed: the lock must not outlive it).
        self._hold: weakref.finalize[[int], Store] | None = None
        if path is not None:
            self._open(Path(path))

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        hold = _hold_file(path)
        if hold is not None:
            self._hold = weakref.finalize(self, os.close, hold)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._load(db, path)
        except sqlite3.Error as exc:
            db.close()
            self._let_go()
            reason = str(exc)
            if "not a database" in reason:
                reason = "it is not a SQLite database"
            elif "malformed" in reason:  # cut short, or pages SQLite cannot read
                reason = (
                    "the file is damaged (database disk image is malformed); restore it "
                    "from a copy, or move it away to start with no records"
                )
            raise StoreError(f"{path}: {reason}") from None
        except StoreError:
            db.close()
            self._let_go()
            raise
        self._db = db

    def _let_go(self) -> None:
        if self._hold is not None:
            self._hold()  # closing the descriptor releases its lock
            self._hold = None

    def _load(self, db: sqlite3.Connection, path: Path) -> None:
        """Check the file is ours and of a layout this version reads, then read it."""
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path}: written by a newer version (layout {version}; this one reads "
                f"layout {SCHEMA_VERSION} and older): use that version, or another --data"
            )
        # The rows are read by a table scan, which passes a damaged index (or any page
        # it does not read); the first write through that index then failed, a 507 on
        # every write. The structure is checked whole, once, at start (linear).
        damage = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
        if damage != ["ok"]:
            raise StoreError(
                f"{path}: the file is damaged (SQLite's quick_check: {'; '.join(damage)}); "
                "restore it from a copy, or move it away to start with no records"
            )
        # A file of another program is left as it was: no tables of ours added to it,
        # its journal mode and user_version unchanged.
        foreign = sorted(
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in _TABLES and not name.startswith("sqlite_")
        )
        if foreign:
            shown = ", ".join(repr(name) for name in foreign[:5])
            more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
            raise StoreError(
                f"{path}: holds tables this server does not make ({shown}{more}): a file of "
                "another program; move it away, or give another --data"
            )
        for table, columns in _TABLES.items():
            found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
            if found and found != columns:
                raise StoreError(
                    f"{path}: table {table} has columns {', '.join(found)}; expected "
                    f"{', '.join(columns)} (not a file of ours, or of another version)"
                )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS records "
            "(entity TEXT, id INTEGER, body TEXT, PRIMARY KEY (entity, id))"
        )
        db.execute("CREATE TABLE IF NOT EXISTS counters (entity TEXT PRIMARY KEY, last INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        for entity, key, body in db.execute("SELECT entity, id, body FROM records"):
            record = _stored_json(body, path, f"records row {entity!r} {key!r}")
            if (
                not isinstance(entity, str)
                or not isinstance(key, int)
                or not isinstance(record, dict)
            ):
                raise StoreError(
                    f"{path}: records row {entity!r} {key!r} is not a record of ours "
                    "(expected a text entity, an integer id and a JSON object)"
                )
            self.records[entity][key] = record
            self._sizes[(entity, key)] = len(body)
        self.count = len(self._sizes)
        self.bytes = sum(self._sizes.values())
        for entity, last in db.execute("SELECT entity, last FROM counters"):
            if not isinstance(entity, str) or not isinstance(last, int):
                raise StoreError(f"{path}: counters row {entity!r} {last!r} is not an id counter")
            self.counters[entity] = last
        for key, value in db.execute("SELECT key, value FROM meta"):
            self.meta[str(key)] = _stored_json(value, path, f"meta {key!r}")

    @property
    def persistent(self) -> bool:
        return self._db is not None

    def _queue(self, sql: str, values: tuple[Any, ...]) -> None:
        if self._db is not None:
            self._pending.append((sql, values))
            self._written += 1

    def next_id(self, entity: str) -> int:
        value = self.counters.get(entity, 0) + 1
        self.counters[entity] = value
        self._queue("INSERT OR REPLACE INTO counters VALUES (?, ?)", (entity, value))
        return value

    def put(self, entity: str, key: int, record: dict[str, Any]) -> None:
        """Store (or replace) a record; durable once :meth:`durable` returns.

        :class:`StoreFull` (and nothing stored) when it would take the store past
        ``max_records`` or ``max_bytes`` (the records' JSON).
        """
        body = _record_json(record)
        old = self._sizes.get((entity, key))
        count = self.count + (old is None)
        size = self.bytes - (old or 0) + len(body)
        if count > self.max_records or size > self.max_bytes:
            raise StoreFull(
                f"the fake CRM keeps at most {self.max_records} records and "
                f"{self.max_bytes} bytes; it holds {self.count} records, {self.bytes} bytes"
            )
        self.records[entity][key] = record
        self._sizes[(entity, key)] = len(body)
        self.count, self.bytes = count, size
        self._queue("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (entity, key, body))

    def delete(self, entity: str, key: int) -> dict[str, Any] | None:
        """Forget a record (its id is never given again); the record, or ``None``."""
        gone = self.records[entity].pop(key, None)
        if gone is not None:
            self.count -= 1
            self.bytes -= self._sizes.pop((entity, key), 0)
            self._queue("DELETE FROM records WHERE entity = ? AND id = ?", (entity, key))
        return gone

    def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = value
        self._queue("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def clear(self) -> None:
        self.records.clear()
        self._sizes.clear()
        self.count = self.bytes = 0
        self.counters.clear()
        self.meta.clear()
        for table in ("records", "counters", "meta"):
            self._queue(f"DELETE FROM {table}", ())

    def _commit(self, batch: list[tuple[str, tuple[Any, ...]]]) -> None:
        """One transaction for the batch (the worker thread, or :meth:`flush`)."""
        with self._db_lock:
            db = self._db
            if db is None or not batch:
                return
            db.execute("BEGIN")
            try:
                for sql, values in batch:
                    db.execute(sql, values)
            except BaseException:
                if db.in_transaction:  # SQLite rolls back by itself on a full disk
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @property
    def written(self) -> int:
        """How many writes were queued so far (a mark for :meth:`durable`'s ``since``)."""
        return self._written

    async def durable(self, *, since: int | None = None) -> None:
        """Wait until every write made so far is committed, off the event loop.

        Callers that arrive while a commit runs wait for the next one, which takes
        all their writes at once: the cost of an fsync is shared by a burst. The
        ``sqlite3.Error`` of a commit that failed is raised to every caller whose
        writes were in it: those after ``since`` (a :attr:`written` taken before the
        caller wrote), or the last one.
        """
        target = self._written
        since = target - 1 if since is None else since
        self._raise_if_lost(since, target)
        if self._committed >= target:
            return
        if self._commit_lock is None:
            self._commit_lock = asyncio.Lock()
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="crm-store")
        async with self._commit_lock:
            self._raise_if_lost(since, target)
            if self._committed >= target:
                return
            batch, self._pending = self._pending, []
            start, upto = self._committed, self._written
            try:
                await asyncio.get_running_loop().run_in_executor(self._worker, self._commit, batch)
            except sqlite3.Error as exc:
                # Every caller whose writes were in this batch hears it, not only this
                # one: the next caller would otherwise commit an empty batch and be told
                # its write was on disk.
                self._lost.append((start, upto, exc))
                self._committed = max(self._committed, upto)
                if since < min(target, upto):  # a caller that wrote nothing only waited
                    raise
                return
            self._committed = max(self._committed, upto)

    def _raise_if_lost(self, since: int, target: int) -> None:
        """The error of a commit that failed with a write after ``since`` up to ``target``
        in its batch (a caller that wrote nothing, ``since`` at ``target``, is never told)."""
        for start, upto, exc in self._lost:
            if start < target and since < min(target, upto):
                raise exc

    def flush(self) -> None:
        """Commit what is waiting, here and now (outside an event loop: setup, close)."""
        batch, self._pending = self._pending, []
        upto = self._written
        if self._worker is not None:  # behind any commit it runs: writes land in order
            self._worker.submit(self._commit, batch).result()
        else:
            self._commit(batch)
        self._committed = max(self._committed, upto)

    def close(self) -> None:
        self.flush()
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        self._let_go()


def _hold_file(path: Path) -> int | None:
    """Lock ``path`` for this store alone, or :class:`StoreError` when another holds it.

    Each store reads its file once and then trusts its memory: two on one file (a second
    ``mockserver`` with the same ``--data``) would both give id 1 and overwrite each
    other's rows, silently. The lock is ``flock``, beside SQLite's own byte-range locks,
    so readers (the ``sqlite3`` shell) still open the file; the system releases it when
    the process ends, however it ends. Where there is no ``flock`` (Windows) there is no
    lock. The descriptor, kept open while the store is, or ``None``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    try:
        hold = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:  # a read-only file: lock it anyway, SQLite says the rest
        hold = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(hold, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # A store dropped unclosed inside a reference cycle (an amoCRM account is
            # one) lets go when the cycle is collected: collect, then ask once more.
            gc.collect()
            fcntl.flock(hold, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(hold)
        raise StoreError(
            f"{path}: another server is using this file (a second mockserver with the same "
            "--data, or another store in this process); two would give the same ids and "
            "overwrite each other's records: give each running server a --data of its own"
        ) from None
    return hold


def _record_json(record: Mapping[str, Any]) -> str:
    """A record's JSON as the store keeps it: UTF-8 text, or, when it holds a lone
    surrogate (a JSON ``\\ud83d`` escape decodes to one, half an emoji), that text
    escaped to ASCII: SQLite cannot encode the surrogate, and the failed commit took
    every write of its batch with it (a 500, and other requests' records lost)."""
    body = json.dumps(record, ensure_ascii=False)
    if not body.isascii():
        try:
            body.encode("utf-8")
        except UnicodeEncodeError:
            body = json.dumps(record)
    return body


def _stored_json(body: Any, path: Path, where: str) -> Any:
    """A stored JSON text, or :class:`StoreError` naming the row."""
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        raise StoreError(f"{path}: {where} is not the JSON this version writes") from None
