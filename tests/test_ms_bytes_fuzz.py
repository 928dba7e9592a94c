"""Any bytes in a header value, the path or the body: never a 500, and every journal view
of the admin API still answers with JSON (over raw sockets, as a Latin-1 client sends)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer

from .strategies import fuzz_examples

# What a header value may carry on the wire: anything but CR, LF and NUL (the parser
# refuses those, and refusals are journaled too, so they are fine to send as well).
value_bytes = st.binary(max_size=40).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b""))


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    stubs = [
        {
            "request": {"path": "/echo"},
            "response": {"text": "{request.headers.x-odd} {request.body}"},
        },
        {"request": {"path": "/json"}, "response": {"json": {"got": "{request.json}"}}},
    ]
    with MockServer(stubs, journal_cap=50) as made:
        yield made


def exchange(server: MockServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@settings(max_examples=fuzz_examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["/echo", "/json", "/nothing"]),
    suffix=st.binary(max_size=12),
    value=value_bytes,
    body=st.one_of(st.binary(max_size=60), st.sampled_from([b'{"a": "\\ud800"}', b"\xff{"])),
)
def test_no_bytes_give_a_500_or_break_an_admin_view(
    server: MockServer, path: str, suffix: bytes, value: bytes, body: bytes
) -> None:
    target = path.encode() + quote_from_bytes(suffix, safe="").encode()
    answer = exchange(
        server,
        b"POST "
        + target
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Odd: "
        + value
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body,
    )
    assert answer, "no answer"
    assert status_of(answer) < 500, answer[:300]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for shown in (
            client.get("/__admin/requests"),
            client.get("/__admin/near-misses"),
            client.post("/__admin/requests/find", json={}),
        ):
            assert shown.status_code == 200, shown.text[:300]
            data = shown.json()  # whole, valid JSON
            entries = data.get("requests") or [e["request"] for e in data.get("unmatched", [])]
            assert all("error" not in entry for entry in entries)  # none left out
