"""The dashboard in headless Chromium (a fifth probe): the page's one element builder
never sets a link elsewhere or a handler from text, stub ids a browser would resolve
away can be removed, and hostile scenario names and states stay text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver import MockServer
from tests.browser import Browser, require_browser, screenshot_dir

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

PWNED = "window.__pwned='{}'"


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


def _open(browser: Browser, server: MockServer, view: str) -> None:
    browser.open(f"{server.url}/__admin/ui/#/{view}")
    browser.wait(
        lambda: browser.js("return document.getElementById('view').dataset.view") == view,
        f"the {view} view",
    )


def test_the_element_builder_sets_only_links_to_the_pages_own_views(
    browser: Browser, server: MockServer
) -> None:
    # dom.js named the URL attributes "refused" and then set every one as given.
    _open(browser, server, "journal")
    attributes = browser.js(
        """
        const { h } = await import('/__admin/ui/static/dom.js');
        const node = h('a', {
          href: "javascript:window.__pwned='href'", src: 'https://evil.example/x.js',
          formaction: 'https://evil.example/', onerror: "window.__pwned='onerror'",
          onmouseover: "window.__pwned='onmouseover'", title: 'kept',
        });
        const names = ['href', 'src', 'formaction', 'onerror', 'onmouseover', 'title'];
        const own = [h('a', { href: '#/journal' }), h('a', { href: '#/request/12' })];
        return [names.map((n) => node.getAttribute(n)), own.map((a) => a.getAttribute('href'))];
        """
    )
    assert attributes == [[None, None, None, None, None, "kept"], ["#/journal", "#/request/12"]]
    assert browser.js("return typeof window.__pwned") == "undefined"


@pytest.mark.parametrize("stub_id", [".", "..", "a.b", "<img src=x onerror=alert(1)>"])
def test_a_stub_is_removed_from_the_dashboard_whatever_its_id(
    browser: Browser, server: MockServer, stub_id: str
) -> None:
    # encodeURIComponent keeps '.': DELETE stubs/.. was resolved to the API's root (404).
    server.add({"id": stub_id, "request": {"path": "/gone"}})
    server.add({"id": "kept", "request": {"path": "/kept"}})
    _open(browser, server, "stubs")
    browser.wait(lambda: len(browser.css("#stubs button.remove")) == 2, "both stubs listed")
    rows = browser.css("#stubs tbody tr")
    (row,) = [row for row in rows if row.get_attribute("data-id") == stub_id]
    row.find_element("css selector", "button.remove").click()
    browser.wait(lambda: [stub.id for stub in server.stubs] == ["kept"], f"stub {stub_id!r} gone")
    assert browser.js("return document.getElementById('error').hidden") is True
    assert browser.js("return typeof window.__pwned") == "undefined"


def test_hostile_scenario_names_and_states_stay_text(
    browser: Browser, server: MockServer, tmp_path: Path
) -> None:
    scenario = f'<img src=x onerror="{PWNED.format("scenario")}">'
    state = f'<svg onload="{PWNED.format("state")}">'
    key = f"<script>{PWNED.format('key')}</script>"
    server.add(
        {
            "request": {"path": "/step"},
            "state": {"scenario": scenario, "required": "Started", "set": state},
        }
    )
    server.set_state(scenario, state, key=key)
    assert httpx.get(server.url + "/step").status_code == 200
    _open(browser, server, "states")
    browser.wait(lambda: state in browser.text("main"), "the hostile state, as text")
    page = browser.text("main")
    assert scenario in page
    assert key in page
    assert browser.js("return typeof window.__pwned") == "undefined"
    assert (
        browser.js("return document.querySelectorAll('main img, main svg, main script').length")
        == 0
    )


@pytest.mark.parametrize(
    ("query", "status", "left"),
    [
        pytest.param("id=..", 204, ["x"], id="dot-dot"),
        pytest.param("id=..&id=x", 400, ["..", "x"], id="two-ids"),
        pytest.param("id=..&all=1", 400, ["..", "x"], id="another-parameter"),
        pytest.param("id=nope", 404, ["..", "x"], id="unknown"),
    ],
)
def test_the_remove_call_takes_one_id_in_the_query(
    server: MockServer, query: str, status: int, left: list[str]
) -> None:
    server.add({"id": "..", "request": {"path": "/a"}})
    server.add({"id": "x", "request": {"path": "/b"}})
    answer = httpx.delete(
        f"{server.url}/__admin/ui/api/stubs?{query}", headers={"Origin": server.url}
    )
    assert answer.status_code == status, answer.text
    assert sorted(stub.id for stub in server.stubs) == left


def test_the_remove_call_needs_this_servers_origin(server: MockServer) -> None:
    server.add({"id": "..", "request": {"path": "/a"}})
    for headers in ({}, {"Origin": "http://evil.example"}):
        answer = httpx.delete(f"{server.url}/__admin/ui/api/stubs?id=..", headers=headers)
        assert answer.status_code == 403
    assert [stub.id for stub in server.stubs] == [".."]
