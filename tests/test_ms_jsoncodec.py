"""The hot-path JSON helpers give exactly what the ``json`` module gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockserver.jsoncodec import dumps_compact, loads_body
from tests.strategies import json_value
from webhook_core.template import MISSING

# Any JSON value, NaN and the infinities included (the json module writes and reads them).
wide_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)
whitespace = st.text(alphabet=" \t\n\r", max_size=3)


def _refuse(text: str) -> Any:
    raise ValueError(text)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def _holds_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(map(_holds_non_finite, value.values()))
    if isinstance(value, list):
        return any(map(_holds_non_finite, value))
    return False


def reference(body: bytes) -> Any:
    """What the json module reads, less what JSON cannot carry (NaN, Infinity, 1e999)."""
    try:
        return json.loads(body, parse_constant=_refuse, parse_float=_finite)
    except ValueError:
        return MISSING


def same(left: Any, right: Any) -> bool:
    if left is MISSING or right is MISSING:
        return left is right
    # NaN is not equal to itself; its text is.
    return json.dumps(left) == json.dumps(right) and type(left) is type(right)


@given(st.binary(max_size=40))
@example(b"\xef\xbb\xbf{}")  # a UTF-8 byte-order mark: json.loads(bytes) accepts it
@example('{"a": 1}'.encode("utf-16"))  # so does UTF-16
@example(b'"\xed\xa0\x80"')  # a lone surrogate, which json.loads lets through
@example(b"{} x")
@example(b" [1] \n")
@example(b"NaN")
@example(b"[1e999]")
@example(b"-Infinity")
def test_loads_body_is_json_loads_for_any_bytes(body: bytes) -> None:
    assert same(loads_body(body), reference(body))


def test_a_body_nested_too_deeply_to_read_is_not_json() -> None:
    assert loads_body(b"[" * 100_000 + b"]" * 100_000) is MISSING
    assert loads_body(b'{"a":' * 100_000 + b"1" + b"}" * 100_000) is MISSING


@given(wide_value, whitespace, whitespace, st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_loads_body_reads_every_json_text(
    value: Any, before: str, after: str, encoding: str
) -> None:
    body = (before + json.dumps(value, ensure_ascii=False) + after).encode(encoding)
    parsed = loads_body(body)
    assert same(parsed, reference(body))
    assert (parsed is MISSING) == _holds_non_finite(value)


@given(wide_value)
def test_dumps_compact_is_json_dumps(value: Any) -> None:
    assert dumps_compact(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@given(json_value)
def test_dumps_compact_round_trips(value: Any) -> None:
    assert json.loads(dumps_compact(value)) == value


def test_dumps_compact_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_compact({"when": object()})
    # The encoder keeps no state: a failure leaves the next call unharmed.
    assert dumps_compact({"a": [1, "б"]}) == '{"a":[1,"б"]}'
