"""No request, however malformed or large, crashes the server or loses a journal entry."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer

from .strategies import fuzz_examples


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(
        [{"request": {"path": "/alive"}, "response": {"text": "yes"}, "optional": True}],
        journal_cap=None,
    ) as made:
        yield made


def send_raw(server: MockServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (ConnectionError, TimeoutError):
            return b""
    return b"".join(chunks)


def assert_healthy(server: MockServer, http: httpx.Client) -> None:
    before = len(server.journal)
    response = http.get(server.url + "/alive", timeout=5)
    assert response.text == "yes"
    entries = server.requests
    assert len(entries) == before + 1
    assert entries[-1].path == "/alive"
    seqs = [entry.seq for entry in entries]
    assert seqs == sorted(seqs)
    assert all(entry.status is not None for entry in entries)


methods = st.sampled_from([b"GET", b"POST", b"PUT", b"G\x00T", b"", b"\xff\xfe", b"CONNECT"])
paths = st.one_of(
    st.sampled_from([b"/", b"/alive", b"*", b"/%ZZ", b"/\xd0\x90"]), st.binary(max_size=40)
)
header_lines = st.lists(
    st.one_of(
        st.binary(max_size=60),
        st.sampled_from(
            [
                b"Content-Length: 5",
                b"Content-Length: -1",
                b"Content-Length: 99999999999999999999",
                b"Transfer-Encoding: chunked",
                b"Content-Type: application/json",
                b"Host: x",
                b"X: \x00\x01",
            ]
        ),
    ),
    max_size=5,
)


@settings(
    max_examples=fuzz_examples(60), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(method=methods, path=paths, headers=header_lines, body=st.binary(max_size=300))
def test_structured_garbage(
    server: MockServer,
    http: httpx.Client,
    method: bytes,
    path: bytes,
    headers: list[bytes],
    body: bytes,
) -> None:
    request = method + b" " + path + b" HTTP/1.1\r\n" + b"\r\n".join(headers)
    send_raw(server, request + b"\r\n\r\n" + body)
    assert_healthy(server, http)


@settings(
    max_examples=fuzz_examples(60), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2000))
def test_random_bytes(server: MockServer, http: httpx.Client, data: bytes) -> None:
    send_raw(server, data)
    assert_healthy(server, http)


def test_every_parsed_request_is_journaled(server: MockServer) -> None:
    before = len(server.journal)
    for body in (b"", b"\xff" * 10, b"{" * 1000):
        httpx.post(server.url + "/anything", content=body)
    assert len(server.journal) == before + 3


def test_a_body_of_several_mib_is_counted_and_hashed_beyond_the_cap(server: MockServer) -> None:
    import hashlib

    body = b"y" * (3 * 1024 * 1024)
    response = httpx.post(server.url + "/large", content=body, timeout=30)
    assert response.status_code == 404  # no stub; what matters is the journal
    entry = server.requests[-1]
    assert (entry.path, entry.note) == ("/large", None)
    assert len(entry.body) == server.journal.body_cap
    assert entry.body_length == len(body)
    assert entry.body_sha256 == hashlib.sha256(body).hexdigest()


def test_a_body_over_the_limit_is_journaled_without_it(
    server: MockServer, http: httpx.Client
) -> None:
    big = b"x" * (65 * 1024 * 1024)
    response = httpx.post(server.url + "/big", content=big, timeout=30)
    assert response.status_code == 413
    entry = server.requests[-1]
    assert (entry.path, entry.status, entry.body) == ("/big", 413, b"")
    assert "body not kept" in (entry.note or "")
    assert_healthy(server, http)
