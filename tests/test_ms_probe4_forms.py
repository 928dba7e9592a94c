"""Form and query bodies read as PHP reads them, in time linear in their size, and any
bracket key is data: ``a[²]`` (``str.isdigit`` says yes, ``int`` says no) and a key of
5 000 digits were 500s with a traceback, and each ``a[]`` read every key of its node
(1 300 appends in one query took 0.2 s; a form of 200 000, hours)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.forms import parse_php_form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a[%C2%B2]=1&a[]=2", {"a": {"²": "1", "0": "2"}}, id="superscript-two"),
        pytest.param("a[%D9%A3]=1&a[]=2", {"a": {"٣": "1", "0": "2"}}, id="arabic-three"),
        pytest.param("a[007]=1&a[]=2", {"a": {"007": "1", "0": "2"}}, id="leading-zero"),
        pytest.param("a[5]=1&a[]=2&a[]=3", {"a": {"5": "1", "6": "2", "7": "3"}}, id="after-5"),
        pytest.param("a[]=1&a[]=2", {"a": ["1", "2"]}, id="list"),
        pytest.param("a[x][]=1&a[x]=s&a[y][]=2", {"a": {"x": "s", "y": ["2"]}}, id="replaced"),
        pytest.param(
            "a[9223372036854775807]=1&a[]=2", {"a": {"9223372036854775807": "1"}}, id="int-max"
        ),
    ],
)
def test_appends_follow_the_largest_integer_key_as_php_does(
    text: str, expected: dict[str, Any]
) -> None:
    assert parse_php_form(text) == expected


async def test_a_key_that_is_not_a_number_is_never_a_500() -> None:
    stubs = [
        {"request": {"path": "/q", "query": {"a.x": "1"}}},
        {"request": {"path": "/t"}, "response": {"text": "{request.query}"}},
    ]
    long_key = "9" * 5000
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        missed = await client.get("/q?a[%C2%B2]=1&a[]=2")
        assert missed.status_code == 404
        assert "query.a.x" in missed.text
        echoed = await client.get("/t?a[%C2%B2]=1&a[]=2")
        assert echoed.json() == {"a": {"²": "1", "0": "2"}}
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        posted = await client.post("/q", content=f"a[{long_key}]=1&a[]=2", headers=form)
        assert posted.status_code == 404
        assert [entry.status for entry in server.requests] == [404, 200, 404]


def _calls(run: Callable[[], object]) -> int:
    """How many functions ``run`` calls (Python and C): a count, not a time."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count


def test_appends_cost_the_same_each() -> None:
    def appends(count: int) -> Callable[[], object]:
        text = "&".join(["a[]=1"] * count)
        return lambda: parse_php_form(text)

    small, large = _calls(appends(400)), _calls(appends(1600))
    # Linear: four times the appends, about four times the calls (it was sixteen).
    assert large < 5 * small, (small, large)
    assert len(parse_php_form("&".join(["a[]=1"] * 1600))["a"]) == 1600


async def test_a_form_of_more_pairs_than_the_bound_is_not_read_as_a_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mockserver.journal

    monkeypatch.setattr(mockserver.journal, "MAX_FORM_PAIRS", 3)
    stubs = [{"request": {"method": "POST", "path": "/f", "form": {"a": "1"}}}]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        within = await client.post("/f", content="a=1&b=2&c=3", headers=form)
        assert within.status_code == 200
        past = await client.post("/f", content="a=1&b=2&c=3&d=4", headers=form)
        assert past.status_code == 404
        assert "form.a" in past.text
        assert [len(entry.body) for entry in server.requests] == [11, 15]  # the body is kept
