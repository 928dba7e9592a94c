"""PHP-style form decoding for matching (``user[name]`` is ``user.name``), checked against PHP."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import parse_php_form
from tests.php import Php


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "user%5Bname%5D=Anna&user%5Blast%5D=L",
            {"user": {"name": "Anna", "last": "L"}},
            id="brackets",
        ),
        pytest.param("a[]=1&a[]=2", {"a": ["1", "2"]}, id="append"),
        pytest.param("a[1]=y&a[0]=x", {"a": {"1": "y", "0": "x"}}, id="out-of-order-object"),
        pytest.param("a=1&a[b]=2", {"a": {"b": "2"}}, id="later-wins-object"),
        pytest.param("a[b]=2&a=1", {"a": "1"}, id="later-wins-scalar"),
        pytest.param("user.name=x", {"user_name": "x"}, id="dots-become-underscores"),
        pytest.param("a b=1", {"a_b": "1"}, id="space-becomes-underscore"),
        pytest.param("a[b=1", {"a_b": "1"}, id="unclosed-bracket"),
        pytest.param("a[b]c=1", {"a": {"b": "1"}}, id="trailing-junk-dropped"),
        pytest.param("[a]=1", {}, id="leading-bracket-dropped"),
        pytest.param("q=Anna+Lee&e=", {"q": "Anna Lee", "e": ""}, id="plus-and-empty"),
        pytest.param("", {}, id="empty"),
    ],
)
def test_parse_php_form(text: str, expected: Any) -> None:
    assert parse_php_form(text) == expected


@pytest.fixture(scope="module")
def php() -> Iterator[Php]:
    oracle = Php()
    yield oracle
    oracle.close()


names = st.lists(
    st.sampled_from(["a", "b", "user", "0", "1", "x.y", "[]", "[0]", "[1]", "[k]", "[", "]"]),
    min_size=1,
    max_size=4,
).map("".join)


@pytest.mark.skipif(
    shutil.which("php") is None and not os.environ.get("REQUIRE_PHP"),
    reason="php is not installed (Debian: apt-get install php-cli)",
)
@given(pairs=st.lists(st.tuples(names, st.text(alphabet="ab c", max_size=3)), max_size=6))
def test_parse_equals_php_parse_str(php: Php, pairs: list[tuple[str, str]]) -> None:
    from urllib.parse import quote_plus

    text = "&".join(f"{quote_plus(name, safe='[]')}={quote_plus(value)}" for name, value in pairs)
    theirs = json.loads(php.parse_str_json(text))
    ours = parse_php_form(text)
    assert json.dumps(ours, ensure_ascii=False) == json.dumps(
        theirs if theirs != [] else {}, ensure_ascii=False
    )
