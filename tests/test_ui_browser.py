"""The dashboard in a real browser (headless Chromium): live journal, filters, near misses,
stubs, states, fake CRMs, actions, the admin token, and hostile payloads that stay text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM, Bitrix24
from mockserver.files import load_stub_file
from tests.browser import Browser, require_browser, screenshot_dir
from tests.journal_rows import arrive

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require_browser()
    made = Browser(screenshot_dir(tmp_path_factory))
    yield made
    made.close()


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def client(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as made:
        yield made


def _open(browser: Browser, server: MockServer, view: str = "journal") -> None:
    browser.open(f"{server.url}/__admin/ui/#/{view}")
    browser.wait(
        lambda: (
            browser.js("return document.getElementById('view').dataset.view") == view.split("/")[0]
        ),
        f"the {view} view",
    )


def _live(browser: Browser) -> None:
    browser.wait(
        lambda: browser.js("return document.getElementById('live').dataset.state") == "live",
        "the live feed",
    )


def _seqs(browser: Browser) -> list[int]:
    return [
        int(n)
        for n in browser.js(
            "return [...document.querySelectorAll('#journal-body tr[data-seq]')]"
            ".map(r => r.dataset.seq)"
        )
    ]


def test_requests_appear_live_and_filter_on_the_server(
    browser: Browser, server: MockServer, client: httpx.Client
) -> None:
    server.stub({"method": "GET", "path": "/hello"}, {"status": 200}, name="hello")
    _open(browser, server)
    _live(browser)
    browser.js("window.__same_page = true")
    client.get("/hello")
    browser.wait(lambda: _seqs(browser) == [1], "request #1 in the table")
    for path in ("/missing/a", "/hello", "/missing/b"):
        client.get(path)
    client.post("/orders", json={"id": 7})
    browser.wait(lambda: _seqs(browser) == [5, 4, 3, 2, 1], "requests #2-#5 live")
    # Live: no reload happened.
    assert browser.js("return window.__same_page") is True
    assert "no stub matched" in browser.text("#journal-body tr[data-seq='2']")
    assert "hello (" in browser.text("#journal-body tr[data-seq='1']")  # the stub's name
    browser.screenshot("journal-live")

    from selenium.webdriver.support.ui import Select

    Select(browser.css("select[name=matched]")[0]).select_by_value("unmatched")
    browser.wait(lambda: _seqs(browser) == [5, 4, 2], "only unmatched requests")
    browser.css("input[name=path]")[0].send_keys("missing")
    browser.wait(lambda: _seqs(browser) == [4, 2], "unmatched requests under /missing")
    # The live feed follows the filter: a matched request does not show, an unmatched one does.
    client.get("/hello")
    client.get("/missing/c")
    browser.wait(lambda: _seqs(browser) == [7, 4, 2], "the new unmatched request")
    browser.screenshot("journal-filtered")
    Select(browser.css("select[name=method]")[0]).select_by_value("POST")
    browser.wait(lambda: _seqs(browser) == [], "no POST under /missing")
    assert "No request passes this filter." in browser.text("#journal-body")
    assert browser.console_errors() == []


def test_a_flood_shows_its_newest_rows_and_a_clear_empties_the_page(
    browser: Browser, server: MockServer
) -> None:

    _open(browser, server)
    _live(browser)

    def flood(count: int) -> None:
        for number in range(count):
            arrive(server, f"/flood/{number}")

    flood(300)  # more than one message of the feed carries
    browser.wait(lambda: _seqs(browser)[:1] == [300], "the newest of the flood")
    browser.wait(lambda: len(_seqs(browser)) == 100, "a full first page")
    assert "older ones follow" in browser.text("#journal-info")
    assert browser.js("return document.querySelectorAll('#journal-body tr.fresh').length") == 0
    browser.css("#older")[0].click()
    browser.wait(lambda: _seqs(browser)[:1] == [200], "the older rows of the flood")
    server.reset_requests()
    browser.wait(
        lambda: "No request yet" in browser.text("#journal-body"), "the page emptied by the clear"
    )


def test_paging_walks_older_pages(
    browser: Browser, server: MockServer, client: httpx.Client
) -> None:
    for number in range(250):
        client.get(f"/page/{number}")
    _open(browser, server)
    browser.wait(lambda: len(_seqs(browser)) == 100 and _seqs(browser)[0] == 250, "the first page")
    browser.css("#older")[0].click()
    browser.wait(lambda: _seqs(browser)[:1] == [150], "the second page")
    browser.css("#older")[0].click()
    browser.wait(lambda: _seqs(browser)[:1] == [50] and len(_seqs(browser)) == 50, "the last page")
    assert browser.js("return document.getElementById('older').disabled") is True
    browser.css("#newer")[0].click()
    browser.wait(lambda: _seqs(browser)[:1] == [150], "back to the second page")


def test_a_near_miss_explains_an_unmatched_request(
    browser: Browser, server: MockServer, client: httpx.Client
) -> None:
    server.stub(
        {"method": "POST", "path": "/api/orders", "json": {"status": "paid"}},
        {"status": 201},
        name="paid orders",
    )
    client.post("/api/orders", json={"status": "pending", "items": [{"sku": "A-1", "qty": 2}]})
    client.post(
        "/form",
        content="user%5Bname%5D=Anna&user%5Btags%5D%5B%5D=vip",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _open(browser, server)
    browser.wait(lambda: _seqs(browser) == [2, 1], "two requests")
    from selenium.webdriver.common.keys import Keys

    row = browser.css("#journal-body tr[data-seq='1']")[0]
    browser.js("arguments[0].focus()", row)
    row.send_keys(Keys.ENTER)  # rows open from the keyboard too
    browser.wait(lambda: browser.css("#answer .near-miss"), "the near-miss table")
    miss = browser.text("#answer .near-miss")
    assert "paid orders" in miss
    assert "json.status" in miss
    assert "'paid'" in miss
    assert "'pending'" in miss
    tree = browser.text("#body-tree")
    assert "sku" in tree
    assert '"A-1"' in tree
    browser.screenshot("request-near-miss")
    browser.open(f"{server.url}/__admin/ui/#/request/2")
    browser.wait(lambda: "Anna" in browser.text("#body-tree"), "the decoded form")
    tree = browser.text("#body-tree")
    assert "name" in tree
    assert "tags" in tree
    assert '"vip"' in tree
    assert "user%5Bname%5D" in browser.text("#body-raw")
    browser.screenshot("request-form-body")


def test_stubs_with_sources_and_the_actions(
    browser: Browser, server: MockServer, client: httpx.Client, tmp_path: Path
) -> None:
    stubs = tmp_path / "crm.yaml"
    stubs.write_text(
        "stubs:\n  - name: leads\n    request: {method: POST, path: /leads}\n"
        "  - name: ping\n    request: {path: /ping}\n"
    )
    server.add_many(load_stub_file(stubs))
    server.stub({"path": "/from-python"}, name="python")
    client.get("/ping")
    client.get("/ping")
    _open(browser, server, "stubs")
    browser.wait(lambda: len(browser.css("#stubs tbody tr")) == 3, "three stubs")
    shown = browser.js(
        "return Object.fromEntries([...document.querySelectorAll('#stubs tbody tr')]"
        ".map(r => [r.children[1].textContent,"
        " [r.querySelector('.calls').textContent, r.children[4].textContent]]))"
    )
    assert shown == {
        "leads": ["0", f"{stubs}:2"],
        "ping": ["2", f"{stubs}:4"],
        "python": ["0", "API / Python"],
    }
    browser.screenshot("stubs")
    python = next(s for s in server.stubs if s.name == "python")
    browser.css(f"#stubs tr[data-id='{python.id}'] button.remove")[0].click()
    browser.wait(lambda: len(browser.css("#stubs tbody tr")) == 2, "the stub removed")
    assert len(server.registry) == 2
    browser.css("#clear-journal")[0].click()
    browser.wait(lambda: len(server.journal) == 0, "the journal cleared")
    reset = browser.css("#reset")[0]
    reset.click()  # the first click arms it
    assert len(server.registry) == 2
    browser.wait(lambda: "armed" in (reset.get_attribute("class") or ""), "the armed reset")
    reset.click()
    browser.wait(lambda: len(server.registry) == 0, "the reset")
    browser.wait(lambda: "No stub is registered." in browser.text("main"), "the empty stub list")


def test_scenario_states(browser: Browser, server: MockServer, client: httpx.Client) -> None:
    server.stub(
        {"method": "POST", "path": "/checkout"},
        {"status": 201},
        state={"scenario": "cart", "set": "paid"},
    )
    client.post("/checkout")
    _open(browser, server, "states")
    browser.wait(lambda: browser.css("#states"), "the states table")
    assert "cart" in browser.text("#states")
    assert "paid" in browser.text("#states")
    browser.screenshot("states")


def test_the_fake_crms(browser: Browser, server: MockServer, client: httpx.Client) -> None:
    from mockserver.crm import CrmFault

    portal = server.mount(Bitrix24(secret="hooksecret"))
    portal.add_fault(CrmFault(method="crm.deal.add", call=2, status=503, code="OVERLOAD"))
    account = server.mount(AmoCRM(subdomain="shop"))
    token = account.issue_token("bot")
    for title in ("Lead from the bot", "Second lead"):
        answer = client.post("/rest/1/hooksecret/crm.lead.add.json", data={"fields[TITLE]": title})
        assert answer.status_code == 200
    answer = client.post(
        "/amocrm/shop/api/v4/contacts",
        json=[{"name": "Anna"}],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    _open(browser, server, "crm")
    browser.wait(lambda: len(browser.css("section.crm")) == 2, "two fake CRMs")
    bitrix = browser.text("section.crm[data-profile=bitrix24]")
    assert "lead: 2 record(s)" in bitrix
    assert "Lead from the bot" in bitrix
    assert "Second lead" in bitrix
    assert "crm.lead.add" in bitrix
    assert "OVERLOAD" in bitrix
    assert "/rest/1/hooksecret/" in bitrix
    amo = browser.text("section.crm[data-profile=amocrm]")
    assert "Anna" in amo
    assert token in amo
    assert "bot" in amo
    browser.screenshot("crm")


def test_the_admin_token_is_asked_for(
    browser: Browser, server: MockServer, client: httpx.Client
) -> None:
    server.admin_token = "let-me-in"  # type: ignore[attr-defined]
    client.get("/guarded")
    browser.open(f"{server.url}/__admin/ui/#/journal")
    browser.js("sessionStorage.clear()")
    browser.open(f"{server.url}/__admin/ui/#/journal")
    browser.wait(lambda: browser.css("#token-form:not([hidden])"), "the token form")
    # The feed waits for the token instead of knocking every second.
    browser.wait(
        lambda: browser.js("return document.getElementById('live').dataset.state") == "locked",
        "the feed waiting for the token",
    )
    assert not browser.css("#journal-body tr[data-seq]")
    browser.screenshot("token-asked")
    browser.css("#token-input")[0].send_keys("let-me-in")
    browser.css("#token-form button")[0].click()
    browser.wait(lambda: _seqs(browser) == [1], "the journal, with the token")
    _live(browser)
    client.get("/guarded-too")
    browser.wait(lambda: _seqs(browser) == [2, 1], "a live request, with the token")
    browser.js("sessionStorage.clear()")


HOSTILE = [
    "<script>window.__pwned='script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    '"><svg onload="window.__pwned=\'svg\'">',
    "javascript:window.__pwned='link'",
]


def test_hostile_payloads_stay_text(
    browser: Browser, server: MockServer, client: httpx.Client
) -> None:
    server.stub({"path": "/safe"}, name=HOSTILE[1])
    # In the path, the query, the headers, a JSON body and a form body.
    client.get("/" + HOSTILE[0], params={"q": HOSTILE[2], HOSTILE[1]: "x"})
    client.get(
        "/safe",
        headers={"X-Evil": HOSTILE[1], "Referer": HOSTILE[3], "X-Link": HOSTILE[3]},
    )
    client.post("/json", json={HOSTILE[0]: HOSTILE[1], "link": HOSTILE[3], "nested": [HOSTILE[2]]})
    client.post(
        "/form",
        data={f"user[{HOSTILE[1]}]": HOSTILE[0], "url": HOSTILE[3]},
    )
    _open(browser, server)
    browser.wait(lambda: _seqs(browser) == [4, 3, 2, 1], "the hostile requests")
    journal = browser.text("#journal-body")
    assert HOSTILE[0] in journal  # the path, as text
    browser.screenshot("hostile-journal")
    # What would have been markup, visible as text (quotes may be escaped in JSON views).
    marks = ("<script>window.__pwned=", "<img src=x onerror=", "<svg onload=", "javascript:window")
    for seq, expected in ((1, marks[2]), (2, marks[3]), (3, marks[1]), (4, marks[0])):
        browser.open(f"{server.url}/__admin/ui/#/request/{seq}")
        browser.wait(lambda seq=seq: f"#{seq} " in browser.text("#request-line"), f"request #{seq}")
        page = browser.text("main")
        assert expected in page, (seq, expected)
        if seq == 4:
            assert "user" in browser.text("#body-tree")
            assert marks[1] in browser.text("#body-tree")
        browser.screenshot(f"hostile-request-{seq}")
        assert browser.js("return typeof window.__pwned") == "undefined"
        # No element came from the payloads: none of them is in the DOM as an element.
        assert (
            browser.js("return document.querySelectorAll('main script, main img, main svg').length")
            == 0
        )
    browser.open(f"{server.url}/__admin/ui/#/request/1")
    browser.wait(lambda: browser.css("#answer .near-miss"), "the hostile stub's near miss")
    assert marks[1] in browser.text("#answer")  # the stub's name, as text
    assert browser.js("return typeof window.__pwned") == "undefined"
    # A stub's name in the stub list, and a CRM record's fields, are text too.
    portal = server.mount(Bitrix24(secret="hostile"))
    answer = client.post(
        "/rest/1/hostile/crm.lead.add.json",
        data={"fields[TITLE]": HOSTILE[1], "fields[COMMENTS]": HOSTILE[0]},
    )
    assert answer.status_code == 200, answer.text
    assert portal.records("lead")
    _open(browser, server, "stubs")
    browser.wait(lambda: marks[1] in browser.text("#stubs"), "the hostile stub name")
    _open(browser, server, "crm")
    browser.wait(lambda: marks[1] in browser.text("section.crm"), "the hostile lead")
    assert marks[0] in browser.text("section.crm")
    browser.screenshot("hostile-crm")
    assert browser.js("return typeof window.__pwned") == "undefined"
    assert (
        browser.js("return document.querySelectorAll('main script, main img, main svg').length")
        == 0
    )
    assert not [error for error in browser.console_errors() if "__pwned" in error]


def test_a_crm_request_reads_in_progress_then_its_answer(
    browser: Browser, server: MockServer, client: httpx.Client
) -> None:
    # It read "no answer" while the CRM worked, and still after, until a reload.
    import asyncio
    import socket
    import threading

    from aiohttp import web

    from mockserver import RecordedRequest
    from mockserver.crm import CrmProfile

    go = threading.Event()  # set by the test's thread; the server's loop waits off-loop

    class Held(CrmProfile):
        name = "held"

        def claims(self, record: RecordedRequest) -> bool:
            return record.path == "/crm"

        async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.Response:
            await asyncio.to_thread(go.wait, 60)
            return web.json_response({"ok": True})

    server.mount(Held())
    _open(browser, server)
    _live(browser)
    browser.console_errors()  # drained: an earlier test's page had its feed cut
    browser.js("window.__same_page = true")
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as raw:
        raw.sendall(
            b"POST /crm HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\n{}"
        )
        row = "#journal-body tr[data-seq='1']"
        browser.wait(lambda: _seqs(browser) == [1], "the CRM's request in the table")
        assert "in progress" in browser.text(row)
        go.set()
        assert raw.recv(12) == b"HTTP/1.1 200"
    browser.wait(lambda: "200" in browser.text(row), "the CRM's answer in its row")
    assert "in progress" not in browser.text(row)
    assert browser.js("return window.__same_page") is True
    assert browser.console_errors() == []
