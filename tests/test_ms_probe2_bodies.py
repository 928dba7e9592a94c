"""Request bodies with content codings: decoded once and bounded, or refused clearly."""

from __future__ import annotations

import gzip
import zlib

import pytest

from mockserver import MockServer

from .test_ms_hardening import body_of, exchange, request, status_of


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        pytest.param([b"Content-Encoding: gzip, gzip"], b"'gzip, gzip'", id="a-list"),
        pytest.param(
            [b"Content-Encoding: identity, gzip"], b"'identity, gzip'", id="with-identity"
        ),
        pytest.param(
            [b"Content-Encoding: gzip", b"Content-Encoding: gzip"], b"'gzip, gzip'", id="repeated"
        ),
    ],
)
async def test_a_chain_of_content_codings_is_refused_not_half_decoded(
    headers: list[bytes], shown: bytes
) -> None:
    # aiohttp decodes one coding given alone: a list was kept raw, a repeated header
    # decoded once, and matching saw bytes the sender did not mean.
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        twice = gzip.compress(gzip.compress(b"hello"))
        answer = await exchange(server.port, request("/a", *headers, method=b"POST", body=twice))
        assert status_of(answer) == 415
        assert shown in body_of(answer)
        (entry,) = server.requests
        assert entry.status == 415
        assert entry.note is not None
        assert "one content coding" in entry.note
        assert entry.stub_id is None


async def test_an_unknown_single_coding_is_kept_as_sent() -> None:
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        answer = await exchange(
            server.port, request("/a", b"Content-Encoding: utf-8", method=b"POST", body=b"raw")
        )
        assert status_of(answer) == 200
        assert server.requests[0].body == b"raw"


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        pytest.param(b"gzip", gzip.compress(b"hello"), id="gzip"),
        pytest.param(b"deflate", zlib.compress(b"hello"), id="deflate"),
        pytest.param(b"GZIP", gzip.compress(b"hello"), id="upper-case"),
    ],
)
async def test_one_content_coding_is_decoded(coding: bytes, body: bytes) -> None:
    async with MockServer([{"request": {"path": "/a", "body": "hello"}}]) as server:
        answer = await exchange(
            server.port,
            request("/a", b"Content-Encoding: " + coding, method=b"POST", body=body),
        )
        assert status_of(answer) == 200, answer
        (entry,) = server.requests
        assert entry.body == b"hello"


async def test_a_decompression_bomb_stops_at_the_body_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mockserver.answering

    monkeypatch.setattr(mockserver.answering, "MAX_BODY", 1 << 20)
    bomb = gzip.compress(b"\0" * (8 << 20))
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        answer = await exchange(
            server.port, request("/a", b"Content-Encoding: gzip", method=b"POST", body=bomb)
        )
        assert status_of(answer) == 413
        (entry,) = server.requests
        assert entry.body == b""


async def test_a_body_that_does_not_decompress_says_so_on_one_line() -> None:
    async with MockServer([{"request": {"path": "/a"}}]) as server:
        answer = await exchange(
            server.port,
            request("/a", b"Content-Encoding: gzip", method=b"POST", body=b"not gzip at all"),
        )
        assert status_of(answer) == 400
        (entry,) = server.requests
        assert entry.note == "body not decoded: Content-Encoding says gzip, and the bytes are not"
        assert body_of(answer).decode() == entry.note
