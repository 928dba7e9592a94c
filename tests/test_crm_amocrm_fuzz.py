"""Hostile input never makes the fake amoCRM answer 500: every route, bodies built from
the keys the API reads with values of any JSON type, and query strings of any shape."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import RecordedRequest
from mockserver.crm import AmoCRM

from .strategies import fuzz_examples

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from([1, 2, 101, 201, 2001, 142, "PHONE", "contacts", "common", "add_lead"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = [
    "id", "name", "price", "status_id", "pipeline_id", "request_id", "first_name",
    "custom_fields_values", "field_id", "field_code", "values", "value", "enum_id",
    "enum_code", "_embedded", "tags", "contacts", "companies", "tags_to_add",
    "tags_to_delete", "entity_id", "to_entity_id", "to_entity_type", "metadata",
    "note_type", "params", "text", "destination", "settings", "sort", "created_at",
    "color",
]  # fmt: skip
items = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), values, max_size=5),
    lambda inner: (
        st.dictionaries(st.sampled_from(KEYS), inner | values, max_size=4)
        | st.lists(inner, max_size=2)
    ),
    max_leaves=10,
)
bodies = st.one_of(values, items, st.lists(items, max_size=3))
ROUTES = [
    ("POST", "/leads"), ("PATCH", "/leads"), ("PATCH", "/leads/1"), ("POST", "/contacts"),
    ("POST", "/companies"), ("POST", "/leads/complex"), ("POST", "/leads/1/link"),
    ("POST", "/leads/1/unlink"), ("POST", "/contacts/link"), ("POST", "/leads/1/notes"),
    ("POST", "/leads/notes"), ("PATCH", "/leads/notes"), ("PATCH", "/leads/1/notes/1"),
    ("POST", "/webhooks"), ("DELETE", "/webhooks"), ("PATCH", "/contacts/1"),
    ("POST", "/leads/custom_fields"), ("POST", "/tasks"), ("PATCH", "/tasks"),
    ("POST", "/leads/unsorted/forms"), ("POST", "/leads/unsorted/sip"),
    ("POST", "/leads/tags"), ("POST", "/contacts/tags"),
]  # fmt: skip
LISTS = ["/leads", "/contacts", "/leads/notes", "/leads/1/links", "/account", "/webhooks",
         "/leads/custom_fields", "/leads/1", "/leads/tags", "/events", "/events/1"]  # fmt: skip
query_keys = st.sampled_from(
    ["filter[id]", "filter[id][]", "filter[price][from]", "filter[statuses][0][status_id]",
     "filter[custom_fields_values][201][]", "filter[custom_fields_values][x][from]",
     "filter", "order[id]", "order[name]", "order", "with", "query", "page", "limit",
     "filter[note_type][]", "filter[to_entity_type]", "filter[destination]",
     "filter[type]", "filter[entity][]", "filter[entity_id]", "filter[created_at][to]",
     "filter[value_after][leads_statuses][0][status_id]", "filter[name]"]
)  # fmt: skip


def account() -> AmoCRM:
    amo = AmoCRM()
    send(amo, "POST", "/leads", [{"name": "a"}])
    send(amo, "POST", "/contacts", [{"name": "b"}])
    send(amo, "POST", "/leads/1/notes", [{"note_type": "common", "params": {"text": "x"}}])
    return amo


def send(amo: AmoCRM, method: str, path: str, body: Any = None, query: str = "") -> int:
    content = b"" if body is None else json.dumps(body).encode()
    record = RecordedRequest(
        1,
        method,
        "/api/v4" + path,
        query,
        (("Content-Type", "application/json"),),
        content,
        datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    return amo.dispatch(record, path, "http://x/api/v4").status


@settings(max_examples=fuzz_examples(400), deadline=None)
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_writes_never_answer_500(route: tuple[str, str], body: Any) -> None:
    amo = account()
    method, path = route
    assert send(amo, method, path, body) in (200, 204, 400)
    for entity in ("leads", "contacts", "companies"):
        for record in amo.records(entity):  # what was stored can still be shown
            assert isinstance(record["id"], int)


@settings(max_examples=fuzz_examples(300), deadline=None)
@given(
    path=st.sampled_from(LISTS),
    pairs=st.lists(st.tuples(query_keys, st.text(max_size=6)), max_size=4),
)
def test_list_queries_never_answer_500(path: str, pairs: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    assert send(account(), "GET", path, query=urlencode(pairs)) in (200, 204, 400)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param(
            "POST",
            "/leads/complex",
            [
                {
                    "_embedded": {
                        "contacts": [{"name": "x", "_embedded": {"companies": [{"id": 99}]}}]
                    }
                }
            ],
            id="complex-contact-links-a-missing-company",
        ),
        pytest.param("PATCH", "/leads/notes", [{"id": []}], id="note-id-a-list"),
        pytest.param(
            "POST",
            "/leads/1/link",
            [{"to_entity_id": [1], "to_entity_type": "contacts"}],
            id="link-id-a-list",
        ),
        pytest.param("POST", "/leads", [{"tags_to_add": 5}], id="tags-to-add-a-number"),
        pytest.param(
            "POST", "/leads", [{"_embedded": {"tags": [{"name": ["a"]}]}}], id="tag-name-a-list"
        ),
        pytest.param(
            "POST",
            "/leads",
            [{"custom_fields_values": [{"field_id": 202, "values": [{"value": {"a": 1}}]}]}],
            id="text-field-value-an-object",
        ),
        pytest.param(
            "POST",
            "/leads/1/notes",
            [{"note_type": "common", "params": {"text": "x"}, "created_at": "yesterday"}],
            id="note-created-at-text",
        ),
    ],
)
def test_found_by_fuzzing_are_400s(method: str, path: str, body: Any) -> None:
    amo = account()
    assert send(amo, method, path, body) == 400
    assert len(amo.records("leads")) == 1


@settings(max_examples=fuzz_examples(100), deadline=None)
@given(
    prices=st.lists(st.integers(0, 50), min_size=1, max_size=30),
    low=st.none() | st.integers(0, 50),
    high=st.none() | st.integers(0, 50),
    descending=st.booleans(),
    limit=st.integers(1, 7),
)
def test_price_filter_and_order_agree_with_a_reference(
    prices: list[int], low: int | None, high: int | None, descending: bool, limit: int
) -> None:
    """Paging through a filtered, ordered list gives exactly what a list comprehension does."""
    from urllib.parse import urlencode

    amo = AmoCRM()
    send(amo, "POST", "/leads", [{"name": f"n{i}", "price": p} for i, p in enumerate(prices)])
    expected = [
        i + 1
        for i, price in enumerate(prices)
        if (low is None or price >= low) and (high is None or price <= high)
    ]
    expected.sort(reverse=descending)
    pairs = [("order[id]", "desc" if descending else "asc"), ("limit", str(limit))]
    if low is not None:
        pairs.append(("filter[price][from]", str(low)))
    if high is not None:
        pairs.append(("filter[price][to]", str(high)))
    seen: list[int] = []
    for page in range(1, len(prices) + 2):
        record = RecordedRequest(
            1,
            "GET",
            "/api/v4/leads",
            urlencode([*pairs, ("page", str(page))]),
            (),
            b"",
            datetime(2026, 1, 1, tzinfo=timezone.utc),
        )
        answer = amo.dispatch(record, "/leads", "http://x/api/v4")
        if answer.status == 204:
            break
        body = json.loads(answer.body)  # type: ignore[arg-type]
        seen += [lead["id"] for lead in body["_embedded"]["leads"]]
        if "next" not in body["_links"]:
            break
    assert seen == expected
