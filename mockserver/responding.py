"""Turning a stub's :class:`ResponseDef` into bytes on the wire, faults included.

A response that needs no templating is rendered once, when the stub is
registered; the rest are rendered per request. Faults act on the connection
itself (reset, close, garbage) or shape the answer (slow, broken, huge).
"""

from __future__ import annotations

import asyncio
import base64
import random
import socket
import struct
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aiohttp import web

from webhook_core.template import Reference

from .jsoncodec import dumps_compact
from .models import HEADER_CONTROL, LONE_SURROGATE, Fault, FaultType, ResponseDef
from .templating import (
    GROWTH,
    MAX_RENDERED,
    RenderedTooLarge,
    compile_json,
    count_references,
    render_text,
    rendered_size,
)

__all__ = [
    "Pause",
    "Prepared",
    "RenderedTooLarge",
    "abort_connection",
    "prepare",
    "send_fault",
]

#: A deliberate wait (a delay, a hung fault); the server's own ends early when it stops.
Pause = Callable[[float], Awaitable[None]]

_JSON = "application/json"
_TEXT = "text/plain; charset=utf-8"
_BYTES = "application/octet-stream"


@dataclass(frozen=True)
class Prepared:
    """A response ready to send: static bytes, or what to render per request."""

    definition: ResponseDef
    templated: bool
    body: bytes | None
    content_type: str | None
    headers: dict[str, str]
    json_body: Callable[[Mapping[str, Any]], bytes] | None = None
    templated_headers: tuple[str, ...] = ()
    #: The references of the templates, with how often each is written, and how many in
    #: all; the templates' own text, in characters.
    references: Mapping[Reference, int] = field(default_factory=dict)
    reference_count: int = 0
    template_size: int = 0
    #: The largest ``read_size`` for which ``reference_count * GROWTH * read_size +
    #: template_size`` stays within :data:`MAX_RENDERED` (the hot path compares one number).
    read_limit: int = MAX_RENDERED

    def render(
        self, context: dict[str, Any], read_size: int = 0
    ) -> tuple[bytes | None, dict[str, str]]:
        """Body bytes and headers for this request (the headers dict is not to be changed).

        ``read_size`` bounds what one reference can read (the request's bytes, the stub's
        id): when the references could then render more than :data:`MAX_RENDERED`, what
        they do render is measured first, and :class:`RenderedTooLarge` raised past it.
        """
        if not self.templated:
            return self.body, self.headers
        if read_size > self.read_limit:  # what the bound below gives, worked out once
            size = self.template_size + rendered_size(self.references, context)
            if size > MAX_RENDERED:
                raise RenderedTooLarge(size)
        definition = self.definition
        headers = self.headers
        if self.templated_headers:
            headers = dict(headers)
            for name in self.templated_headers:
                # A value from the request may hold line breaks: never a header of its own.
                text = HEADER_CONTROL.sub(" ", render_text(headers[name], context))
                if LONE_SURROGATE.search(text):  # from the request's JSON: written escaped
                    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
                headers[name] = text
        body: bytes | None
        if self.json_body is not None:
            body = self.json_body(context)
        elif definition.text is not None:
            # Text from the request that is not UTF-8 (a lone surrogate) is written escaped.
            body = render_text(definition.text, context).encode("utf-8", "backslashreplace")
        else:
            body = self.body
        return body, headers


def _dump(value: Any) -> bytes:
    # The kept encoder: a new JSONEncoder per stub cost more than the encoding. A lone
    # surrogate can stand only in a JSON string, so writing it \udXXX is its JSON escape.
    return dumps_compact(value).encode("utf-8", "backslashreplace")


def _has_braces(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_has_braces(k) or _has_braces(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_braces(item) for item in value)
    return False


def _read_limit(count: int, size: int) -> int:
    """The largest read size for which ``count * GROWTH * read + size`` is within
    :data:`MAX_RENDERED` (``-1``: none is; no references: any is)."""
    if not count:
        return sys.maxsize if size <= MAX_RENDERED else -1
    return (MAX_RENDERED - size) // (count * GROWTH)


def prepare(definition: ResponseDef) -> Prepared:
    """Precompute what can be: the content type, and the bytes when nothing is templated."""
    content_type: str | None = None
    body: bytes | None = None
    if definition.has_json:
        content_type, body = _JSON, _dump(definition.json_)
    elif definition.text is not None:
        content_type, body = _TEXT, definition.text.encode()
    elif definition.base64 is not None:
        content_type, body = _BYTES, base64.b64decode(definition.base64)
    headers = dict(definition.headers)
    if content_type and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = content_type
    templated = definition.template and (
        _has_braces(definition.headers)
        or (definition.has_json and _has_braces(definition.json_))
        or _has_braces(definition.text)
    )
    json_body = compile_json(definition.json_) if templated and definition.has_json else None
    templated_headers = tuple(name for name, value in headers.items() if "{" in value)
    references: dict[Reference, int] = {}
    size = 0
    if templated:
        size = count_references(headers, references) + count_references(definition.text, references)
        if definition.has_json:
            size += count_references(definition.json_, references)
    count = sum(references.values())
    return Prepared(
        definition,
        templated,
        body,
        content_type,
        headers,
        json_body,
        templated_headers,
        MappingProxyType(references),
        count,
        size,
        _read_limit(count, size),
    )


def abort_connection(request: web.BaseRequest, *, reset: bool) -> None:
    """Close the connection under ``request``: a TCP reset (RST), or a plain close."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _headers_only(
    request: web.BaseRequest, response: web.StreamResponse
) -> web.StreamResponse:
    """The answer to a ``HEAD``: the headers the ``GET`` gets (its ``Content-Length``
    among them) and no body. aiohttp's ``StreamResponse.write`` does not look at the
    method: the body written after them was read as the start of the next answer on
    the connection."""
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:  # the client left: nothing to tell anyone
        abort_connection(request, reset=False)
    return response


async def send_fault(
    request: web.BaseRequest,
    fault: Fault,
    status: int,
    headers: dict[str, str],
    seed: int,
    pause: Pause = asyncio.sleep,
) -> web.StreamResponse:
    """Misbehave as ``fault`` says. Returns the response aiohttp should finish with.

    A ``HEAD`` to a fault that shapes the body (slow, huge, cut) gets the headers alone,
    as the ``GET`` would, and the connection stays usable; a 204 or 304 with one is
    refused when the stub is loaded (:class:`~mockserver.models.ResponseDef`).
    """
    kind = fault.type
    if kind is FaultType.CONNECTION_RESET:
        abort_connection(request, reset=True)
    elif kind is FaultType.EMPTY_RESPONSE:
        abort_connection(request, reset=False)
    elif kind is FaultType.MALFORMED_RESPONSE:
        if request.transport is not None:
            request.transport.write(b"HTTP/1.1 2OO NOT-A-STATUS\r\nContent-Length: -7\r\n\r\n")
        abort_connection(request, reset=False)
    elif kind is FaultType.RANDOM_DATA_THEN_CLOSE:
        garbage = random.Random(seed).randbytes(64)
        if request.transport is not None:
            request.transport.write(garbage)
        abort_connection(request, reset=False)
    elif kind is FaultType.NO_RESPONSE:
        await pause(fault.seconds)
        abort_connection(request, reset=False)
    elif kind is FaultType.INVALID_JSON:
        return web.Response(
            status=status, body=b'{"broken": [1, 2', headers=headers, content_type=_JSON
        )
    elif kind is FaultType.NON_UTF8:
        return web.Response(
            status=status,
            body=b"caf\xe9 \xff\xfe ok",
            headers=headers,
            content_type="text/plain",
            charset="utf-8",
        )
    elif kind is FaultType.SLOW_BODY:
        # Ten chunks of "x": one chunk held, written ten times.
        chunk = b"x" * fault.chunk_size
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(chunk) * 10
        if request.method == "HEAD":
            return await _headers_only(request, response)
        try:
            await response.prepare(request)
            for _ in range(10):
                await response.write(chunk)
                await pause(fault.chunk_delay_ms / 1000)
            await response.write_eof()
        except ConnectionError:  # the client left mid-answer: nothing to tell anyone
            abort_connection(request, reset=False)
        return response
    elif kind is FaultType.LARGE_BODY:
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = fault.size
        response.content_type = "text/plain"
        if request.method == "HEAD":
            return await _headers_only(request, response)
        unit = fault.fill.encode("utf-8", "surrogatepass")
        chunk = unit * max(1, 65536 // len(unit))  # whole repetitions: chunks stay aligned
        remaining = fault.size
        try:
            await response.prepare(request)
            while remaining > 0:
                await response.write(chunk[: min(remaining, len(chunk))])
                remaining -= len(chunk)
            await response.write_eof()
        except ConnectionError:  # the client left mid-answer
            abort_connection(request, reset=False)
        return response
    elif kind is FaultType.CUT_BODY:
        # JSON that parses if a client keeps the half it got: {"cut": "xxx…"} cut at "x".
        body = b'{"cut": "' + b"x" * 54 + b'"}'
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(body)
        response.content_type = _JSON
        if request.method == "HEAD":  # no body to cut: the connection stays usable
            return await _headers_only(request, response)
        try:
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
        except ConnectionError:
            pass
        abort_connection(request, reset=False)
        return response
    return web.Response(status=500)
