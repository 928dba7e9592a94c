"""Sending one attempt (rules C9, D1–D3): the only part of ``webhook_core`` that does network I/O.

:class:`Sender` is the interface the flow runtime talks to; :class:`HttpxSender`
is the reference implementation. It takes an ``httpx.AsyncClient`` by
injection (respx in unit tests, real sockets elsewhere); by default it makes
an aiohttp transport used directly, the fastest path measured here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import aiohttp
import httpx

from .errors import ConfigurationError
from .paths import MISSING
from .request import PreparedRequest
from .response import DEFAULT_MAX_BODY, parse_body
from .transport import AiohttpTransport, translate_error

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIMEOUT",
    "HttpxSender",
    "Outcome",
    "Sender",
    "redirect_request",
]

DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_MAX_REDIRECTS: Final = 5


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to.

    ``ok`` follows rule D1. ``status`` is the final HTTP status, if an answer
    came; ``error`` says why a failed attempt failed and ``error_kind`` sorts it
    (``status``, ``timeout``, ``connect``, ``disconnect``, ``protocol``,
    ``redirects``, ``network``). ``value`` is what "save result to" stores (D2),
    ``MISSING`` on failure; ``truncated`` is true when the body passed the size
    limit (D3).
    """

    ok: bool
    status: int | None = None
    value: Any = MISSING
    error: str | None = None
    error_kind: str | None = None
    truncated: bool = False

    def __repr__(self) -> str:
        if self.ok:
            return f"<Outcome ok [{self.status}]>"
        return f"<Outcome failed {self.error_kind}: {self.error}>"


class Sender(Protocol):
    """Sends a built request once and says what came of it; never raises for a failed attempt."""

    async def send(self, request: httpx.Request) -> Outcome: ...

    async def aclose(self) -> None: ...


def _describe(exc: Exception) -> tuple[str, str]:
    """Sort a transport failure (D1) into a kind and a readable message."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout", f"timeout: {text}"
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return "connect", f"connection failed: {text}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError | ConnectionError) or (
        isinstance(exc, httpx.RemoteProtocolError) and "disconnected" in text.lower()
    ):
        return "disconnect", f"connection dropped: {text}"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol", f"malformed HTTP: {text}"
    return "network", f"{type(exc).__name__}: {text}"


_TRANSPORT_ERRORS: Final = (httpx.TransportError, OSError)


_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_BODY_HEADERS: Final = frozenset({b"content-type", b"content-length", b"transfer-encoding"})
#: What a redirect to another origin (scheme, host or port) does not carry, as curl
#: since CVE-2022-27776: a hostile handler would collect them with a redirect of its own.
_CREDENTIALS: Final = frozenset({b"authorization", b"cookie", b"proxy-authorization"})


def redirect_request(request: httpx.Request, response: httpx.Response) -> httpx.Request | None:
    """The request a redirect asks for, as browsers and httpx make it; ``None`` if not a redirect.

    303 (and 301/302 after a POST) turn into a GET without a body; 307 and 308
    keep the method and body. ``Authorization``, ``Cookie`` and
    ``Proxy-Authorization`` are dropped when the origin changes (as curl does), and
    ``Host`` follows the new URL.
    """
    if response.status_code not in _REDIRECT_STATUSES:
        return None
    return _follow(request, response.status_code, response.headers.get("location"))


def _follow(request: httpx.Request, status: int, location: str | None) -> httpx.Request | None:
    if not location:
        return None
    try:
        url = request.url.join(location)
        _ = url.host  # an "xn--" label fails only when it is decoded
    except (httpx.InvalidURL, ValueError) as exc:  # the far side's answer is malformed
        raise httpx.RemoteProtocolError(
            f"the answer redirects to {location!r:.200}, which is no URL: {exc}", request=request
        ) from exc
    method = request.method
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
    keep_body = method == request.method
    same_origin = (url.scheme, url.host, url.port) == (
        request.url.scheme,
        request.url.host,
        request.url.port,
    )
    headers = []
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered == b"host" or (not keep_body and lowered in _BODY_HEADERS):
            continue
        if lowered in _CREDENTIALS and not same_origin:
            continue
        headers.append((name, value))
    content = request.content if keep_body else None
    return httpx.Request(method, url, headers=headers, content=content)


class HttpxSender:
    """The reference sender: one attempt, time-limited, redirects followed, body size-capped.

    ``client`` is an ``httpx.AsyncClient`` or an httpx transport (respx's
    ``MockTransport`` in unit tests); by default an
    :class:`~webhook_core.transport.AiohttpTransport`, whose responses are read
    directly, the fastest path. ``timeout`` bounds the whole attempt (connect,
    redirects, body) in seconds; at most ``max_redirects`` redirects are
    followed; at most ``max_body`` bytes are read (rule D3: the rest is never
    buffered, and the value is the text of what was read, with ``truncated``
    set).
    """

    def __init__(
        self,
        client: httpx.AsyncClient | httpx.AsyncBaseTransport | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ConfigurationError(field="timeout", value=timeout, expected="seconds above 0")
        for field, value in (("max_redirects", max_redirects), ("max_body", max_body)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigurationError(
                    field=field, value=value, expected="a whole number, 0 or more"
                )
        self._owns_client = client is None
        self._client = client if client is not None else AiohttpTransport()
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.max_body = max_body

    async def __aenter__(self) -> HttpxSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport if this sender made it."""
        if self._owns_client:
            await self._client.aclose()

    async def send(self, request: httpx.Request) -> Outcome:
        """Send ``request`` once (following redirects) and return the :class:`Outcome`."""
        if isinstance(self._client, AiohttpTransport):
            return await self._guarded(self._send_direct(self._client, None, request))
        return await self._guarded(self._send_httpx(request))

    async def send_prepared(self, prepared: PreparedRequest) -> Outcome:
        """Send a :class:`PreparedRequest`; with the default transport no httpx objects are made."""
        if not isinstance(self._client, AiohttpTransport):
            return await self.send(prepared.request)
        return await self._guarded(self._send_direct(self._client, prepared, None))

    async def _guarded(self, sending: Awaitable[Outcome]) -> Outcome:
        try:
            async with asyncio.timeout(self.timeout):
                return await sending
        except TimeoutError:
            return Outcome(
                ok=False,
                error=f"timeout: no complete answer within {self.timeout:g} s",
                error_kind="timeout",
            )
        except _TRANSPORT_ERRORS as exc:
            kind, message = _describe(exc)
            return Outcome(ok=False, error=message, error_kind=kind)
        except (httpx.InvalidURL, UnicodeError) as exc:  # an injected httpx client's own
            # reading of a Location that is no URL (it reads it even when not following)
            return Outcome(ok=False, error=f"malformed HTTP: {exc}", error_kind="protocol")

    # --- the fast path: the default aiohttp transport, read directly ---------------

    async def _send_direct(
        self,
        transport: AiohttpTransport,
        prepared: PreparedRequest | None,
        request: httpx.Request | None,
    ) -> Outcome:
        redirects = 0
        while True:
            if request is None:
                assert prepared is not None
                parts = (prepared.method, str(prepared.url), prepared.headers, prepared.body)
            else:
                parts = (request.method, str(request.url), request.headers.raw, request.content)
            response = await transport.open(*parts, decompress=True)
            try:
                status = response.status
                next_request = None
                if status in _REDIRECT_STATUSES:
                    if request is None:
                        assert prepared is not None
                        request = prepared.request
                    next_request = _follow(request, status, response.headers.get("Location"))
                if next_request is None:
                    if status >= 400:
                        return _status_failure(status, response.reason)
                    return await self._read_direct(response)
            finally:
                response.release()
            redirects += 1
            if redirects > self.max_redirects:
                return self._too_many(status)
            request = next_request

    async def _read_direct(self, response: aiohttp.ClientResponse) -> Outcome:
        undecoded = _undecoded(response.status, response.headers.getall("Content-Encoding", []))
        if undecoded is not None:
            return undecoded
        content_type = response.headers.get("Content-Type")
        try:
            length = response.content_length
            if (
                length is not None
                and length <= self.max_body
                and not response.headers.get("Content-Encoding")
            ):
                body = await response.read()
                return _success(response.status, body, content_type, truncated=False)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(65536):
                size += len(chunk)
                if size > self.max_body:
                    chunks.append(chunk[: len(chunk) - (size - self.max_body)])
                    return _success(response.status, b"".join(chunks), content_type, truncated=True)
                chunks.append(chunk)
        except aiohttp.ClientError as exc:
            raise translate_error(exc, None) from exc
        return _success(response.status, b"".join(chunks), content_type, truncated=False)

    # --- any other httpx client or transport ---------------------------------------

    async def _send_httpx(self, request: httpx.Request) -> Outcome:
        redirects = 0
        while True:
            if isinstance(self._client, httpx.AsyncClient):
                response = await self._client.send(request, stream=True, follow_redirects=False)
            else:
                response = await self._client.handle_async_request(request)
            try:
                next_request = redirect_request(request, response)
                if next_request is None:
                    return await self._finish(response)
            finally:
                await response.aclose()
            redirects += 1
            if redirects > self.max_redirects:
                return self._too_many(response.status_code)
            request = next_request

    async def _finish(self, response: httpx.Response) -> Outcome:
        status = response.status_code
        if status >= 400:
            return _status_failure(status, response.reason_phrase)
        undecoded = _undecoded(status, response.headers.get_list("content-encoding"))
        if undecoded is not None:
            return undecoded
        chunks: list[bytes] = []
        size = 0
        truncated = False
        encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
        # Without a Content-Encoding the bytes are read as they come, past httpx's decoders.
        chunks_in = response.aiter_bytes() if encoded else response.stream
        try:
            async for chunk in chunks_in:  # type: ignore[union-attr]
                size += len(chunk)
                if size > self.max_body:
                    chunks.append(chunk[: len(chunk) - (size - self.max_body)])
                    truncated = True
                    break
                chunks.append(chunk)
        except httpx.DecodingError as exc:  # it was raised out of send(): a Sender never raises
            coding = response.headers.get("content-encoding", "")
            return Outcome(
                ok=False,
                status=status,
                error=f"malformed HTTP: the answer's body is not {coding!r} as its "
                f"Content-Encoding says: {exc}",
                error_kind="protocol",
            )
        return _success(
            status, b"".join(chunks), response.headers.get("content-type"), truncated=truncated
        )

    def _too_many(self, status: int) -> Outcome:
        return Outcome(
            ok=False,
            status=status,
            error=f"more than {self.max_redirects} redirects",
            error_kind="redirects",
        )


def _decoded_codings() -> frozenset[str]:
    """gzip and deflate, and br and zstd when both transports have their library: httpx
    passed an answer in a coding it has no decoder for on as it came, still encoded."""
    from aiohttp import compression_utils
    from httpx import _decoders

    names = {"identity", "gzip", "deflate"}
    supported = getattr(_decoders, "SUPPORTED_DECODERS", {})
    for name, flag in (("br", "HAS_BROTLI"), ("zstd", "HAS_ZSTD")):
        if getattr(compression_utils, flag, False) and name in supported:
            names.add(name)
    return frozenset(names)


#: The one coding an answer may come in: what both transports decode here.
DECODED_CODINGS: Final = _decoded_codings()


def _undecoded(status: int, values: list[str]) -> Outcome | None:
    """A failed attempt (D1, malformed HTTP) when the answer's Content-Encoding is not one
    coding the transport decodes: a chain (``gzip, gzip``, or the header twice), or one it
    does not know (``x-gzip``). Its bytes would be saved still encoded, as if text."""
    names = [name.strip().lower() for value in values for name in value.split(",")]
    names = [name for name in names if name]
    if not names or (len(names) == 1 and names[0] in DECODED_CODINGS):
        return None
    written = ", ".join(value.strip() for value in values)
    return Outcome(
        ok=False,
        status=status,
        error=f"malformed HTTP: the answer's Content-Encoding is {written!r}, not one coding "
        f"the sender decodes ({', '.join(sorted(DECODED_CODINGS - {'identity'}))}); its body "
        "would be saved still encoded",
        error_kind="protocol",
    )


def _status_failure(status: int, reason: str | None) -> Outcome:
    # D1: the body of a failed attempt is not saved (D4), so it is not read.
    phrase = f" {reason}" if reason else ""
    return Outcome(ok=False, status=status, error=f"status {status}{phrase}", error_kind="status")


def _success(status: int, body: bytes, content_type: str | None, *, truncated: bool) -> Outcome:
    value = parse_body(body, content_type, truncated=truncated)
    return Outcome(ok=True, status=status, value=value, truncated=truncated)
