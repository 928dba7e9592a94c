"""No query, path or method the dashboard can be sent gets a 500 or a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mockserver import MockServer

NAMES = st.sampled_from(["method", "path", "status", "matched", "q", "before", "limit", "x"])
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["4xx", "none", "0", "-1", "1e3", "99999999999999999999", "unmatched"]),
)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        running.stub({"path": "/known"}, name="known")
        with httpx.Client(base_url=running.url) as client:
            client.get("/known")
            client.post("/unknown", json={"a": [1, {"b": None}]})
        yield running


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.dictionaries(NAMES, VALUES, max_size=4))
def test_journal_queries_are_answered_or_refused(
    server: MockServer, http: httpx.Client, query: dict[str, str]
) -> None:
    answer = http.get(f"{server.url}/__admin/ui/api/requests", params=query, timeout=30)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["errors"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    tail=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=30
    ),
)
def test_any_path_under_the_dashboard_is_answered(
    server: MockServer, http: httpx.Client, method: str, tail: str
) -> None:
    from urllib.parse import quote

    assume(not tail.startswith("api/events"))  # a stream, answered for as long as it is read
    url = f"{server.url}/__admin/ui/{quote(tail)}"
    headers = {"Origin": server.url, "Content-Type": "application/json"}
    answer = http.request(method, url, headers=headers, content=b"{}", timeout=30)
    assert answer.status_code < 500, (method, tail, answer.text)
    assert "Traceback" not in answer.text
