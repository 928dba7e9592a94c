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

from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser
from aiohttp.web_protocol import MAX_MSG_QUEUE_SIZE, RequestHandler

__all__ = ["PipelineServer"]


class _OneAtATime:
    """A request parser that never loses a request it parsed to a later parse error."""

    __slots__ = ("_error", "_handler", "_parser")

    def __init__(self, parser: Any, handler: _Handler) -> None:
        self._parser = parser
        self._handler = handler
        self._error: HttpProcessingError | None = None

    def feed_data(self, data: bytes) -> tuple[Any, bool, bytes]:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        parser = self._parser
        # A parse error here has nothing parsed before it in this read: aiohttp's 400.
        messages, upgraded, tail = parser.feed_data(data)
        parser.message_consumed()  # the slot is aiohttp's queue's, not the parser's
        if upgraded:
            return messages, upgraded, tail
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
                messages += got
                if upgraded or len(messages) >= MAX_MSG_QUEUE_SIZE:
                    break
                got, upgraded, tail = parser.feed_data(b"")
        except HttpProcessingError as exc:
            return self._hold(exc, messages)
        return messages, upgraded, tail

    def _hold(
        self, error: HttpProcessingError, messages: list[Any]
    ) -> tuple[list[Any], bool, bytes]:
        """Answer ``messages`` first, then the parse error that came after them."""
        self._error = error
        self._handler.feed_soon()
        return messages, False, b""

    # aiohttp's queue slot: this parser frees it itself after each request. aiohttp
    # calls this once a request; a builtin that takes no argument is the cheapest call.
    message_consumed = staticmethod(tuple)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


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
                auto_decompress=kwargs.get("auto_decompress", True),
                max_msg_queue_size=1,
            )
        except TypeError:  # pragma: no cover - an aiohttp whose parser takes other options
            return  # aiohttp's own parser: the pipelining test says so
        # aiohttp calls feed_data, message_consumed and the rest; the wrapper has them.
        self._parser = _OneAtATime(parser, self)  # type: ignore[assignment]

    def feed_soon(self) -> None:
        """Feed the parser once more soon (it holds an error to raise)."""
        self._loop.call_soon(self._feed_held)

    def _feed_held(self) -> None:
        parser: object = self._parser
        if self.transport is not None and isinstance(parser, _OneAtATime):
            self.data_received(b"")


class PipelineServer(web.Server):
    """aiohttp's low-level server, whose connections answer every pipelined request
    that parsed before a malformed one."""

    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)
