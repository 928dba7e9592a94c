"""The dashboard's live feed: server-sent events of the journal, to a bounded set of pages.

The feed reads the journal on its own clock (every :data:`TICK` seconds), so a busy
server does no extra work per request for a watcher; each look that finds new
requests becomes one ``rows`` message with the newest that pass the page's filter.
A row sent while a fake CRM worked on its request (``answering``, status null) is sent
again in an ``answered`` message once the CRM has answered.

What one watcher may cost is bounded, whatever the page does:

- at most :data:`MAX_WATCHERS` feeds are open at once; one more is refused ``503``
  (the pages already watching keep their feed: a new one cannot push them out);
- a message carries at most :data:`FEED_ROWS` rows and :data:`FEED_MESSAGE_BYTES`
  bytes (the newest rows; ``skipped`` counts the new requests it leaves out);
- a watcher that does not read (a stalled tab, a client that never reads) gets its
  messages queued here while its socket is full; past :data:`FEED_PENDING_MESSAGES`
  messages or :data:`FEED_PENDING_BYTES` bytes waiting (queued, and in its
  connection's buffer), it is dropped: its connection is cut and what was waiting is
  let go. A page that was only slow reconnects a second later and reloads its view.
  The kernel's send buffer for a feed's socket is set to :data:`FEED_SOCKET_BYTES`,
  so what the machine holds for a watcher is bounded too.

A write never waits for the page: the feed only hands its connection a message when
the connection's buffer is empty, so a stalled watcher cannot hold the feed (or a
server's stop) on a drain that never ends.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections import deque
from typing import TYPE_CHECKING, Any, Final

from .queries import PAGE_MAX, JournalFilter, row

if TYPE_CHECKING:
    import asyncio

    from aiohttp import web

    from mockserver.server import MockServer

__all__ = [
    "FEED_MESSAGE_BYTES",
    "FEED_PENDING_BYTES",
    "FEED_PENDING_MESSAGES",
    "FEED_ROWS",
    "FEED_SOCKET_BYTES",
    "MAX_WATCHERS",
    "TICK",
    "Outbox",
    "event",
    "feed",
    "stub_name",
]

#: How often the live feed looks at the journal (seconds): new requests show within
#: this (plus the page's drawing), and a busy server sends a watcher at most this many
#: messages a second, however many requests arrive.
TICK: Final = 0.5
#: Rows one feed message carries at most (the newest); the page's first page holds 100.
FEED_ROWS: Final = 100
#: Bytes one feed message carries at most (the newest rows that fit).
FEED_MESSAGE_BYTES: Final = 64 * 1024
#: Live feeds open at once; one more is refused with 503.
MAX_WATCHERS: Final = 16
#: Messages a watcher may leave waiting (queued here, or partly in its connection's
#: buffer) before it is dropped: 20 looks of the journal, ten seconds of a busy feed.
FEED_PENDING_MESSAGES: Final = 20
#: Bytes a watcher may leave waiting, likewise (16 watchers: 4 MiB at most).
FEED_PENDING_BYTES: Final = 256 * 1024
#: The kernel's send buffer for a feed's socket (Linux gives twice this).
FEED_SOCKET_BYTES: Final = 64 * 1024
#: A comment line keeps an idle feed's connection open through proxies (every 15 s).
HEARTBEAT_TICKS: Final = 30


def event(name: str, data: Any) -> bytes:
    """One server-sent event; a lone surrogate is written as its JSON escape."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return f"event: {name}\ndata: {text}\n\n".encode("utf-8", "backslashreplace")


def _encoded(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace")


class Outbox:
    """What one watcher has not taken yet: messages waiting here for its connection's
    buffer to empty, and what that buffer holds."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.waiting: deque[bytes] = deque()
        self.waiting_bytes = 0
        self.too_far_behind: str | None = None  # why it was dropped, once it is
        # The feed writes only into an empty buffer and no message is bigger than
        # this, so the buffer never passes the high-water mark and a write never waits.
        transport.set_write_buffer_limits(high=FEED_PENDING_BYTES)  # type: ignore[attr-defined]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # a platform that refuses keeps its default
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, FEED_SOCKET_BYTES)

    def buffered(self) -> int:
        """Bytes in the connection's buffer (handed over, not yet taken by the kernel)."""
        size: int = self.transport.get_write_buffer_size()
        return size

    def put(self, message: bytes) -> bool:
        """Queue ``message``; ``False`` (and :attr:`too_far_behind` says why) when the
        watcher would have more waiting than it may."""
        messages = len(self.waiting) + 1 + (self.buffered() > 0)
        size = self.waiting_bytes + len(message) + self.buffered()
        if messages > FEED_PENDING_MESSAGES:
            self.too_far_behind = f"more than {FEED_PENDING_MESSAGES} messages waiting"
        elif size > FEED_PENDING_BYTES:
            self.too_far_behind = f"more than {FEED_PENDING_BYTES} bytes waiting"
        if self.too_far_behind is not None:
            return False
        self.waiting.append(message)
        self.waiting_bytes += len(message)
        return True

    async def flush(self, response: web.StreamResponse) -> None:
        """Hand the connection what is waiting, for as long as its buffer stays empty."""
        while self.waiting and self.buffered() == 0:
            message = self.waiting.popleft()
            self.waiting_bytes -= len(message)
            await response.write(message)

    def drop(self) -> None:
        """Cut the connection at once: what was waiting is let go, not sent."""
        self.waiting.clear()
        self.waiting_bytes = 0
        self.transport.abort()


def rows_message(
    server: MockServer,
    fresh: list[Any],
    count: int,
    wanted: JournalFilter,
    working: list[Any] | None = None,
) -> bytes:
    """The ``rows`` message for the ``count`` requests that came since the last look, of
    which ``fresh`` are the newest (oldest first): the newest rows that pass the filter
    and fit :data:`FEED_MESSAGE_BYTES`, and ``skipped``, how many new requests older
    than those it leaves out. The rows sent of requests a fake CRM is still working on
    go into ``working``: their answer is sent when it comes (:func:`answered_message`)."""
    journal = server.journal
    info = {"total": len(journal), "dropped": journal.dropped}
    room = FEED_MESSAGE_BYTES - len(event("rows", info | {"rows": [], "skipped": count}))
    rows: list[dict[str, Any]] = []
    skipped = count - len(fresh)
    for looked, entry in enumerate(reversed(fresh)):
        if not wanted.accepts(entry):
            continue
        shown = row(entry)
        shown["stub_name"] = stub_name(server, shown["stub_id"])
        room -= len(_encoded(shown)) + 2  # ", " between rows
        if room < 0:
            skipped = count - looked  # this one and every older one
            break
        rows.append(shown)
        if entry.answering and working is not None:
            working.append(entry)
    return event("rows", info | {"rows": rows, "skipped": skipped})


def answered_message(server: MockServer, working: list[Any]) -> tuple[bytes | None, list[Any]]:
    """The ``answered`` message for the rows of ``working`` (requests a fake CRM was
    working on when their rows were sent) whose answer has come since, as many as fit
    :data:`FEED_MESSAGE_BYTES`, and the requests still to tell of (the rest of them, and
    those still worked on). The page puts each in place of the row it shows."""
    journal = server.journal
    info = {"total": len(journal), "dropped": journal.dropped}
    room = FEED_MESSAGE_BYTES - len(event("answered", info | {"rows": []}))
    rows: list[dict[str, Any]] = []
    left: list[Any] = []
    for entry in working:
        if entry.answering:
            left.append(entry)
            continue
        shown = row(entry)
        shown["stub_name"] = stub_name(server, shown["stub_id"])
        room -= len(_encoded(shown)) + 2
        if room < 0 and rows:
            left.append(entry)  # the next look sends it
            continue
        rows.append(shown)
    if not rows:
        return None, left
    return event("answered", info | {"rows": rows}), left


def stub_name(server: MockServer, stub_id: str | None) -> str | None:
    """The name of the stub ``stub_id``, if it has one: looked up by id, in O(1) (a map
    of every stub's name, made for each page and each look of the feed, cost O(stubs)).
    A stub removed since names nothing, as it did."""
    entry = server.registry.get(stub_id) if stub_id else None
    if entry is None or not entry.live:
        return None
    return entry.stub.name or None


def position(server: MockServer) -> tuple[int, int]:
    """How many requests were ever journaled since the last clear, and the newest's number."""
    journal = server.journal
    last = journal.newest(1)
    return len(journal) + journal.dropped, last[0].seq if last else 0


async def feed(
    server: MockServer,
    request: web.BaseRequest,
    response: web.StreamResponse,
    wanted: JournalFilter,
    *,
    tick: float = TICK,
) -> str | None:
    """Send ``response`` the journal's news until the page goes away, the server stops,
    or the page falls too far behind: then the reason it was dropped, else ``None``."""
    transport = request.transport
    if transport is None:  # pragma: no cover - gone before the first byte
        return None
    outbox = Outbox(transport)
    journal = server.journal
    seen_total, seen_seq = position(server)
    seen_resets = journal.resets
    # Rows sent while a fake CRM worked on their request (status null): each is sent
    # again once answered, or the page would read "no answer" until it loads again.
    # Those the page may have loaded already (its pages hold at most PAGE_MAX) count too.
    working = [e for e in journal.newest(PAGE_MAX) if e.answering and wanted.accepts(e)]
    await response.write(b"retry: 1000\nevent: hello\ndata: {}\n\n")
    idle = 0
    while True:
        await server.pause(tick)
        if transport.is_closing():
            return None  # the page went away: its place among the watchers is free at once
        if server.draining:
            return None  # stopping: a feed never finishes, so it must not hold the drain
        total, newest = position(server)
        message: bytes | None = None
        answered: bytes | None = None
        if journal.resets != seen_resets:  # its rows are gone, the CRM's ones too
            working.clear()
        elif working:
            answered, working = answered_message(server, working)
        if total == seen_total and newest == seen_seq and journal.resets == seen_resets:
            idle += 1
            if idle >= HEARTBEAT_TICKS and answered is None:
                idle = 0
                message = b": still here\n\n"
        else:
            idle = 0
            if total < seen_total or newest < seen_seq or journal.resets != seen_resets:
                message = event("reset", {"total": len(journal), "dropped": journal.dropped})
            else:
                count = total - seen_total
                fresh = journal.newest(min(count, FEED_ROWS))
                message = rows_message(server, fresh, count, wanted, working)
            seen_total, seen_seq, seen_resets = total, newest, journal.resets
        for sent in (answered, message):
            if sent is not None and not outbox.put(sent):
                outbox.drop()
                return outbox.too_far_behind
        await outbox.flush(response)
