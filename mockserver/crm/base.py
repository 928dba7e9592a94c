"""What every fake CRM shares: a record store with real ids, a call log, faults on demand,
and a clock read as ``datetime.now`` so tests move it (rate limits, timestamps)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal

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

    def due(self, method: str) -> bool:
        """Count a call of ``method``; true when this one is to fail."""
        if method.lower() != self.method.lower():
            return False
        self.seen += 1
        return self.call is None or self.seen == self.call


@dataclass
class Store:
    """Records by entity type, with increasing integer ids per type."""

    records: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    counters: dict[str, itertools.count[int]] = field(default_factory=dict)

    def next_id(self, entity: str) -> int:
        if entity not in self.counters:
            self.counters[entity] = itertools.count(1)
        return next(self.counters[entity])

    def clear(self) -> None:
        self.records.clear()
        self.counters.clear()


def now() -> datetime:
    """The profile's clock: the wall clock, which a frozen clock moves."""
    return datetime.now(timezone.utc)


class CrmProfile:
    """A stateful fake mounted in a :class:`~mockserver.MockServer`.

    Subclasses say which requests they ``claim`` and ``handle`` them; the
    server journals every request as usual, with ``stub_id`` ``crm:<name>``.
    """

    name: ClassVar[str] = "crm"

    def __init__(self) -> None:
        self.store = Store()
        self.faults: list[CrmFault] = []
        self.calls: list[dict[str, Any]] = []

    def claims(self, record: RecordedRequest) -> bool:
        raise NotImplementedError

    async def handle(self, record: RecordedRequest, request: web.Request) -> web.StreamResponse:
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
