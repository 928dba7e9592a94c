"""What every fake CRM shares: a record store with real ids (:mod:`mockserver.crm.store`),
a bounded call log, faults on demand, and the server's clock (:class:`Clock`): rate
limits, token expiry and timestamps read it, never the machine's monotonic clock, so
tests and scenarios drive them exactly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, overload

from mockserver.responding import Pause, abort_connection

from .store import Store, StoreError, StoreFull

if TYPE_CHECKING:
    from aiohttp import web

    from mockserver.journal import RecordedRequest

__all__ = ["CallLog", "Clock", "CrmFault", "CrmProfile", "Store", "StoreError", "StoreFull"]

#: Faults a profile holds at once (spent ones, a ``call`` already passed, make room).
MAX_FAULTS: Final = 1000

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


class Clock:
    """The server's clock, as the fake CRMs read it: rate limits, token expiry, dates.

    It reads ``datetime.now`` (so a scenario's frozen clock, freezegun, moves it) and
    adds an offset; :meth:`freeze` stops it at an instant and :meth:`advance` moves it,
    which is how a test (or ``POST /__admin/crm/{name}/clock``) drives a server in
    another process. Never the machine's monotonic clock: a loaded machine must not
    change what a rate limit answers.
    """

    #: The instants the clock may show: every date the fakes derive from it (a refresh
    #: token 28 days on, a JWT's ``exp`` years on) must still be a ``datetime``.
    EARLIEST: ClassVar[datetime] = datetime(1970, 1, 1, tzinfo=timezone.utc)
    LATEST: ClassVar[datetime] = datetime(9000, 1, 1, tzinfo=timezone.utc)
    RANGE_TEXT: ClassVar[str] = "a time from year 1970 to year 9000 (UTC)"

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.frozen: datetime | None = None

    def now(self) -> datetime:
        base = self.frozen if self.frozen is not None else datetime.now(timezone.utc)
        return base + self.offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop the clock (at ``at``, aware, or where it is now); returns the instant."""
        if at is not None and at.tzinfo is None:
            raise ValueError(f"at: got {at.isoformat()}, expected a time with its UTC offset")
        try:
            moment = (at or self.now()).astimezone(timezone.utc)
        except OverflowError:
            moment = None
        if moment is None or not self.EARLIEST <= moment < self.LATEST:
            shown = at.isoformat() if at is not None else "now"
            raise ValueError(f"at: got {shown}, expected {self.RANGE_TEXT}")
        self.frozen = moment
        self.offset = timedelta(0)
        return self.frozen

    def advance(self, seconds: float) -> datetime:
        """Move the clock on by ``seconds`` (not back: time does not run backwards), as
        long as it stays before :attr:`LATEST`; else ``ValueError`` and nothing moved."""
        if not seconds >= 0:
            raise ValueError(f"seconds: got {seconds!r}, expected a number of seconds >= 0")
        try:
            offset = self.offset + timedelta(seconds=seconds)
            later = self.now() - self.offset + offset
        except OverflowError:
            later = None
        if later is None or later >= self.LATEST:
            raise ValueError(
                f"advance: {seconds!r} seconds would take the clock past year 9000; "
                f"expected the clock to stay {self.RANGE_TEXT}"
            )
        self.offset = offset
        return self.now()

    def thaw(self) -> None:
        """Back to the wall clock (or a frozen one), offset dropped."""
        self.frozen = None
        self.offset = timedelta(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now().isoformat(),
            "frozen": self.frozen is not None,
            "offset_seconds": self.offset.total_seconds(),
        }


class CallLog:
    """The newest calls, bounded in entries and in bytes (each entry's JSON size)."""

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 4 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: deque[tuple[dict[str, Any], int]] = deque()
        self.bytes = 0
        self.dropped = 0

    def append(self, call: dict[str, Any]) -> None:
        size = len(json.dumps(call, ensure_ascii=False, default=str)) + 16  # room for status
        self._entries.append((call, size))
        self.bytes += size
        while self._entries and (
            len(self._entries) > self.max_entries or self.bytes > self.max_bytes
        ):
            _, gone = self._entries.popleft()
            self.bytes -= gone
            self.dropped += 1

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (call for call, _ in self._entries)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        """One call, or a slice of them as a list (``calls[-200:]``), as a list would."""
        if isinstance(index, slice):
            return [call for call, _ in list(self._entries)[index]]
        return self._entries[index][0]

    def last(self, count: int) -> list[dict[str, Any]]:
        return [call for call, _ in list(self._entries)[-count:]] if count > 0 else []


def now() -> datetime:
    """The wall clock, which a frozen clock moves (profiles read ``self.clock.now()``)."""
    return datetime.now(timezone.utc)


class CrmProfile:
    """A stateful fake mounted in a :class:`~mockserver.MockServer`.

    Subclasses say which requests they ``claim`` and ``handle`` them; the
    server journals every request as usual, with ``stub_id`` ``crm:<name>``.
    """

    #: The profile's name in the admin API (``/__admin/crm/{name}``) and its file in
    #: ``data``; an instance may have its own (a second Bitrix24 portal, ``bitrix24:b``).
    name: str = "crm"
    #: The type each meta entry a profile keeps must have in a ``data`` file; another is
    #: a :class:`StoreError` at start, not a 500 at the first request that reads it.
    meta_shapes: ClassVar[Mapping[str, type | tuple[type, ...]]] = {}

    def __init__(self, *, data: str | Path | None = None) -> None:
        file = f"{self.name.replace(':', '-')}.sqlite"
        path = Path(data) / file if data is not None else None
        self.store = Store(path)
        for key, shape in self.meta_shapes.items():
            value = self.store.meta.get(key)
            if value is not None and (
                not isinstance(value, shape) or (isinstance(value, bool) and shape is int)
            ):
                self.store.close()
                raise StoreError(
                    f"{path}: meta {key!r} holds {type(value).__name__}, not what this version "
                    "writes (not a file of ours, or of another version)"
                )
        self.faults: list[CrmFault] = []
        self.calls = CallLog()
        #: The server's clock for this profile (see :class:`Clock`).
        self.clock = Clock()
        #: How a fault waits; the server that mounts the profile makes it end when it stops.
        self.pause: Pause = asyncio.sleep

    def claims(self, record: RecordedRequest) -> bool:
        raise NotImplementedError

    async def drop_connection(self, request: web.BaseRequest, *, hang: float | None) -> None:
        """After the write (made durable first): reset the connection, or say nothing for
        ``hang`` seconds first."""
        await self.store.durable()
        if hang is not None:
            await self.pause(hang)
        abort_connection(request, reset=True)

    async def handle(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        """Answer, and log the call (rejected ones too: auth, limits, faults)."""
        call: dict[str, Any] = {
            "method": self.call_name(record),
            "at": self.clock.now().isoformat(),
        }
        self.calls.append(call)
        since = self.store.written
        try:
            response = await self.answer(record, request)
        except StoreFull as exc:
            response = self.store_full(exc)
        except sqlite3.Error as exc:  # a commit inside the answer (commit_then_drop's)
            response = self._not_written(exc)
        except Exception as exc:
            call["status"] = getattr(exc, "status", 500)
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to tell
                await self.store.durable(since=since)
            raise
        try:
            await self.store.durable(since=since)  # no answer before its write is on disk
        except sqlite3.Error as exc:  # the disk or the file failed: say so, not a bare 500
            response = self._not_written(exc)
        call["status"] = response.status
        return response

    def _not_written(self, exc: sqlite3.Error) -> web.StreamResponse:
        return self.store_full(
            StoreFull(
                f"the fake CRM could not write its --data file ({exc}); what this "
                "request changed is not on disk and is lost at a restart"
            )
        )

    def store_full(self, exc: StoreFull) -> web.StreamResponse:
        """The answer to a write past the store's limit (a profile may say it its way)."""
        from aiohttp import web

        return web.json_response({"error": "STORE_FULL", "error_description": str(exc)}, status=507)

    def call_name(self, record: RecordedRequest) -> str:
        """How the call log names a request (a method name, or ``METHOD /path``)."""
        return f"{record.method} {record.path}"

    async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        raise NotImplementedError

    def describe(self, base_url: str) -> str:
        """One line for the CLI: where to point a client."""
        return base_url

    def add_fault(self, fault: CrmFault) -> CrmFault:
        """Hold ``fault`` (``ValueError`` past :data:`MAX_FAULTS` unspent ones)."""
        self.faults = [f for f in self.faults if f.call is None or f.seen < f.call]
        if len(self.faults) >= MAX_FAULTS:
            raise ValueError(
                f"{self.name} holds at most {MAX_FAULTS} faults that are not spent; "
                f"reset it (DELETE /__admin/crm/{self.name}) to add more"
            )
        self.faults.append(fault)
        return fault

    def due_fault(self, method: str) -> CrmFault | None:
        chosen = None
        for fault in self.faults:
            if fault.due(method) and chosen is None:
                chosen = fault
        return chosen

    def reset(self) -> None:
        """Forget records, faults and the call log (the clock keeps its time)."""
        self.store.clear()
        self.store.flush()
        self.faults.clear()
        self.calls.clear()

    def records(self, entity: str) -> list[dict[str, Any]]:
        """The stored records of an entity type, in id order, as the CRM returns them."""
        return [dict(record) for _, record in sorted(self.store.records[entity].items())]

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.name,
            "records": {entity: self.records(entity) for entity in sorted(self.store.records)},
            "calls": self.calls.last(200),
            "clock": self.clock.to_json(),
        }
