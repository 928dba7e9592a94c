"""The admin guard's Host, target, Origin and Sec-Fetch-Site checks (a fifth probe), over
a raw socket to a real server: the forms a browser, curl or an attacker can write."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest

from mockserver import MockServer

LIVENESS = 30.0


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer(admin_hosts=["mock.test"]) as running:
        yield running


async def _answer(port: int, data: bytes, *, host: str = "127.0.0.1") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), LIVENESS)
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1]), answer


def _request(
    host: str | None, *headers: str, target: str = "/__admin/health", version: str = "1.1"
) -> bytes:
    lines = [f"GET {target} HTTP/{version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [*headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@pytest.mark.parametrize(
    ("host", "status"),
    [
        pytest.param("127.0.0.1#evil.example:{port}", 403, id="fragment-in-host"),
        pytest.param("127.0.0.1:{port}#x", 403, id="fragment-after-port"),
        pytest.param("127.0.0.1:{port}?", 403, id="query-in-host"),
        pytest.param("evil.example@127.0.0.1:{port}", 403, id="userinfo"),
        pytest.param("127.0.0.1:{port}/x", 403, id="path"),
        pytest.param("[fe80::1%25lo]:{port}", 403, id="zone"),
        pytest.param("[127.0.0.1]:{port}", 403, id="ipv4-in-brackets"),
        pytest.param("127.0.0.1:99999999999", 403, id="port-out-of-range"),
        pytest.param("::1", 403, id="ipv6-without-brackets"),
        pytest.param("127.1:{port}", 403, id="short-ipv4"),
        pytest.param("evil.localhost:{port}", 403, id="a-subdomain-of-localhost"),
        pytest.param("2130706433:{port}", 403, id="ipv4-as-one-number"),
        pytest.param("[::ffff:127.0.0.1]:{port}", 403, id="ipv4-mapped"),
        # the same names as the allowed ones, written another way a browser may write them
        pytest.param("localhost.:{port}", 200, id="trailing-dot"),
        pytest.param("mock.test.:{port}", 200, id="allowed-name-trailing-dot"),
        pytest.param("LocalHost:{port}", 200, id="case"),
        pytest.param("[0:0:0:0:0:0:0:1]:{port}", 200, id="ipv6-long-form"),
        pytest.param("[::1]:{port}", 200, id="ipv6"),
        pytest.param("127.0.0.1", 200, id="no-port"),
        pytest.param("127.0.0.1:0{port}", 200, id="leading-zero-port"),
    ],
)
async def test_host_is_read_as_the_grammar_says(server: MockServer, host: str, status: int) -> None:
    got, answer = await _answer(server.port, _request(host.format(port=server.port)))
    assert got == status, answer
    if status == 403:
        assert b"is not this server" in answer


async def test_an_absolute_form_target_naming_another_host_is_refused(server: MockServer) -> None:
    # RFC 9112 §3.2.2: the target's authority stands over Host; both must be this server.
    target = "http://evil.example/__admin/requests"
    got, answer = await _answer(server.port, _request(f"127.0.0.1:{server.port}", target=target))
    assert got == 403
    assert b"'evil.example' is not this server" in answer


async def test_an_absolute_form_target_on_http_1_0_without_host_is_checked(
    server: MockServer,
) -> None:
    target = "http://evil.example/__admin/requests"
    got, _ = await _answer(server.port, _request(None, target=target, version="1.0"))
    assert got == 403


async def test_an_absolute_form_target_naming_this_server_passes(server: MockServer) -> None:
    target = f"http://localhost:{server.port}/__admin/health"
    got, answer = await _answer(server.port, _request(f"127.0.0.1:{server.port}", target=target))
    assert got == 200, answer


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://127.0.0.1:{port}?x", id="query"),
        pytest.param("http://127.0.0.1:{port}#x", id="fragment"),
        pytest.param("http://127.0.0.1#.evil.example:{port}", id="fragment-host"),
        pytest.param("http://[127.0.0.1]:{port}", id="bad-brackets"),
        pytest.param("null", id="null"),
    ],
)
async def test_an_origin_is_scheme_host_and_port_only(server: MockServer, origin: str) -> None:
    data = _request(f"127.0.0.1:{server.port}", f"Origin: {origin.format(port=server.port)}")
    got, answer = await _answer(server.port, data)
    assert got == 403, answer


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://localhost.:{port}", id="trailing-dot"),
        pytest.param("http://[0:0:0:0:0:0:0:1]:{port}", id="ipv6-long-form"),
    ],
)
async def test_an_origin_naming_this_server_another_way_passes(
    server: MockServer, origin: str
) -> None:
    data = _request(f"127.0.0.1:{server.port}", f"Origin: {origin.format(port=server.port)}")
    got, answer = await _answer(server.port, data)
    assert got == 200, answer


@pytest.mark.parametrize(
    ("value", "status"),
    [
        pytest.param("none, cross-site", 403, id="a-list-hiding-cross-site"),
        pytest.param("cross-site;q=1", 403, id="parameters"),
        pytest.param("sideways", 403, id="unknown-word"),
        pytest.param("", 403, id="empty"),
        pytest.param("Same-Origin", 200, id="same-origin-any-case"),
        pytest.param("none", 200, id="none"),
    ],
)
async def test_sec_fetch_site_passes_only_same_origin_or_none(
    server: MockServer, value: str, status: int
) -> None:
    data = _request(f"127.0.0.1:{server.port}", f"Sec-Fetch-Site: {value}")
    got, answer = await _answer(server.port, data)
    assert got == status, answer
    if status == 403:
        detail = json.loads(answer.partition(b"\r\n\r\n")[2])["detail"]
        assert detail.startswith("Sec-Fetch-Site: ")


async def test_the_dashboard_reads_host_the_same_way(server: MockServer) -> None:
    data = _request(f"127.0.0.1:{server.port}#evil.example", target="/__admin/ui/")
    assert (await _answer(server.port, data))[0] == 403
    data = _request(f"localhost.:{server.port}", target="/__admin/ui/")
    assert (await _answer(server.port, data))[0] == 200


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")
async def test_a_server_bound_to_ipv6_loopback_takes_its_address_in_any_form() -> None:
    async with MockServer(host="::1") as server:
        for host, status in (
            (f"[::1]:{server.port}", 200),
            (f"[0::1]:{server.port}", 200),
            (f"[::2]:{server.port}", 403),
        ):
            got, answer = await _answer(server.port, _request(host), host="::1")
            assert got == status, (host, answer)


@pytest.mark.parametrize(
    ("origin", "status"),
    [("http://evil.example", 403), ("http://127.0.0.1:{port}", 405)],
)
async def test_a_cors_preflight_is_never_approved(
    server: MockServer, origin: str, status: int
) -> None:
    data = _request(
        f"127.0.0.1:{server.port}",
        f"Origin: {origin.format(port=server.port)}",
        "Access-Control-Request-Method: POST",
        "Access-Control-Request-Headers: content-type",
        target="/__admin/reset",
    ).replace(b"GET ", b"OPTIONS ", 1)
    got, answer = await _answer(server.port, data)
    assert got == status, answer
    assert b"access-control-allow" not in answer.lower()
