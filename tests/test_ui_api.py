"""The dashboard's HTTP side over a real socket: pages, filters, paging, the live feed, guards."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import Bitrix24
from mockserver.files import load_stub_file
from mockserver.ui import UI_PREFIX
from tests.journal_rows import arrive

API = UI_PREFIX + "api/"


@pytest.fixture
async def ui() -> AsyncIterator[tuple[MockServer, httpx.AsyncClient]]:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield server, client


def _same_origin(server: MockServer) -> dict[str, str]:
    return {"Origin": server.url, "Content-Type": "application/json"}


async def test_the_page_ships_with_a_strict_policy(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = ui
    page = await client.get(UI_PREFIX)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="/__admin/ui/static/app.js">' in page.text
    script = await client.get(UI_PREFIX + "static/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert (await client.get(UI_PREFIX + "static/../server.py")).status_code == 404
    assert (await client.get(UI_PREFIX + "static/nothing.js")).status_code == 404
    redirect = await client.get(UI_PREFIX.rstrip("/"))
    assert redirect.status_code == 302
    assert redirect.headers["location"] == UI_PREFIX
    # The dashboard's own requests are not journaled.
    assert len(server.journal) == 0


def test_no_script_builds_markup_from_text() -> None:
    """The page's scripts never parse markup: no innerHTML, outerHTML, insertAdjacentHTML,
    document.write or eval; every value reaches the page through text nodes."""
    from importlib import resources

    folder = resources.files("mockserver.ui").joinpath("static")
    scripts = [item for item in folder.iterdir() if item.name.endswith(".js")]
    assert len(scripts) >= 5
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        for forbidden in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ):
            assert forbidden not in text, f"{script.name} uses {forbidden}"


async def test_journal_pages_newest_first_with_a_cursor(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = ui
    server.stub({"method": "GET", "path": "/hit"}, {"status": 201})
    for number in range(7):
        await client.get("/hit" if number % 2 else f"/miss/{number}")
    first = (await client.get(API + "requests", params={"limit": 3})).json()
    assert [row["seq"] for row in first["rows"]] == [7, 6, 5]
    assert first["more"] is True
    assert first["total"] == 7
    second = (await client.get(API + "requests", params={"limit": 3, "before": 5})).json()
    assert [row["seq"] for row in second["rows"]] == [4, 3, 2]
    last = (await client.get(API + "requests", params={"limit": 3, "before": 2})).json()
    assert [row["seq"] for row in last["rows"]] == [1]
    assert last["more"] is False


@pytest.mark.parametrize(
    ("query", "seqs"),
    [
        pytest.param({"method": "post"}, [4], id="method"),
        pytest.param({"path": "MISS"}, [3, 1], id="path-contains-any-case"),
        pytest.param({"status": "201"}, [2], id="status"),
        pytest.param({"status": "4xx"}, [4, 3, 1], id="status-class"),
        pytest.param({"matched": "unmatched"}, [4, 3, 1], id="unmatched"),
        pytest.param({"matched": "matched"}, [2], id="matched"),
        pytest.param({"q": "needle"}, [4], id="text-in-body"),
        pytest.param({"q": "x-trace: abc"}, [3], id="text-in-headers"),
        pytest.param({"q": "nothing-like-it"}, [], id="no-match"),
    ],
)
async def test_journal_filters(
    ui: tuple[MockServer, httpx.AsyncClient], query: dict[str, str], seqs: list[int]
) -> None:
    server, client = ui
    server.stub({"method": "GET", "path": "/hit"}, {"status": 201})
    await client.get("/miss/a")
    await client.get("/hit")
    await client.get("/miss/b", headers={"X-Trace": "abc"})
    await client.post("/other", json={"text": "a NEEDLE here"})
    page = (await client.get(API + "requests", params=query)).json()
    assert [row["seq"] for row in page["rows"]] == seqs


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"status": "abc"}, "status", id="status"),
        pytest.param({"matched": "maybe"}, "matched", id="matched"),
        pytest.param({"limit": "0"}, "limit", id="limit-zero"),
        pytest.param({"limit": "100000"}, "limit", id="limit-too-big"),
        pytest.param({"before": "-1"}, "before", id="before"),
        pytest.param({"methd": "GET"}, "methd", id="unknown"),
    ],
)
async def test_a_filter_that_cannot_be_used_is_400_naming_it(
    ui: tuple[MockServer, httpx.AsyncClient], query: dict[str, str], field: str
) -> None:
    _, client = ui
    answer = await client.get(API + "requests", params=query)
    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == [field]


async def test_detail_decodes_bodies_and_explains_misses(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = ui
    server.stub({"method": "POST", "path": "/form", "form": {"user.name": "Bob"}}, name="form")
    await client.post(
        "/form?tags[]=a&tags[]=b",
        content="user%5Bname%5D=Anna&user%5Bphones%5D%5B%5D=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    detail = (await client.get(API + "requests/1")).json()
    assert detail["body"]["kind"] == "form"
    assert detail["body"]["value"] == {"user": {"name": "Anna", "phones": ["1"]}}
    assert detail["query"] == {"tags": ["a", "b"]}
    assert detail["answered_by"] is None
    (miss,) = detail["near_misses"]
    assert miss["label"].startswith("stub 'form'")
    assert miss["mismatches"] == [
        {"field": "form.user.name", "expected": "equal 'Bob'", "actual": "'Anna'"}
    ]
    assert (await client.get(API + "requests/99")).status_code == 404
    assert (await client.get(API + "requests/abc")).status_code == 404


async def test_detail_names_the_stub_file_and_line(
    ui: tuple[MockServer, httpx.AsyncClient], tmp_path: Any
) -> None:
    server, client = ui
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text(
        "stubs:\n  - name: first\n    request: {path: /one}\n"
        "  - name: second\n    request: {path: /two}\n    response: {json: {a: 1}}\n"
    )
    server.add_many(load_stub_file(stubs))
    await client.post("/two", json={"deep": {"list": [1, {"x": None}]}})
    detail = (await client.get(API + "requests/1")).json()
    assert detail["answered_by"]["source"] == f"{stubs}:4"
    assert detail["answered_by"]["calls"] == 1
    assert detail["body"] == {
        "kind": "json",
        "value": {"deep": {"list": [1, {"x": None}]}},
        "text": '{"deep":{"list":[1,{"x":null}]}}',
        "cut": False,
    }
    listed = (await client.get(API + "stubs")).json()["stubs"]
    assert {stub["name"]: (stub["source"], stub["calls"]) for stub in listed} == {
        "first": (f"{stubs}:2", 0),
        "second": (f"{stubs}:4", 1),
    }


async def test_crm_view_shows_records_calls_faults_and_webhooks(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = ui
    from mockserver.crm import CrmFault

    portal = server.mount(Bitrix24(secret="s3cret"))
    portal.add_fault(CrmFault(method="crm.deal.add", call=1))
    await client.post("/rest/1/s3cret/crm.lead.add.json", data={"fields[TITLE]": "From the bot"})
    (profile,) = (await client.get(API + "crm")).json()["profiles"]
    assert profile["name"] == "bitrix24"
    (leads,) = profile["entities"]
    assert leads["count"] == 1
    assert leads["records"][0]["TITLE"] == "From the bot"
    assert profile["calls"][0]["method"] == "crm.lead.add"
    assert profile["faults"][0]["method"] == "crm.deal.add"
    assert profile["webhooks"][0]["path"] == "/rest/1/s3cret/"
    detail = (await client.get(API + "requests/1")).json()
    assert detail["answered_by"] == {"crm": "bitrix24"}


async def test_actions_need_the_same_origin(ui: tuple[MockServer, httpx.AsyncClient]) -> None:
    server, client = ui
    stub = server.stub({"path": "/x"})
    await client.get("/x")
    for headers in (
        {},  # no Origin: a change must say where it comes from
        {"Origin": "http://evil.example", "Content-Type": "application/json"},
        {"Origin": server.url, "Content-Type": "text/plain"},  # a form could send this
        {"Origin": server.url, "Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
    ):
        answer = await client.post(API + "clear-journal", headers=headers, content=b"{}")
        assert answer.status_code in (403, 415), headers
    assert len(server.journal) == 1
    cleared = await client.post(API + "clear-journal", headers=_same_origin(server), content=b"{}")
    assert cleared.status_code == 204
    assert len(server.journal) == 0
    gone = await client.delete(API + f"stubs/{stub.id}", headers={"Origin": server.url})
    assert gone.status_code == 204
    assert len(server.registry) == 0
    again = await client.delete(API + f"stubs/{stub.id}", headers={"Origin": server.url})
    assert again.status_code == 404
    server.stub({"path": "/y"})
    reset = await client.post(API + "reset", headers=_same_origin(server), content=b"{}")
    assert reset.status_code == 204
    assert len(server.registry) == 0


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil.example:{port}"],
)
async def test_a_foreign_host_is_refused(
    ui: tuple[MockServer, httpx.AsyncClient], host: str
) -> None:
    server, client = ui
    answer = await client.get(API + "overview", headers={"Host": host.format(port=server.port)})
    assert answer.status_code == 403
    assert "Host" in answer.json()["detail"]


async def test_the_dashboard_api_answers_only_to_this_servers_host_names(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = ui
    for host, status in [
        (f"127.0.0.1:{server.port}", 200),
        (f"localhost:{server.port}", 200),
        (f"10.0.0.5:{server.port}", 403),
        (f"attacker.example:{server.port}", 403),
        ("127.0.0.1:1", 403),
    ]:
        answer = await client.get(API + "overview", headers={"Host": host})
        assert answer.status_code == status, (host, answer.text)


async def test_reads_from_another_origin_are_refused(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    _, client = ui
    answer = await client.get(API + "requests", headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403


async def test_the_admin_token_guards_the_api_not_the_page(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = ui
    server.admin_token = "t0ken"  # type: ignore[attr-defined]
    assert (await client.get(UI_PREFIX)).status_code == 200
    refused = await client.get(API + "overview")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = await client.get(API + "overview", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    good = await client.get(API + "overview", headers={"Authorization": "Bearer t0ken"})
    assert good.status_code == 200
    assert good.json()["token_required"] is True
    headers = _same_origin(server) | {"Authorization": "Bearer nope"}
    assert (await client.post(API + "reset", headers=headers, content=b"{}")).status_code == 401


async def test_the_feed_pushes_new_rows_through_the_filter(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    import asyncio

    server, client = ui
    server.stub({"path": "/hit"})
    seen: list[str] = []
    totals: list[int] = []
    async with (
        asyncio.timeout(60),
        client.stream("GET", API + "events", params={"matched": "unmatched"}) as stream,
    ):
        assert stream.headers["content-type"] == "text/event-stream"
        assert "default-src 'self'" in stream.headers["content-security-policy"]
        name = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            if not line.startswith("data: "):
                continue
            data = json.loads(line.removeprefix("data: "))
            if name == "hello":  # the feed reports what comes after this
                await client.get("/hit")
                await client.get("/nothing-here")
            elif name == "rows":
                seen += [row["url"] for row in data["rows"]]
                totals.append(data["total"])
                if "/nothing-here" in seen:
                    break
    assert seen == ["/nothing-here"]  # /hit was matched: filtered out
    assert totals[-1] == 2


async def test_the_feed_says_when_the_journal_was_cleared(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    import asyncio

    server, client = ui
    await client.get("/a")
    names: list[str] = []
    async with asyncio.timeout(60), client.stream("GET", API + "events") as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("event: "):
                continue
            names.append(line.removeprefix("event: "))
            if names[-1] == "hello":
                server.reset_requests()
            if names[-1] == "reset":
                break
    assert names == ["hello", "reset"]


async def test_live_feeds_are_limited(ui: tuple[MockServer, httpx.AsyncClient]) -> None:
    from mockserver.ui.handlers import MAX_WATCHERS

    server, client = ui
    server.dashboard.watchers = MAX_WATCHERS  # as if that many pages watched
    answer = await client.get(API + "events")
    assert answer.status_code == 503


async def test_a_flood_is_sent_as_its_newest_rows(ui: tuple[MockServer, httpx.AsyncClient]) -> None:
    import asyncio

    from mockserver.ui.handlers import FEED_ROWS

    server, client = ui
    got: dict[str, Any] = {}
    async with asyncio.timeout(60), client.stream("GET", API + "events") as stream:
        name = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            if not line.startswith("data: "):
                continue
            if name == "hello":
                # 150 requests between two looks of the feed (no await in between).
                for number in range(FEED_ROWS + 50):
                    arrive(server, f"/flood/{number}")
            elif name == "rows":
                got = json.loads(line.removeprefix("data: "))
                break
    assert got["skipped"] == 50
    assert [row["seq"] for row in got["rows"]] == list(range(150, 50, -1))
    assert got["total"] == 150


def test_the_cli_names_the_dashboard_and_serves_it() -> None:
    import signal

    from tests.cli import spawn_mockserver

    process = spawn_mockserver("--quiet")
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        found = re.search(r"dashboard at (http://127\.0\.0\.1:\d+/__admin/ui/)", banner)
        assert found, banner
        page = httpx.get(found.group(1), timeout=30)
        assert page.status_code == 200
        assert "mockserver dashboard" in page.text
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0


async def test_a_page_that_goes_away_frees_its_feed(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    import asyncio

    server, client = ui
    async with client.stream("GET", API + "events") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event: hello"):
                break
        assert server.dashboard.watchers == 1
    async with asyncio.timeout(30):  # the next look at the journal sees the closed socket
        while server.dashboard.watchers:
            await asyncio.sleep(0.05)
    assert server.dashboard.watchers == 0


def test_the_admin_apis_guard_is_used_when_the_server_has_one() -> None:
    """The dashboard takes the admin API's own door (``server.admin_guard``) when there is
    one, and adds only its rule that a change names its Origin."""
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from mockserver.ui.guard import refusal

    seen: list[bool] = []

    class Door:
        def check(self, request: web.BaseRequest, *, api: bool = True) -> web.Response | None:
            seen.append(api)
            return web.Response(status=418) if "X-Refuse" in request.headers else None

    class Guarded(MockServer):
        admin_guard = Door()  # (a property of the admin API's, where it has one)

    server = Guarded(port=8080)
    refused = make_mocked_request("GET", "/__admin/ui/api/stubs", headers={"X-Refuse": "1"})
    answer = refusal(refused, server, write=False)
    assert answer is not None
    assert answer.status == 418
    page = make_mocked_request("GET", "/__admin/ui/", headers={"Host": "elsewhere.example"})
    assert refusal(page, server, write=False, api=False) is None  # the door said yes
    change = make_mocked_request("POST", "/__admin/ui/api/reset", headers={"Host": "x"})
    answer = refusal(change, server, write=True)
    assert answer is not None
    assert answer.status == 403
    same = {"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.1:8080"}
    assert refusal(make_mocked_request("POST", "/x", headers=same), server, write=True) is None
    assert seen == [True, False, True, True]


async def test_rows_name_the_stub_that_answered_them(
    ui: tuple[MockServer, httpx.AsyncClient],
) -> None:
    """The journal page and the live feed give each row its stub's name, looked up by id
    (a map of every stub's name was built for each page and each look of the feed)."""
    from mockserver.ui.feed import rows_message
    from mockserver.ui.queries import JournalFilter

    server, client = ui
    named = server.add({"name": "the promo", "request": {"path": "/named"}})
    server.add({"request": {"path": "/plain"}})
    for path in ("/named", "/plain", "/none"):
        await client.get(path)
    page = (await client.get(API + "requests")).json()
    assert [(row["url"].rsplit("/", 1)[1], row["stub_name"]) for row in page["rows"]] == [
        ("none", None),
        ("plain", None),
        ("named", "the promo"),
    ]
    message = rows_message(server, server.journal.newest(3), 3, JournalFilter())
    data = json.loads(message.decode().split("data: ", 1)[1])
    assert [row["stub_name"] for row in data["rows"]] == [None, None, "the promo"]
    server.remove(named.id)  # a stub removed since names nothing, as before
    page = (await client.get(API + "requests")).json()
    assert [row["stub_name"] for row in page["rows"]] == [None, None, None]


def test_the_journal_gives_its_newest_entries_oldest_first() -> None:
    server = MockServer()
    arrive(server, "/a", 5)
    assert [entry.seq for entry in server.journal.newest(2)] == [4, 5]
    assert [entry.seq for entry in server.journal.newest(9)] == [1, 2, 3, 4, 5]
    assert server.journal.newest(0) == []
