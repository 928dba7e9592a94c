"""Reading a request body off the wire, for stub traffic and the admin API alike.

Answers ``Expect: 100-continue`` before reading, decodes a ``Content-Encoding``
in bounded steps (``mockserver/codings.py``), gives up on a body that goes quiet
for longer than the body timeout, stops at a size limit (of the body decoded), and
reports a client that closed mid-body as an incomplete read instead of raising.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import hdrs, web

from .codings import Decoder, decoder_for

__all__ = ["BodyRead", "body_at_hand", "read_body"]

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# multidict's case-insensitive string: a lookup by it does not lower-case the name first
_CONTENT_ENCODING: str = hdrs.CONTENT_ENCODING


@dataclass(slots=True)
class BodyRead:
    """What came of reading a body: the bytes, and when it went wrong, the status to
    answer (413 too large, 408 too slow, ``None`` when the client is gone) and a note.

    Not changed once made. Not ``frozen``: a frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``, 3.5 times the cost (one made a request)."""

    body: bytes
    status: int | None = None
    note: str | None = None

    @property
    def complete(self) -> bool:
        return self.note is None


def body_at_hand(request: web.BaseRequest, *, limit: int) -> BodyRead | None:
    """The body when it all came with the headers (or there is none), without waiting;
    ``None`` when more is to come (then :func:`read_body` reads it)."""
    payload = request.content
    if not payload.is_eof() or _CONTENT_ENCODING in request.headers:
        return None  # a coded body is decoded in steps, by read_body
    body = payload.read_nowait()
    if len(body) > limit:
        return BodyRead(b"", 413, f"body not kept: over {limit} bytes")
    return BodyRead(body)


async def read_body(request: web.BaseRequest, *, limit: int, idle_timeout: float) -> BodyRead:
    """The body of ``request``, at most ``limit`` bytes, each chunk within ``idle_timeout``."""
    at_hand = body_at_hand(request, limit=limit)
    if at_hand is not None:
        return at_hand
    payload = request.content
    declared = request.content_length
    decoder: Decoder | None = None
    if "Content-Encoding" in request.headers:
        decoder = decoder_for(request.headers.getall("Content-Encoding"))
    if not request.body_exists:
        return BodyRead(b"")
    if declared is not None and declared > limit:
        return BodyRead(b"", 413, f"body not kept: Content-Length {declared} is over {limit} bytes")
    if request.headers.get("Expect", "").lower() == "100-continue" and request.version >= (1, 1):
        transport = request.transport
        if transport is not None and not transport.is_closing():
            transport.write(_CONTINUE)
    chunks: list[bytes] = []
    size = 0  # of the body as kept (decoded)
    sent = 0  # of the body as it came
    expected = f" of {declared}" if declared is not None else ""
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                chunk = await payload.readany()
        except TimeoutError:
            note = (
                f"body incomplete: nothing came for {idle_timeout:g} s after "
                f"{sent}{expected} bytes (the body timeout)"
            )
            return BodyRead(b"".join(chunks), 408, note)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client closed, or sent a broken chunked body
            reason = " ".join(str(exc).split()) or type(exc).__name__
            note = f"body incomplete: got {sent}{expected} bytes, then {reason}"
            return BodyRead(b"".join(chunks), None, note)
        if not chunk:
            if payload.is_eof():
                if declared is not None and sent < declared:
                    note = f"body incomplete: got {sent}{expected} bytes, then the end"
                    return BodyRead(b"".join(chunks), None, note)
                if decoder is not None:
                    try:
                        decoder.finish()
                    except ValueError:
                        return BodyRead(b"".join(chunks), None, _not_decoded(decoder))
                return BodyRead(b"".join(chunks))
            continue
        sent += len(chunk)
        if decoder is None:
            size += len(chunk)
            if size > limit:
                return BodyRead(b"", 413, f"body not kept: over {limit} bytes")
            chunks.append(chunk)
            continue
        try:
            for steps, piece in enumerate(decoder.feed(chunk)):
                if steps:
                    await asyncio.sleep(0)  # a chunk that inflates far: let others in
                size += len(piece)
                if size > limit:
                    note = (
                        f"body not kept: over {limit} bytes once decoded "
                        f"(Content-Encoding {decoder.coding}, after {sent} bytes as sent)"
                    )
                    return BodyRead(b"", 413, note)
                chunks.append(piece)
        except ValueError:
            return BodyRead(b"".join(chunks), None, _not_decoded(decoder))


def _not_decoded(decoder: Decoder) -> str:
    return f"body not decoded: Content-Encoding says {decoder.coding}, and the bytes are not"
