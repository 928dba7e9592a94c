"""What every fake CRM shares: a record store with real ids, a call log, faults on demand,
and a clock read as ``datetime.now`` so tests move it (rate limits, timestamps)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from mockserver.responding import Pause, abort_connection

if TYPE_CHECKING:
    from aiohttp import web

    from mockserver.journal import RecordedRequest

__all__ = ["CrmFault", "CrmProfile", "Store"]

FaultKind = Literal["error", "commit_then_drop", "commit_then_hang", "html", "redirect"]


@dataclass
class CrmFault:
    """A fault on demand: on the ``call``-th call of ``method`` (every call when ``None``).

    - ``error``: answer ``status`` with the CRM's own error body (``code``, ``message``);
    - ``commit_then_drop``: do the write, then reset the connection (a retrying sender
      then creates a duplicate);
    - ``commit_then_hang``: do the write, then say nothing for ``seconds``;
    - ``html``: an HTML gateway page with ``status`` (502 by default);
    - ``redirect``: 302 to ``location`` (Bitrix24's domain change).
    """

    method: str
    kind: FaultKind = "error"
    call: int | None = None
    status: int = 500
    code: str = "INTERNAL_SERVER_ERROR"
    message: str = "Internal server error"
    seconds: float = 30.0
    location: str = ""
    seen: int = 0

    def gateway_page(self) -> web.Response:
        """The ``html`` fault: a proxy's HTML error page (502 unless another status is set)."""
        from aiohttp import web

        status = self.status if self.status != 500 else 502
        return web.Response(
            status=status,
            content_type="text/html",
            text=f"<html><body><h1>{status} Bad Gateway</h1></body></html>",
        )

    def due(self, method: str) -> bool:
        """Count a call of ``method``; true when this one is to fail."""
        if method.lower() != self.method.lower():
            return False
        self.seen += 1
        return self.call is None or self.seen == self.call


class Store:
    """Records by entity type, with increasing integer ids per type.

    In memory by default. With ``path`` every write goes to SQLite before the
    answer leaves (autocommit), so a restarted server has every record it ever
    acknowledged, and ids go on where they stopped.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.records: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.counters: dict[str, int] = {}
        self.meta: dict[str, Any] = {}
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._open(Path(path))

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS records "
            "(entity TEXT, id INTEGER, body TEXT, PRIMARY KEY (entity, id))"
        )
        db.execute("CREATE TABLE IF NOT EXISTS counters (entity TEXT PRIMARY KEY, last INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        for entity, key, body in db.execute("SELECT entity, id, body FROM records"):
            self.records[entity][key] = json.loads(body)
        self.counters = dict(db.execute("SELECT entity, last FROM counters"))
        self.meta = {
            key: json.loads(value) for key, value in db.execute("SELECT key, value FROM meta")
        }
        self._db = db

    def next_id(self, entity: str) -> int:
        value = self.counters.get(entity, 0) + 1
        self.counters[entity] = value
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (entity, value))
        return value

    def put(self, entity: str, key: int, record: dict[str, Any]) -> None:
        """Store (or replace) a record; durable before this returns when backed by SQLite."""
        self.records[entity][key] = record
        if self._db is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                (entity, key, json.dumps(record, ensure_ascii=False)),
            )

    def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = value
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def clear(self) -> None:
        self.records.clear()
        self.counters.clear()
        self.meta.clear()
        if self._db is not None:
            for table in ("records", "counters", "meta"):
                self._db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def now() -> datetime:
    """The profile's clock: the wall clock, which a frozen clock moves."""
    return datetime.now(timezone.utc)


class CrmProfile:
    """A stateful fake mounted in a :class:`~mockserver.MockServer`.

    Subclasses say which requests they ``claim`` and ``handle`` them; the
    server journals every request as usual, with ``stub_id`` ``crm:<name>``.
    """

    name: ClassVar[str] = "crm"

    def __init__(self, *, data: str | Path | None = None) -> None:
        self.store = Store(Path(data) / f"{self.name}.sqlite" if data is not None else None)
        self.faults: list[CrmFault] = []
        self.calls: list[dict[str, Any]] = []
        #: How a fault waits; the server that mounts the profile makes it end when it stops.
        self.pause: Pause = asyncio.sleep

    def claims(self, record: RecordedRequest) -> bool:
        raise NotImplementedError

    async def drop_connection(self, request: web.BaseRequest, *, hang: float | None) -> None:
        """After the write: reset the connection, or say nothing for ``hang`` seconds first."""
        if hang is not None:
            await self.pause(hang)
        abort_connection(request, reset=True)

    async def handle(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        """Answer, and log the call (rejected ones too: auth, limits, faults)."""
        call: dict[str, Any] = {"method": self.call_name(record), "at": now().isoformat()}
        self.calls.append(call)
        try:
            response = await self.answer(record, request)
        except Exception as exc:
            call["status"] = getattr(exc, "status", 500)
            raise
        call["status"] = response.status
        return response

    def call_name(self, record: RecordedRequest) -> str:
        """How the call log names a request (a method name, or ``METHOD /path``)."""
        return f"{record.method} {record.path}"

    async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        raise NotImplementedError

    def describe(self, base_url: str) -> str:
        """One line for the CLI: where to point a client."""
        return base_url

    def add_fault(self, fault: CrmFault) -> CrmFault:
        self.faults.append(fault)
        return fault

    def due_fault(self, method: str) -> CrmFault | None:
        chosen = None
        for fault in self.faults:
            if fault.due(method) and chosen is None:
                chosen = fault
        return chosen

    def reset(self) -> None:
        """Forget records, faults and the call log."""
        self.store.clear()
        self.faults.clear()
        self.calls.clear()

    def records(self, entity: str) -> list[dict[str, Any]]:
        """The stored records of an entity type, in id order, as the CRM returns them."""
        return [dict(record) for _, record in sorted(self.store.records[entity].items())]

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.name,
            "records": {entity: self.records(entity) for entity in sorted(self.store.records)},
            "calls": self.calls[-200:],
        }
