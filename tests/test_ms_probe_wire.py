"""A hostile probe of the mock server over raw sockets: what an attacker or a heavy
user sends that the earlier hardening did not cover (docs/hardening.md).

Nothing here waits on the clock: every exchange reads until the server closes
the connection (``Connection: close``), within a generous liveness bound.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import pytest

from mockserver import MockServer
from mockserver.cli import main

# The raw-socket helpers of the earlier hardening tests, shared.
from tests.test_ms_hardening import LIVENESS, body_of, exchange, request, status_of
from webhook_core.template import MISSING


def strict_json(raw: bytes) -> Any:
    """JSON as a browser's ``JSON.parse`` reads it: no NaN, no Infinity."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw, parse_constant=refuse)


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([{"name": "ping", "request": {"path": "/ping"}}]) as made:
        yield made


# --- the request line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "path"),
    [
        pytest.param("http://127.0.0.1/ping", "/ping", id="absolute-form"),
        pytest.param("HTTP://Example.COM:80/ping", "/ping", id="absolute-form-any-case"),
        pytest.param("http://u:p@elsewhere/ping", "/ping", id="absolute-form-userinfo"),
        pytest.param("https://elsewhere", "/", id="absolute-form-no-path"),
    ],
)
async def test_an_absolute_form_target_is_matched_by_its_path(
    server: MockServer, target: str, path: str
) -> None:
    # RFC 9112 3.2.2: a server must accept the absolute form (what a client that
    # takes the mock server for its proxy sends); the path names the resource.
    answer = await exchange(server.port, request(target + "?q=1"))
    assert status_of(answer) == (200 if path == "/ping" else 404)
    (entry,) = server.requests
    assert (entry.path, entry.query_string) == (path, "q=1")


# --- bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", [pytest.param("/ping", id="stub-traffic"), pytest.param("/__admin/stubs", id="admin")]
)
async def test_a_body_that_does_not_decompress_leaves_no_traceback(
    server: MockServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    target: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Content-Encoding: gzip, and bytes that are not gzip; kept alive, so aiohttp reads
    # what is left of the body after the answer.
    raw = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd"
    ).encode()
    answer = await exchange(server.port, raw)
    assert status_of(answer) == 400
    if target.startswith("/__admin/"):
        assert json.loads(body_of(answer))["status"] == 400
    else:
        (entry,) = server.requests
        assert entry.incomplete
    assert status_of(await exchange(server.port, request("/ping"))) == 200
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"a": NaN}', id="nan"),
        pytest.param(b'{"a": -Infinity}', id="infinity"),
        pytest.param(b'{"a": 1e999}', id="beyond-a-float"),
    ],
)
async def test_a_body_with_a_number_json_cannot_carry_is_not_json_anywhere(
    server: MockServer, body: bytes
) -> None:
    server.add({"request": {"path": "/echo"}, "response": {"json": {"j": "{request.json}"}}})
    raw = request("/echo", b"Content-Type: application/json", method=b"POST", body=body)
    answer = await exchange(server.port, raw)
    assert status_of(answer) == 200
    assert strict_json(body_of(answer)) == {"j": None}  # the answer is JSON
    (entry,) = server.requests
    assert entry.json is MISSING
    for target in ("/__admin/requests", "/__admin/ui/api/requests/1"):
        answer = await exchange(server.port, request(target))
        assert status_of(answer) == 200, answer[:300]
        strict_json(body_of(answer))  # the dashboard's JSON.parse must read it


async def test_a_request_holding_a_lone_surrogate_shows_in_the_dashboard(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"a": "\\ud800"}'
    raw = request("/x", b"Content-Type: application/json", method=b"POST", body=body)
    assert status_of(await exchange(server.port, raw)) == 404
    answer = await exchange(server.port, request("/__admin/ui/api/requests/1"))
    assert status_of(answer) == 200, answer[:300]
    assert json.loads(body_of(answer))["body"]["value"] == {"a": "\ud800"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- stubs that hold lone surrogates ---------------------------------------------------


async def test_a_stub_json_with_a_lone_surrogate_is_served_as_its_escape(
    server: MockServer,
) -> None:
    added = await exchange(
        server.port,
        request(
            "/__admin/stubs",
            b"Content-Type: application/json",
            method=b"POST",
            body=b'{"id": "s1", "name": "n\\udfff", "request": {"path": "/s"},'
            b' "response": {"json": {"k": "\\ud800"}}}',
        ),
    )
    assert status_of(added) == 201, added[:400]
    answer = await exchange(server.port, request("/s"))
    assert (status_of(answer), json.loads(body_of(answer))) == (200, {"k": "\ud800"})
    for target in ("/__admin/stubs", "/__admin/ui/api/stubs"):
        listed = await exchange(server.port, request(target))
        assert status_of(listed) == 200, listed[:300]
        names = {stub.get("name") for stub in json.loads(body_of(listed))["stubs"]}
        assert "n\udfff" in names


@pytest.mark.parametrize(
    ("response", "field"),
    [
        pytest.param({"text": "a\ud800"}, "response.text", id="text"),
        pytest.param({"headers": {"X-A": "\udfff"}}, "response.headers", id="header"),
    ],
)
async def test_a_stub_text_no_bytes_can_carry_is_refused_naming_the_field(
    server: MockServer, response: dict[str, Any], field: str
) -> None:
    stub = {"request": {"path": "/s"}, "response": response}
    raw = json.dumps(stub).encode()  # ensure_ascii: the surrogate goes as \udfff
    answer = await exchange(
        server.port,
        request("/__admin/stubs", b"Content-Type: application/json", method=b"POST", body=raw),
    )
    assert status_of(answer) == 400, answer[:400]
    problem = json.loads(body_of(answer))
    assert [e["field"] for e in problem["errors"]] == [field]
    assert "surrogate" in problem["errors"][0]["message"]


async def test_a_templated_header_echoing_a_lone_surrogate_is_written_escaped(
    server: MockServer,
) -> None:
    server.add({"request": {"path": "/h"}, "response": {"headers": {"X-Echo": "{request.json.a}"}}})
    raw = request("/h", b"Content-Type: application/json", method=b"POST", body=b'{"a":"x\\ud800"}')
    answer = await exchange(server.port, raw)
    assert status_of(answer) == 200
    assert b"\r\nX-Echo: x\\ud800\r\n" in answer


# --- the command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--host", ""], "--host", id="empty-host"),
        pytest.param(["--host", "  "], "--host", id="blank-host"),
        pytest.param(["--admin-token", " secret"], "--admin-token", id="token-with-space"),
        pytest.param(["--admin-allow-host", ""], "--admin-allow-host", id="empty-allowed-host"),
        pytest.param(
            ["--admin-allow-host", "evil.example:80"], "--admin-allow-host", id="host-with-port"
        ),
    ],
)
def test_a_cli_option_that_cannot_work_is_one_line_and_exit_2(
    args: list[str], message: str
) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(args, out=out, err=err) == 2
    (line,) = err.getvalue().splitlines()
    assert line.startswith(f"mockserver: {message}")
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"host": " "}, "host:", id="blank-host"),
        pytest.param({"admin_token": "a b"}, "admin_token:", id="token-with-space"),
        pytest.param({"admin_token": "a\nb"}, "admin_token:", id="token-with-line-break"),
        pytest.param({"admin_hosts": ["mock:8080"]}, "admin_hosts:", id="host-with-port"),
        pytest.param({"admin_hosts": [""]}, "admin_hosts:", id="empty-host-name"),
    ],
)
def test_admin_settings_that_cannot_work_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MockServer(**options)


def test_admin_host_names_that_can_work_are_taken() -> None:
    server = MockServer(admin_hosts=["mock.ci.internal", "10.0.0.5", "[fd00::1]", "fd00::2"])
    assert server.admin_guard.allowed_hosts == {
        "mock.ci.internal",
        "10.0.0.5",
        "fd00::1",
        "fd00::2",
    }


# --- the admin guard -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            (b"Origin: http://127.0.0.1:{port}", b"Origin: http://evil.example"),
            id="a-second-origin",
        ),
        pytest.param(
            (b"Sec-Fetch-Site: same-origin", b"Sec-Fetch-Site: cross-site"),
            id="a-second-sec-fetch-site",
        ),
        pytest.param((b"Referer: http://evil.example/page",), id="a-foreign-referer-alone"),
        pytest.param((b"Referer: http://127.0.0.1:1/",), id="a-referer-of-another-port"),
        pytest.param((b"Referer: null",), id="a-referer-that-is-no-url"),
    ],
)
@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/__admin/reset", id="admin"),
        pytest.param("/__admin/ui/api/reset", id="dashboard"),
    ],
)
async def test_an_admin_write_with_any_foreign_sign_is_refused(
    server: MockServer, headers: tuple[bytes, ...], target: str
) -> None:
    sent = tuple(h.replace(b"{port}", str(server.port).encode()) for h in headers)
    if target.startswith("/__admin/ui/") and not any(h.startswith(b"Origin") for h in sent):
        sent = (b"Origin: http://127.0.0.1:" + str(server.port).encode(), *sent)
    host = f"127.0.0.1:{server.port}".encode()
    answer = await exchange(server.port, request(target, *sent, method=b"POST", host=host))
    assert status_of(answer) == 403, answer[:400]
    assert len(server.stubs) == 1  # not reset


async def test_an_admin_write_with_the_servers_own_referer_goes_through(
    server: MockServer,
) -> None:
    host = f"127.0.0.1:{server.port}".encode()
    referer = b"Referer: http://" + host + b"/__admin/ui/"
    answer = await exchange(
        server.port, request("/__admin/reset", referer, method=b"POST", host=host)
    )
    assert status_of(answer) == 204, answer[:400]
    assert server.stubs == []


# --- clients that leave while the answer is being written ------------------------------


async def _until(condition: Any) -> None:
    for _ in range(int(LIVENESS * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"type": "slow_body", "chunk_size": 1, "chunk_delay_ms": 200}, id="slow-body"),
        pytest.param({"type": "large_body", "size": 64 * 1024 * 1024}, id="large-body"),
    ],
)
async def test_a_client_leaving_a_dribbled_or_huge_answer_leaves_no_traceback(
    server: MockServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    fault: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    server.add({"request": {"path": "/f"}, "response": {"fault": fault}})
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request("/f"))
    await writer.drain()
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)  # the answer began
    writer.transport.abort()  # and the client is gone (a reset, as a killed process leaves)
    await _until(lambda: server.in_flight == 0)
    assert status_of(await exchange(server.port, request("/ping"))) == 200
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in capfd.readouterr().err


# --- numbers in the dashboard's queries --------------------------------------------------

_DIGITS_5000 = "9" * 5000


@pytest.mark.parametrize(
    ("target", "status"),
    [
        pytest.param("/__admin/ui/api/requests?limit=%C2%B2", 400, id="superscript-limit"),
        pytest.param("/__admin/ui/api/requests?before=%EF%BC%91", 400, id="fullwidth-before"),
        pytest.param(f"/__admin/ui/api/requests?before={_DIGITS_5000}", 400, id="5000-digits"),
        pytest.param("/__admin/ui/api/requests?status=%C2%B2%C2%B2%C2%B2", 400, id="odd-status"),
        pytest.param("/__admin/ui/api/requests/%C2%B2", 404, id="superscript-number"),
        pytest.param(f"/__admin/ui/api/requests/{_DIGITS_5000}", 404, id="5000-digit-number"),
        pytest.param("/__admin/ui/api/requests/%D9%A1", 404, id="arabic-indic-one"),
    ],
)
async def test_a_dashboard_number_that_is_not_ascii_digits_is_refused_not_a_500(
    server: MockServer, target: str, status: int
) -> None:
    await exchange(server.port, request("/ping"))  # request #1 exists
    answer = await exchange(server.port, request(target))
    assert status_of(answer) == status, answer[:300]
    assert json.loads(body_of(answer))["status"] == status


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"advance": 1e300}', id="advance-past-any-date"),
        pytest.param(b'{"at": "9999-12-31T23:59:59+00:00", "advance": 86400}', id="past-year-9999"),
    ],
)
async def test_a_crm_clock_moved_past_any_date_is_a_400(body: bytes) -> None:
    from mockserver.crm import Bitrix24

    async with MockServer() as server:
        server.mount(Bitrix24())
        answer = await exchange(
            server.port,
            request(
                "/__admin/crm/bitrix24/clock",
                b"Content-Type: application/json",
                method=b"POST",
                body=body,
            ),
        )
    assert status_of(answer) == 400, answer[:300]
    assert "year" in body_of(answer).decode()  # the clock's range, named


async def test_a_crm_clock_refused_past_any_date_stays_where_it_was() -> None:
    from mockserver.crm import Bitrix24

    async with MockServer() as server:
        portal = server.mount(Bitrix24())
        # The clock's own range ends at 9000 (docs/crm-bitrix24.md): start near its end.
        portal.clock.freeze(datetime(8999, 12, 31, tzinfo=timezone.utc))
        body = b'{"advance": 172800000}'
        raw = request(
            "/__admin/crm/bitrix24/clock",
            b"Content-Type: application/json",
            method=b"POST",
            body=body,
        )
        assert status_of(await exchange(server.port, raw)) == 400
        assert portal.clock.now() == datetime(8999, 12, 31, tzinfo=timezone.utc)


# --- templates over odd parts of the request ---------------------------------------------


async def test_a_template_of_the_whole_request_renders_its_parts_as_json(
    server: MockServer,
) -> None:
    server.add(
        {
            "request": {"path": "/t"},
            "response": {
                "headers": {"X-Request": "{request}"},
                "json": {"whole": "{request}", "inside": "text {request} and {stub}"},
            },
        }
    )
    raw = request("/t?a=1", b"Content-Type: application/json", method=b"POST", body=b'{"x":1}')
    answer = await exchange(server.port, raw)
    assert status_of(answer) == 200, answer[:400]
    shown = json.loads(body_of(answer))
    assert shown["whole"]["json"] == {"x": 1}
    assert shown["whole"]["query"] == {"a": "1"}
    assert shown["whole"]["method"] == "POST"
    assert "object at 0x" not in shown["inside"]
    assert (
        json.loads(shown["inside"].removeprefix("text ").partition(" and ")[0])["url"] == "/t?a=1"
    )
    head = answer.partition(b"\r\n\r\n")[0]
    assert b"object at 0x" not in head


async def test_head_of_the_live_feed_is_its_headers_alone(server: MockServer) -> None:
    # A HEAD answer has no body: a feed written after it would be read as the next answer.
    raw = (
        b"HEAD /__admin/ui/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    answer = await exchange(server.port, raw)
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert b"text/event-stream" in first
    assert rest.startswith(b"HTTP/1.1 200 OK"), rest[:200]
    assert server.dashboard.watchers == 0


# --- stub ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stub_id", "target"),
    [
        pytest.param("a/b", "a%2Fb", id="slash"),
        pytest.param("%41", "%2541", id="a-percent-sign"),
        pytest.param("a b", "a%20b", id="space"),
    ],
)
@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("/__admin/stubs/", id="admin"),
        pytest.param("/__admin/ui/api/stubs/", id="dashboard"),
    ],
)
async def test_any_stub_id_can_be_removed_by_its_url(
    server: MockServer, stub_id: str, target: str, prefix: str
) -> None:
    server.add({"id": stub_id, "request": {"path": "/x"}})
    server.add({"id": "A", "request": {"path": "/y"}})  # what %41 would wrongly name
    host = f"127.0.0.1:{server.port}".encode()
    origin = b"Origin: http://" + host
    answer = await exchange(
        server.port, request(prefix + target, origin, method=b"DELETE", host=host)
    )
    assert status_of(answer) == 204, answer[:400]
    remaining = {stub.id for stub in server.stubs}
    assert stub_id not in remaining
    assert "A" in remaining


@pytest.mark.parametrize(
    "stub_id",
    [pytest.param(b'""', id="empty"), pytest.param(b'"s\\ud800"', id="lone-surrogate")],
)
async def test_a_stub_id_no_url_can_name_is_refused_naming_the_field(
    server: MockServer, stub_id: bytes
) -> None:
    raw = request(
        "/__admin/stubs",
        b"Content-Type: application/json",
        method=b"POST",
        body=b'{"id": ' + stub_id + b', "request": {"path": "/x"}}',
    )
    answer = await exchange(server.port, raw)
    assert status_of(answer) == 400, answer[:300]
    assert [e["field"] for e in json.loads(body_of(answer))["errors"]] == ["id"]


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/__admin/requests?limit=1&limit=2", id="admin-journal"),
        pytest.param("/__admin/ui/api/requests?limit=1&limit=2", id="dashboard-journal"),
        pytest.param("/__admin/ui/api/requests?method=GET&method=POST", id="dashboard-filter"),
    ],
)
async def test_a_query_parameter_given_twice_is_a_400_not_the_first_one(
    server: MockServer, target: str
) -> None:
    answer = await exchange(server.port, request(target))
    assert status_of(answer) == 400, answer[:300]
    (error,) = json.loads(body_of(answer))["errors"]
    assert error["field"] == target.rpartition("&")[2].partition("=")[0]
    assert "given 2 times" in error["message"]


async def test_an_http_1_0_admin_request_without_host_is_answered(server: MockServer) -> None:
    # HTTP/1.0 has no Host requirement, and a browser (the only rebinding risk) always
    # sends one; a bare tool on this machine is not refused for leaving it out.
    answer = await exchange(server.port, b"GET /__admin/health HTTP/1.0\r\n\r\n")
    assert status_of(answer) == 200, answer[:300]
    answer = await exchange(
        server.port, b"GET /__admin/health HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n"
    )
    assert status_of(answer) in (400, 403)  # an empty Host is not "no Host"


async def test_an_open_live_feed_ends_cleanly_when_the_server_drains() -> None:
    # A dashboard left open must not hold a stop for the whole drain timeout: the feed
    # ends its stream (the last chunk sent) instead of being cut off when time is up.
    server = MockServer(drain_timeout=LIVENESS)
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /__admin/ui/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b"event: hello"), LIVENESS)
        stopping = asyncio.ensure_future(server.stop())
        rest = await asyncio.wait_for(reader.read(), LIVENESS)
        await asyncio.wait_for(stopping, LIVENESS)
    finally:
        writer.close()
    assert rest.endswith(b"0\r\n\r\n"), rest[-100:]


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/__admin/requests", id="journal"),
        pytest.param("/__admin/near-misses", id="near-misses"),
        pytest.param("/__admin/stubs", id="stubs"),
    ],
)
async def test_a_client_leaving_a_long_admin_read_leaves_no_traceback(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], target: str
) -> None:
    caplog.set_level(logging.DEBUG)
    async with MockServer([{"request": {"path": f"/s{n}"}} for n in range(2000)]) as server:
        body = b"x" * 2000
        for _ in range(300):
            await exchange(server.port, request("/none", method=b"POST", body=body))
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request(target))
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIVENESS)
        writer.transport.abort()
        await _until(lambda: server.in_flight == 0)
        assert status_of(await exchange(server.port, request("/__admin/health"))) == 200
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in capfd.readouterr().err


async def test_a_template_names_a_header_in_any_case(server: MockServer) -> None:
    server.add(
        {
            "request": {"path": "/h"},
            "response": {
                "headers": {"X-Echo": "{request.headers.X-Request-Id}"},
                "json": {
                    "id": "{request.headers.X-REQUEST-ID}",
                    "in": "id {request.headers.x-request-id}",
                },
            },
        }
    )
    answer = await exchange(server.port, request("/h", b"X-Request-Id: r-1"))
    assert json.loads(body_of(answer)) == {"id": "r-1", "in": "id r-1"}
    assert b"\r\nX-Echo: r-1\r\n" in answer


async def test_health_in_flight_leaves_out_open_live_feeds(server: MockServer) -> None:
    # A client waiting for in_flight == 0 (quiet) must not wait on an open dashboard.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /__admin/ui/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b"event: hello"), LIVENESS)
        answer = await exchange(server.port, request("/__admin/health"))
        assert json.loads(body_of(answer))["in_flight"] == 0
    finally:
        writer.close()
