"""Dotted names to nested data (rules C1–C3, A4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import non_conflicting_pairs
from webhook_core import ConfigurationError, flatten, lookup, nest


@pytest.mark.rule("C1")
def test_source_example_user_and_group() -> None:
    pairs = [
        ("user.name", "Анна"),
        ("user.last_name", "Иванова"),
        ("group.id", "17"),
        ("group.channel_name", "Новости"),
    ]
    assert nest(pairs) == {
        "user": {"name": "Анна", "last_name": "Иванова"},
        "group": {"id": "17", "channel_name": "Новости"},
    }


@pytest.mark.rule("C2")
@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        pytest.param([("a", "1"), ("a.b", "2")], {"a": {"b": "2"}}, id="scalar-then-object"),
        pytest.param([("a.b", "2"), ("a", "1")], {"a": "1"}, id="object-then-scalar"),
        pytest.param([("a", "1"), ("a", "2")], {"a": "2"}, id="repeated-name-last-wins"),
        pytest.param(
            [("a.b", "1"), ("c", "x"), ("a.b", "2")], {"a": {"b": "2"}, "c": "x"}, id="keeps-place"
        ),
        pytest.param(
            [("a.b", "2"), ("a", "1"), ("a.c", "3")], {"a": {"c": "3"}}, id="scalar-replaced-again"
        ),
    ],
)
def test_later_pairs_win(pairs: list[tuple[str, str]], expected: Any) -> None:
    assert nest(pairs) == expected


@pytest.mark.rule("C3")
@pytest.mark.parametrize(
    ("pairs", "expected_json"),
    [
        pytest.param([("a.0", "x"), ("a.1", "y")], '{"a":["x","y"]}', id="in-order-is-list"),
        pytest.param([("a.1", "y"), ("a.0", "x")], '{"a":{"1":"y","0":"x"}}', id="out-of-order"),
        pytest.param([("a.1", "y")], '{"a":{"1":"y"}}', id="gap-is-object"),
        pytest.param([("a.0", "x"), ("a.b", "y")], '{"a":{"0":"x","b":"y"}}', id="mixed"),
        pytest.param([("a.00", "x")], '{"a":{"00":"x"}}', id="non-canonical-digit"),
        pytest.param(
            [("a.0.n", "x"), ("a.1.n", "y")], '{"a":[{"n":"x"},{"n":"y"}]}', id="list-of-objects"
        ),
        pytest.param([("0", "x"), ("1", "y")], '["x","y"]', id="root-list"),
        pytest.param([], "{}", id="no-pairs-is-empty-object"),
        pytest.param(
            [(f"a.{i}", str(i)) for i in range(25)],
            json.dumps({"a": [str(i) for i in range(25)]}, separators=(",", ":")),
            id="index-past-20-still-list",
        ),
    ],
)
def test_sequential_keys_make_lists(pairs: list[tuple[str, str]], expected_json: str) -> None:
    assert json.dumps(nest(pairs), separators=(",", ":")) == expected_json


@pytest.mark.rule("A4")
@pytest.mark.parametrize("name", ["a..b", ".a", "a.", "", "."])
def test_empty_segment_is_a_configuration_error(name: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        nest([("ok", "1"), (name, "2")])
    assert caught.value.field == "params[1].name"
    assert caught.value.value == name
    assert "params[1].name" in str(caught.value)


@pytest.mark.rule("C6")
def test_object_values_are_merged_into_without_mutation() -> None:
    stored = {"x": 1, "list": ["a"]}
    result = nest([("a", stored), ("a.y", "2"), ("a.list.1", "b")])
    assert result == {"a": {"x": 1, "list": ["a", "b"], "y": "2"}}
    assert stored == {"x": 1, "list": ["a"]}


@pytest.mark.rule("C6")
def test_stored_objects_keep_their_shape() -> None:
    stored = {"0": "a", "1": "b"}
    assert nest([("v", stored)]) == {"v": {"0": "a", "1": "b"}}


@pytest.mark.rule("C1", "B2")
@given(non_conflicting_pairs())
def test_nest_then_lookup_gives_every_value_back(pairs: list[tuple[str, str]]) -> None:
    data = nest(pairs)
    for name, value in pairs:
        assert lookup(data, name) == value


@pytest.mark.rule("C1")
@given(non_conflicting_pairs())
def test_flatten_round_trips(pairs: list[tuple[str, str]]) -> None:
    data = nest(pairs)
    assert sorted(flatten(data)) == sorted(pairs)
    assert nest(flatten(data)) == data


@pytest.mark.rule("C2")
@given(st.lists(st.tuples(st.sampled_from(["a", "a.b", "a.b.c", "a.0", "a.1", "b"]), st.text())))
def test_last_pair_for_a_name_is_what_lookup_finds(pairs: list[tuple[str, str]]) -> None:
    data = nest(pairs)
    if pairs:
        name, value = pairs[-1]
        assert lookup(data, name) == value


@pytest.mark.rule("C1")
def test_a_mapping_nests_as_its_items_in_order() -> None:
    data = {"user.name": "Anna", "user.age": "30", "tags.0": "x"}
    assert (
        nest(data)
        == nest(list(data.items()))
        == {
            "user": {"name": "Anna", "age": "30"},
            "tags": ["x"],
        }
    )
