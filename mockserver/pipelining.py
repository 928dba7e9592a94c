"""Pipelined requests answered in order, even when one of them is malformed.

aiohttp's ``RequestHandler.data_received`` hands each chunk read off the socket to
its parser in one ``feed_data`` call. When a client pipelines several requests in
one write and one of them is malformed, the parser raises, and the requests it had
already parsed from that chunk are lost with the exception: never answered, never
journaled. RFC 9112 §9.3.2 wants each pipelined request answered in order; the
malformed one then gets its 400 and the connection closes.

:class:`PipelineServer` gives every connection a parser built as aiohttp builds it
but that stops after each whole request (aiohttp's own "queue full" pause, with a
queue of one), behind :class:`_OneAtATime`, which feeds it again until the chunk is
used up. A parse error then comes after the requests before it were returned; it
is raised on the next feed, which is asked for at once, so aiohttp answers it the
way it answers any parse error (400, close). At most ``MAX_MSG_QUEUE_SIZE``
requests are returned per feed, as aiohttp bounds them; the rest waits in the
parser until aiohttp drains its queue and feeds again. A read of one request
costs one feed more than aiohttp's own (the second finds nothing: about a tenth
of the first's cost); ``bench/bench_mockserver_cpu.py`` counts it.

A ``tests/test_ms_probe2_pipelining.py`` test sends the bytes on a raw socket, so an
aiohttp upgrade that changes any of this fails there, not in a user's test.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import HttpVersion11, web
from aiohttp.http_exceptions import (
    BadHttpMessage,
    BadStatusLine,
    HttpProcessingError,
    LineTooLong,
)
from aiohttp.http_parser import HttpRequestParser
from aiohttp.web_protocol import MAX_MSG_QUEUE_SIZE, RequestHandler
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "Http2Preface",
    "PipelineServer",
    "answer_in_http_1_1",
    "default_max_connections",
    "listen_backlog",
    "refused_reason",
    "refused_status",
]


# The one word an upgrade request must hold twice (``Upgrade:`` and the ``Connection:
# Upgrade`` token) is looked for as ``pgrade`` and ``PGRADE``, the two spellings
# clients send; another case (``UpGrade``) is still caught after the request is
# parsed (the connection then closes).


def _word_at(data: bytes) -> int:
    """Where the first ``pgrade`` or ``PGRADE`` is in ``data``, or -1."""
    lower, upper = data.find(b"pgrade"), data.find(b"PGRADE")
    if lower < 0 or upper < 0:
        return max(lower, upper)
    return min(lower, upper)


def _declined_upgrade(message: Any) -> bool:
    """A request offering an upgrade that aiohttp's parser does not make (``h2c``, TLS):
    only a WebSocket upgrade is handed to a handler."""
    offered = message.headers.get("Upgrade", "")
    return bool(message.upgrade) and not (offered.isascii() and offered.lower() == "websocket")


class Http2Preface(BadHttpMessage):
    """A connection that opens with HTTP/2's preface (``PRI * HTTP/2.0``): a client
    speaking HTTP/2 with prior knowledge (RFC 9113 §3.3), which the server does not."""

    def __init__(self) -> None:
        super().__init__(
            "the HTTP/2 connection preface (PRI * HTTP/2.0): the mock server speaks "
            "HTTP/1.1 and HTTP/1.0 alone, not HTTP/2 with prior knowledge (RFC 9113 §3.3); "
            "use an HTTP/1.1 client (httpx: http2=False)"
        )


#: The bytes a connection's first line is looked for in; past them it is left alone.
_OPENING_LIMIT = 8 * 1024
#: A request line with no version: HTTP/0.9's ``GET /path`` (any method, as aiohttp
#: reads it), which has no headers to wait for.
_SIMPLE_REQUEST = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \t\r\n]+")


#: The most bytes kept to find the request after a chunked body: its request line and
#: first header come within a read and a request's headers of the body's end.
_SINCE_LIMIT = 2 * 1024 * 1024


def _may_be_a_trailer(exc: BaseException) -> bool:
    """A refusal a trailer added to the next request's headers can cause."""
    message = getattr(exc, "message", "")
    return isinstance(exc, BadHttpMessage) and (
        message.startswith("Duplicate '") or message == "Too many headers received"
    )


def _unleaked(message: Any, since: bytes) -> Any:
    """``message`` without the header the C parser carried over from a chunked body's
    trailer, found by what follows its request line in ``since``; ``None`` when that
    cannot be told."""
    raw = message.raw_headers
    if not raw:
        return message
    version = message.version
    line = b"%s %s HTTP/%d.%d\r\n" % (
        message.method.encode("ascii", "replace"),
        message.path.encode("utf-8", "surrogateescape"),
        version.major,
        version.minor,
    )
    if since.find(line + raw[0][0] + b":") >= 0:
        return message  # its first header is its own
    follows = raw[1][0] + b":" if len(raw) > 1 else b"\r\n"
    if since.find(line + follows) < 0:
        return None
    headers = CIMultiDictProxy(CIMultiDict(list(message.headers.items())[1:]))
    return message._replace(headers=headers, raw_headers=raw[1:])


class _OneAtATime:
    """A request parser that never loses a request it parsed to a later parse error, nor
    the requests pipelined after an upgrade offer it declines.

    aiohttp's C parser stops at the end of any request with ``Connection: Upgrade``
    and ``Upgrade: …``, and for an upgrade it does not make (``h2c``) drops the rest
    of the bytes it was given: the pipelined requests after it were never answered.
    RFC 9110 §7.8 lets a server ignore an upgrade offer (and RFC 9113 §3.1 retired
    ``h2c``), so the request is answered as HTTP/1.1 and the next ones in turn. For
    that, when the bytes hold the word ``upgrade``, the parser is fed so that such a
    request ends what it was given: line by line from the line holding the word to
    the end of that request's headers, then exactly the request's ``Content-Length``.
    An upgrade offer whose end cannot be found that way (a chunked body, or the word
    split between reads) is answered and the connection closed (``Connection:
    close``), so the client knows at once that the requests after it were not read.
    """

    __slots__ = (
        "_body",
        "_chunked",
        "_closed",
        "_error",
        "_handler",
        "_held",
        "_lines",
        "_opening",
        "_parser",
        "_since",
        "_window",
    )

    def __init__(self, parser: Any, handler: _Handler) -> None:
        self._parser = parser
        self._handler = handler
        self._error: HttpProcessingError | None = None
        self._held = b""  # read, not yet given to the parser (fed with care, in pieces)
        self._lines = 0  # lines still to feed one at a time (the headers of an offer)
        self._body = 0  # bytes of an upgrade offer's body still to feed as one piece
        self._window = handler.max_headers + 2  # the most lines a request's headers take
        self._chunked: Any = None  # the body of a chunked request not yet read to its end
        self._since: bytes | None = None  # read since a chunked body ended (see _after)
        self._closed = False  # nothing more is read (see _close_after)
        self._opening: bytes | None = b""  # the first bytes, until the first line ends

    def feed_data(self, data: bytes) -> tuple[Any, bool, bytes]:
        if self._closed:
            return (), False, b""
        if self._opening is not None and data:
            data = self._first_line(data)
        if self._chunked is not None or self._since is not None:
            return self._watched(data)
        result = self._feed(data)
        for message, _ in result[0]:  # a loop, not any(...): this is the hot path
            if message.chunked:
                return self._after(data, result)
        return result

    def _first_line(self, data: bytes) -> bytes:
        """The connection's first read(s), looked at until its first line ends.

        aiohttp's parser waits for the blank line that ends a request's headers, and
        two openings never send one: HTTP/0.9's ``GET /a`` (a line with no version,
        and no headers after it) waited for the header timeout, where the same line
        followed by a blank line was answered 505 at once; and HTTP/2's preface
        ``PRI * HTTP/2.0``, whose first half waited too and whose whole was aiohttp's
        ``HTTP/1.0 400`` "Pause on PRI/Upgrade". A version-less line that ends a read
        is given the blank line it implies (the request is journaled and answered 505
        as ever); the preface raises :class:`Http2Preface` (a 505 saying why)."""
        seen = self._opening + data if self._opening else data
        end = seen.find(b"\n")
        if end < 0:
            self._opening = seen if len(seen) <= _OPENING_LIMIT else None
            return data
        self._opening = None
        line = seen[:end].removesuffix(b"\r")
        if line == b"PRI * HTTP/2.0":
            raise Http2Preface()
        if end == len(seen) - 1 and _SIMPLE_REQUEST.fullmatch(line):
            return data + b"\r\n"
        return data

    def _watched(self, data: bytes) -> tuple[Any, bool, bytes]:
        """A read while a chunked body is read, or just after: see :meth:`_after`."""
        try:
            result = self._feed(data)
        except HttpProcessingError as exc:
            chunked = self._chunked
            ended = self._since is not None or (chunked is not None and chunked.is_eof())
            if ended and _may_be_a_trailer(exc):
                return self._close_after(None)
            raise
        return self._after(data, result)

    def _after(self, data: bytes, result: tuple[Any, bool, bytes]) -> tuple[Any, bool, bytes]:
        """The requests of a read that holds (the rest of) a chunked request, or what
        follows one.

        aiohttp's C parser leaves the last trailer field of a chunked body pending and
        adds it to the next request's headers: ``X-Trailer: t`` sent after one
        request's body was journaled, matched and answered as the first header of the
        next request on the connection (a trailer ``Host`` made that one a 400). The
        parser's state cannot be read or reset from Python, so the first request after
        a chunked body is checked against the bytes read since that body ended: when
        its request line is followed by its second header, not its first, the first
        came from the trailer and is dropped. When neither can be found (or the next
        request is refused in a way a trailer causes: a header given twice), the
        chunked request is answered with ``Connection: close`` and nothing after it is
        read. Trailers themselves are never kept (docs/hardening.md).
        """
        messages, upgraded, tail = result
        chunked, since = self._chunked, self._since
        if chunked is not None and chunked.is_eof():  # the body ended in this read
            chunked, since = None, data
        elif since is not None:
            since += data
        kept: list[Any] = []
        for message, payload in messages:
            if since is not None:  # the first request after a chunked body
                message = _unleaked(message, since)
                if message is None:
                    return self._close_after(kept)
                since = None
            kept.append((message, payload))
            if message.chunked:
                chunked, since = (None, data) if payload.is_eof() else (payload, None)
        self._chunked, self._since = chunked, since
        if since is not None:
            error = self._error
            if (error is not None and _may_be_a_trailer(error)) or len(since) > _SINCE_LIMIT:
                return self._close_after(kept)
        return kept, upgraded, tail

    def _close_after(self, kept: list[Any] | None) -> tuple[Any, bool, bytes]:
        """Answer the chunked request (the last of ``kept``, or one returned before)
        with ``Connection: close``, and read nothing after it."""
        self._closed = True
        self._chunked, self._since, self._error, self._held = None, None, None, b""
        if kept:
            message, payload = kept[-1]
            kept[-1] = (message._replace(should_close=True), payload)
            return kept, False, b""
        handler = self._handler
        request = handler._current_request
        if request is None:  # it was answered: nothing is left to send
            handler.force_close()
            return (), False, b""
        if "keep_alive" not in request._cache:
            # The request being answered: its answer says ``Connection: close``.
            request._message = request._message._replace(should_close=True)
        handler.close()  # close once the answer is sent
        return (), False, b""

    def _feed(self, data: bytes) -> tuple[Any, bool, bytes]:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        # ``find``, not ``in``: ``in`` on bytes tries the operand as an int first, and
        # raising and clearing that error costs more than the search.
        if (
            self._held
            or self._lines
            or self._body
            or (data and (data.find(b"pgrade") >= 0 or data.find(b"PGRADE") >= 0))
        ):
            return self._careful(data)
        parser = self._parser
        # A parse error here has nothing parsed before it in this read: aiohttp's 400.
        messages, upgraded, tail = parser.feed_data(data)
        parser.message_consumed()  # the slot is aiohttp's queue's, not the parser's
        if upgraded:
            return messages, upgraded, tail
        if messages and messages[0][0].upgrade:  # an offer spelled otherwise: see _take
            taken: list[Any] = []
            self._take(messages, taken, exact=False)
            messages = taken
        # The parser stopped after one request, or used the read up. Feed it once more
        # (a read of one request: the feed finds nothing, about a tenth of the first's
        # cost); the first feed may also have stopped at the end of a body whose
        # request came in an earlier read, giving nothing.
        try:
            got, upgraded, tail = parser.feed_data(b"")
        except HttpProcessingError as exc:
            if not messages:
                raise
            return self._hold(exc, list(messages))
        if not got:
            return messages, upgraded, tail
        return self._rest(list(messages), got, upgraded, tail)

    def _rest(
        self, messages: list[Any], got: Any, upgraded: bool, tail: bytes
    ) -> tuple[list[Any], bool, bytes]:
        """A read of several requests: feed the parser while it gives one, keeping
        what it parsed when a later request in the read is malformed."""
        parser = self._parser
        try:
            while got:
                parser.message_consumed()
                self._take(got, messages, exact=False)
                if upgraded or len(messages) >= MAX_MSG_QUEUE_SIZE:
                    break
                got, upgraded, tail = parser.feed_data(b"")
        except HttpProcessingError as exc:
            return self._hold(exc, messages)
        return messages, upgraded, tail

    def _careful(self, data: bytes) -> tuple[list[Any], bool, bytes]:
        """A read that may hold an upgrade offer, or the rest of one: fed in pieces."""
        messages: list[Any] = []
        try:
            upgraded, tail = self._feed_in_pieces(self._held + data, messages)
        except HttpProcessingError as exc:
            self._held = b""
            if not messages:
                raise
            return self._hold(exc, messages)
        return messages, upgraded, tail

    def _hold(
        self, error: HttpProcessingError, messages: list[Any]
    ) -> tuple[list[Any], bool, bytes]:
        """Answer ``messages`` first, then the parse error that came after them."""
        self._error = error
        self._handler.feed_soon()
        return messages, False, b""

    def _drain(self, data: bytes, messages: list[Any], *, exact: bool) -> tuple[bool, bytes]:
        """Feed ``data``, then the parser's own rest, one request at a time."""
        parser = self._parser
        got, upgraded, tail = parser.feed_data(data)
        parser.message_consumed()  # the slot is aiohttp's queue's, not the parser's
        self._take(got, messages, exact=exact)
        # The first feed may stop at the end of a body whose request came in an
        # earlier chunk, giving nothing: feed once more at least, then while a
        # feed gives a request.
        again = True
        while (got or again) and not upgraded and len(messages) < MAX_MSG_QUEUE_SIZE:
            got, upgraded, tail = parser.feed_data(b"")
            parser.message_consumed()
            self._take(got, messages, exact=False)
            again = False
        return upgraded, tail

    def _take(self, got: Any, messages: list[Any], *, exact: bool) -> None:
        for message, payload in got:
            if _declined_upgrade(message):
                length = message.headers.get("Content-Length", "0")
                if exact and not message.chunked and length.isdigit():
                    self._body = int(length)  # fed as one piece: the request ends it
                else:
                    # The bytes after it may be lost: answer it, then close.
                    message = message._replace(should_close=True)
            messages.append((message, payload))

    def _feed_in_pieces(self, pending: bytes, messages: list[Any]) -> tuple[bool, bytes]:
        self._held = b""
        # What the parser kept when aiohttp's queue was last full comes first.
        upgraded, tail = self._drain(b"", messages, exact=False)
        while pending and not upgraded and len(messages) < MAX_MSG_QUEUE_SIZE:
            line_by_line = bool(self._lines) and not self._body
            piece, pending = self._piece(pending)
            before = len(messages)
            upgraded, tail = self._drain(piece, messages, exact=line_by_line)
            if line_by_line and len(messages) > before:
                self._lines = 0  # the headers holding the word are read
        if upgraded:  # a WebSocket offer: aiohttp keeps the rest, and feeds it again
            return upgraded, tail + pending
        self._held = pending
        return upgraded, tail

    def _piece(self, pending: bytes) -> tuple[bytes, bytes]:
        """The next piece to feed: an offer's body, one line, or all up to the line
        holding the word ``upgrade``."""
        if self._body:
            piece = pending[: self._body]
            self._body -= len(piece)
        elif self._lines:
            end = pending.find(b"\n") + 1 or len(pending)
            piece = pending[:end]
            self._lines -= 1
        else:
            at = _word_at(pending)
            start = pending.rfind(b"\n", 0, at) + 1 if at >= 0 else len(pending)
            if start == 0:
                self._lines = self._window
                return self._piece(pending)
            piece = pending[:start]
        return piece, pending[len(piece) :]

    # aiohttp's queue slot: this parser frees it itself after each request. aiohttp
    # calls this once a request; a builtin that takes no argument is the cheapest call.
    message_consumed = staticmethod(tuple)

    # The rest of the parser's API that aiohttp uses, delegated one by one: a
    # ``__getattr__`` would make every attribute read on this object, its own slots
    # included, a Python-level hook (about 300 instructions each, 24 a request).
    def feed_eof(self) -> Any:
        return self._parser.feed_eof()

    def pause_reading(self) -> None:
        self._parser.pause_reading()

    def set_upgraded(self, val: bool) -> None:
        self._parser.set_upgraded(val)

    @property
    def protocol(self) -> Any:
        return self._parser.protocol


def refused_status(exc: BaseException) -> int:
    """The status for a request aiohttp's parser refused: 414 for a request target
    over the line limit (RFC 9112 §3 says a server must), 431 for a header over it or
    too many headers (RFC 6585), 505 for a version it does not read (``HTTP/1.2``,
    ``HTTP/3.0``, HTTP/2's preface; RFC 9110 §15.6.6), 400 for the rest. aiohttp
    answers 400 to all; its parser gives the target as a ``bytearray`` and a header
    as ``bytes``."""
    if isinstance(exc, LineTooLong):
        return 414 if exc.args and isinstance(exc.args[0], bytearray) else 431
    if isinstance(exc, Http2Preface):
        return 505
    if isinstance(exc, BadHttpMessage):
        if exc.message.startswith("Pause on PRI/Upgrade"):
            return 505  # the preface after a request on a kept connection: as above
        if exc.message == "Too many headers received":
            return 431
        if isinstance(exc, BadStatusLine) and "Invalid HTTP version:" in exc.message:
            return 505  # digits, but not a version the parser reads (a malformed one: 400)
    return 400


def refused_reason(exc: HttpProcessingError) -> str:
    """What a refused request is told, and its journal entry says: the parser's
    message, but for HTTP/2's preface after a request on a kept connection, which the
    C parser calls "Pause on PRI/Upgrade", the words :class:`Http2Preface` uses."""
    message = str(exc.message)
    if not isinstance(exc, Http2Preface) and message.startswith("Pause on PRI/Upgrade"):
        return str(Http2Preface().message)
    return message


def answer_in_http_1_1(request: web.BaseRequest) -> None:
    """Have the answer to ``request`` say ``HTTP/1.1`` in its status line, whatever
    version the request gave (aiohttp writes the request's): a 505 tells the client
    the version the server does speak. ``version`` is a cached property of aiohttp's
    (``reify``); its cache is where it is read from."""
    request._cache["version"] = HttpVersion11


class _Handler(RequestHandler):
    """aiohttp's connection handler, with the parser that keeps pipelined requests."""

    def __init__(self, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        try:
            parser = HttpRequestParser(
                self,
                kwargs["loop"],
                kwargs.get("read_bufsize", self._read_bufsize),
                max_line_size=self.max_line_size,
                max_field_size=self.max_field_size,
                max_headers=self.max_headers,
                payload_exception=web.RequestPayloadError,
                # Bodies are decoded by the body reader, in steps (mockserver/codings.py).
                auto_decompress=False,
                max_msg_queue_size=1,
            )
        except TypeError:  # pragma: no cover - an aiohttp whose parser takes other options
            return  # aiohttp's own parser: the pipelining test says so
        # aiohttp calls feed_data, message_consumed and the rest; the wrapper has them.
        self._parser = _OneAtATime(parser, self)  # type: ignore[assignment]

    def _make_error_handler(self, err_info: Any) -> Any:
        status = refused_status(err_info.exc)
        if status == err_info.status:
            return super()._make_error_handler(err_info)
        exc, message = err_info.exc, refused_reason(err_info.exc)

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            if status == 505:
                answer_in_http_1_1(request)
            return self.handle_error(request, status, exc, message)

        return handler

    def feed_soon(self) -> None:
        """Feed the parser once more soon (it holds an error to raise)."""
        self._loop.call_soon(self._feed_held)

    def _feed_held(self) -> None:
        parser: object = self._parser
        if self.transport is not None and isinstance(parser, _OneAtATime):
            self.data_received(b"")


def _open_file_limit() -> int | None:
    """The process's soft ``RLIMIT_NOFILE``; ``None`` when unlimited or unknown."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # pragma: no cover - not a POSIX system
        return None
    return None if soft == resource.RLIM_INFINITY else soft


def listen_backlog() -> int:
    """The listening socket's backlog: aiohttp's 128, less under a small open-file
    limit (macOS gives 256). asyncio accepts up to this many connections in one go,
    before any is counted, so it is room the bound must leave."""
    soft = _open_file_limit()
    return 128 if soft is None else max(8, min(128, soft // 8))


def default_max_connections() -> int:
    """How many connections the server keeps open at most: what the process may open
    (``RLIMIT_NOFILE``), less room for its own files, for a burst of accepts and for
    the connections closed to make room (their descriptors go a turn later), and at
    most 10 000. Past the open-file limit asyncio logs a traceback per accept."""
    soft = _open_file_limit()
    if soft is None:
        return 10_000
    return max(8, min(10_000, soft - 128 - 2 * listen_backlog()))


class PipelineServer(web.Server):
    """aiohttp's low-level server, whose connections answer every pipelined request
    that parsed before a malformed one, and which keeps at most ``max_connections``
    open.

    aiohttp accepts connections until the process runs out of file descriptors; then
    asyncio logs a traceback on every accept it retries (hundreds of thousands of
    lines) and no one else gets in, the health check included. Past the bound, a new
    connection closes the one that has waited longest for a request (idle kept-alive
    or never used: what the header timeout would close anyway), as aiohttp's own
    keep-alive timeout closes it; when every connection is busy answering, the new one
    is closed at once.
    """

    def __init__(self, *args: Any, max_connections: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_connections = max_connections or default_max_connections()
        self.evicted = 0  # connections closed to let a new one in, or turned away

    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: Any) -> None:
        super().connection_made(handler, transport)
        # aiohttp keeps a closed connection here until its task ends: count open ones.
        if len(self._connections) <= self.max_connections:
            return
        open_ones = [h for h in self._connections if h.transport is not None]
        if len(open_ones) <= self.max_connections:
            return
        self.evicted += 1
        for other in open_ones:  # oldest first: the dict keeps the order they came in
            waiter = other._waiter  # aiohttp's own test of an idle handler
            if other is not handler and waiter is not None and not waiter.done():
                other.force_close()
                return
        handler.force_close()
