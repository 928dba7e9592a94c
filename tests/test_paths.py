"""Path lookup (rule B2, F2)."""

from __future__ import annotations

from typing import Any

import pytest

from webhook_core import MISSING, PathNotFound, lookup
from webhook_core.paths import step

DATA: dict[str, Any] = {"promo": {"code": "ABC"}, "items": [{"n": 1}, {"n": 2}], "0": "zero"}


@pytest.mark.rule("B2")
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("promo.code", "ABC", id="nested-key"),
        pytest.param("items.1.n", 2, id="list-index"),
        pytest.param(["items", 0, "n"], 1, id="sequence-path"),
        pytest.param("0", "zero", id="digit-key-in-object"),
        pytest.param("", DATA, id="empty-path-is-root"),
    ],
)
def test_lookup_finds(path: Any, expected: Any) -> None:
    assert lookup(DATA, path) == expected


@pytest.mark.rule("B2")
@pytest.mark.parametrize(
    ("path", "at"),
    [
        pytest.param("promo.nope", "nope", id="no-key"),
        pytest.param("items.2", "2", id="out-of-range"),
        pytest.param("items.x", "x", id="non-index-on-list"),
        pytest.param("promo.code.more", "more", id="into-text"),
        pytest.param("items.-1", "-1", id="negative-index"),
    ],
)
def test_lookup_reports_where_it_failed(path: str, at: str) -> None:
    with pytest.raises(PathNotFound) as caught:
        lookup(DATA, path)
    assert caught.value.path == path
    assert caught.value.at == at
    assert repr(at) in str(caught.value)
    assert lookup(DATA, path, None) is None
    assert lookup(DATA, path, default="d") == "d"


def test_missing_is_falsy_singleton() -> None:
    assert not MISSING
    assert repr(MISSING) == "MISSING"


def test_path_not_found_is_a_key_error_with_a_readable_message() -> None:
    with pytest.raises(KeyError) as caught:
        lookup({}, "a.b")
    assert str(caught.value) == "path 'a.b': no value at segment 'a' (no such key)"


def test_a_mapping_or_sequence_of_any_type_is_walked_and_the_type_memo_stays_bounded() -> None:
    from collections import UserDict, UserList

    from webhook_core import paths

    kinds = [type(f"Mapping{i}", (UserDict,), {}) for i in range(paths._MAX_SHAPES + 50)]
    for kind in kinds:
        assert paths.step(kind({"a": 1}), "a") == 1
        assert paths.step(kind({"a": 1}), "b") is MISSING
    listed = type("Listed", (UserList,), {})
    assert paths.step(listed(["x", "y"]), "1") == "y"
    assert paths.step("text", "0") is MISSING
    assert len(paths._SHAPES) <= paths._MAX_SHAPES


@pytest.mark.parametrize("digits", [20, 4300, 5000])
def test_an_index_longer_than_any_list_is_missing_not_an_error(digits: int) -> None:
    segment = "9" * digits
    assert step([1, 2], segment) is MISSING
    assert lookup([1, 2], segment, default=None) is None
    with pytest.raises(PathNotFound, match="index out of range for a list of 2"):
        lookup({"items": [1, 2]}, f"items.{segment}")


def test_a_long_digit_key_still_names_a_dict_key() -> None:
    snowflake = "1234567890123456789012"
    assert lookup({snowflake: "x"}, snowflake) == "x"
