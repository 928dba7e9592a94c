"""The dashboard's live feed in headless Chromium (a ninth probe): a page of another
domain pointed at the server (DNS rebinding) cannot read it, and a page whose feed was
cut reads the requests that came meanwhile when it is back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mockserver import MockServer
from mockserver.ui.feed import MAX_WATCHERS
from tests.browser import Browser, require_browser, screenshot_dir
from tests.journal_rows import arrive

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

#: The rebinding: the browser resolves this name to the server's own address.
EVIL = "evil.example"

PAGE = """<!doctype html><title>waiting</title><script>
const seen = {};
const report = () => { document.title = JSON.stringify(seen); };
for (const [name, url] of [["self", "/rebound"], ["feed", "/__admin/ui/api/events"],
                           ["journal", "/__admin/ui/api/requests"]]) {
  fetch(url).then((r) => { seen[name] = r.status; report(); },
                  () => { seen[name] = "error"; report(); });
}
</script>"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require_browser()
    made = Browser(
        screenshot_dir(tmp_path_factory),
        (f"--host-resolver-rules=MAP {EVIL} 127.0.0.1",),
    )
    yield made
    made.close()


def test_a_rebinding_page_cannot_read_the_live_feed(browser: Browser) -> None:
    with MockServer() as server:
        server.add(
            {
                "request": {"path": "/rebound"},
                "response": {
                    "headers": {"Content-Type": "text/html"},
                    "text": PAGE,
                    "template": False,
                },
            }
        )
        # To the browser this page and the dashboard's API are the same origin.
        browser.open(f"http://{EVIL}:{server.port}/rebound")

        def reported() -> dict[str, object] | None:
            title = str(browser.driver.title)
            seen = json.loads(title) if title.startswith("{") else {}
            return seen if len(seen) == 3 else None

        seen = browser.wait(reported, "the page's three fetches")
        assert seen == {"self": 200, "feed": 403, "journal": 403}
        assert server.dashboard.watchers == 0


def _state(browser: Browser) -> str:
    return str(browser.js("return document.getElementById('live').dataset.state"))


def _urls(browser: Browser) -> list[str]:
    return list(
        browser.js(
            "return [...document.querySelectorAll('#journal-body tr td:nth-child(4)')]"
            ".map((td) => td.textContent)"
        )
    )


def test_a_page_back_after_its_feed_was_cut_shows_what_came_meanwhile(
    browser: Browser,
) -> None:
    with MockServer() as server:
        port = server.port
        browser.open(f"{server.url}/__admin/ui/#/journal")
        browser.wait(lambda: _state(browser) == "live", "the live feed")
    # The server went away (restarted, or it cut a page that fell behind): reconnecting.
    browser.wait(lambda: _state(browser) == "down", "the page reconnecting")
    with MockServer(port=port) as again:
        again.dashboard.watchers = MAX_WATCHERS  # the page's tries are turned away (503)
        arrive(again, "/came-while-the-page-was-away")
        again.dashboard.watchers = 0
        browser.wait(lambda: _state(browser) == "live", "the feed back")
        browser.wait(
            lambda: "/came-while-the-page-was-away" in _urls(browser),
            "the request that came while the feed was cut",
        )
        browser.wait(
            lambda: browser.text("#summary") == "1 request(s) journaled", "the count read anew"
        )
        browser.screenshot("feed-back-after-a-cut")
