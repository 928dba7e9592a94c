"""The admin token (a fifth probe): what it may be, and how it is compared, on a real
server over a real socket."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from mockserver import MockServer

LIVENESS = 30.0
TOKEN = "s3cret-Token_1.2~+/="


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer(admin_token=TOKEN) as running:
        yield running


async def _status(port: int, *headers: bytes, target: bytes = b"/__admin/health") -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [
            b"GET " + target + b" HTTP/1.1",
            b"Host: 127.0.0.1",
            *headers,
            b"Connection: close",
        ]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), LIVENESS)
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param([b"Authorization: Bearer " + TOKEN.encode()], 200, id="right"),
        pytest.param([b"Authorization: bearer " + TOKEN.encode()], 200, id="scheme-any-case"),
        pytest.param([b"Authorization: Bearer " + TOKEN.encode()[:-1]], 401, id="a-prefix"),
        pytest.param([b"Authorization: Bearer " + TOKEN.encode() + b"x"], 401, id="longer"),
        pytest.param([b"Authorization: Basic " + TOKEN.encode()], 401, id="another-scheme"),
        pytest.param([b"Authorization: " + TOKEN.encode()], 401, id="no-scheme"),
        pytest.param([b"Authorization: Bearer " + TOKEN.upper().encode()], 401, id="case"),
        pytest.param([b"X-Admin-Token: " + TOKEN.encode()], 401, id="another-header"),
        pytest.param(
            [b"Authorization: Bearer wrong", b"Authorization: Bearer " + TOKEN.encode()],
            401,
            id="the-first-of-two-is-wrong",
        ),
    ],
)
async def test_only_the_bearer_header_carries_the_token(
    server: MockServer, headers: list[bytes], status: int
) -> None:
    assert await _status(server.port, *headers) == status


async def test_the_token_in_the_query_is_not_taken(server: MockServer) -> None:
    # A URL is logged, kept in history and sent as Referer: a token there would leak.
    target = b"/__admin/health?token=" + TOKEN.encode()
    assert await _status(server.port, target=target) == 401
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{server.url}/__admin/health", params={"access_token": TOKEN})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")
    assert TOKEN not in answer.text


@pytest.mark.parametrize("token", ["tökén", "пароль", "key\u2122"])
def test_a_token_that_is_not_ascii_is_refused_at_start(token: str) -> None:
    # curl sends "ö" as UTF-8, a browser's fetch (the dashboard's) as Latin-1: one of
    # them was always 401.
    with pytest.raises(ValueError, match="admin_token: a token of ASCII letters"):
        MockServer(admin_token=token)
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "--admin-token", token],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("mockserver: --admin-token: a token of ASCII letters")
    assert len(done.stderr.splitlines()) == 1
    assert token not in done.stderr  # a secret is not echoed


async def test_a_latin1_token_sent_as_a_browser_sends_it_is_why() -> None:
    # What the refusal prevents: the same token, two encodings, one of them refused.
    raw = "tökén"
    server = MockServer(admin_token="t")
    server.admin_token = raw  # past the check, as before it
    async with server:
        utf8 = await _status(server.port, b"Authorization: Bearer " + raw.encode("utf-8"))
        latin1 = await _status(server.port, b"Authorization: Bearer " + raw.encode("latin-1"))
    assert (utf8, latin1) == (200, 401)
