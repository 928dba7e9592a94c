"""An httpx transport over an aiohttp client session.

Why not ``httpx-aiohttp``: it files a dropped connection under
``ConnectTimeout`` and cannot resend a request built from ``next_request``
(redirects), and both matter to rule D1. This one maps every aiohttp failure
to the httpx exception of the same meaning, so the sender sorts failures the
same way whichever transport is underneath, and it is about twice as fast as
httpx's own transport on loopback (see ``bench/``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Final

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpTransport", "translate_error"]

_CHUNK: Final = 64 * 1024


def _url(text: str) -> URL:
    # Only short URLs are remembered: a GET carrying a saved answer makes a new one of
    # up to 64 KiB each time, and 1 024 of those were kept.
    return _url_cached(text) if len(text) <= 4096 else URL(text, encoded=True)


@lru_cache(maxsize=1024)
def _url_cached(text: str) -> URL:
    return URL(text, encoded=True)


def _text(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def translate_error(
    exc: aiohttp.ClientError, request: httpx.Request | None
) -> httpx.TransportError:
    """The httpx exception that means what ``exc`` means."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(
            "Server disconnected without sending a complete response.", request=request
        )
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(message, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):
        # Its text is "400, message='…', url='…'": the 400 is aiohttp's, not the answer's.
        return httpx.RemoteProtocolError(str(exc.message) or message, request=request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.NetworkError(message, request=request)


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk
        except aiohttp.ClientError as exc:
            raise translate_error(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one shared ``aiohttp.ClientSession`` (made on first use)."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100),
                auto_decompress=False,
                trust_env=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def open(
        self,
        method: str,
        url: str,
        raw_headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        *,
        decompress: bool = False,
    ) -> aiohttp.ClientResponse:
        """Send a request and return aiohttp's response, its body unread (release it after).

        Failures are raised as the httpx exception of the same meaning. The
        reference sender sends this way, without building httpx objects;
        ``handle_async_request`` wraps it for httpx clients.
        """
        headers = [
            (_text(name), _text(value))
            for name, value in raw_headers
            if name.lower() != b"content-length"
        ]
        try:
            return await self._get_session().request(
                method,
                _url(url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                auto_decompress=decompress,
            )
        except aiohttp.ClientError as exc:
            raise translate_error(exc, None) from exc
        except ValueError as exc:  # a host the resolver cannot encode, a port out of range
            # Named without its user info: the error goes on into logs and last_error.
            shown = str(_url(url).with_user(None))
            raise httpx.ConnectError(f"cannot connect to {shown!r:.200}: {exc}") from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        try:
            response = await self.open(request.method, str(request.url), request.headers.raw, body)
        except httpx.TransportError as exc:
            exc.request = request
            raise
        reason = (response.reason or "").encode("latin-1", "replace")
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions={"reason_phrase": reason, "http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
