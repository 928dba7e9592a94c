"""PHP ``http_build_query`` encoding (rules C4, C5): a golden table, and PHP itself as an oracle."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.php import Php
from tests.strategies import php_data
from webhook_core import encode_query, nest

# Each row was checked against PHP 8.2's http_build_query.
GOLDEN = [
    pytest.param(
        {"user": {"name": "Ivan", "age": 30}}, "user%5Bname%5D=Ivan&user%5Bage%5D=30", id="nested"
    ),
    pytest.param({"a": ["x", "y"]}, "a%5B0%5D=x&a%5B1%5D=y", id="list-indices"),
    pytest.param(
        {"a": [{"b": "1"}, {"b": "2"}]}, "a%5B0%5D%5Bb%5D=1&a%5B1%5D%5Bb%5D=2", id="list-of-objects"
    ),
    pytest.param({"q": "Anna Lee"}, "q=Anna+Lee", id="space-as-plus"),
    pytest.param({"q": "~a-b_c.d*"}, "q=%7Ea-b_c.d%2A", id="php-urlencode-set"),
    pytest.param({"q": "Анна"}, "q=%D0%90%D0%BD%D0%BD%D0%B0", id="utf8"),
    pytest.param({"n": None, "e": ""}, "e=", id="null-omitted-empty-kept"),
    pytest.param({"t": True, "f": False}, "t=1&f=0", id="booleans"),
    pytest.param({"a": [], "b": {}, "c": "1"}, "c=1", id="empty-arrays-omitted"),
    pytest.param({"a.b": "1"}, "a.b=1", id="dotted-key-as-is"),
    pytest.param({"k&=": "v&=?"}, "k%26%3D=v%26%3D%3F", id="reserved-characters"),
    pytest.param(
        {"x": 2.5, "y": 15.0, "z": 1e20, "w": 0.1 + 0.2},
        "x=2.5&y=15&z=1.0E%2B20&w=0.3",
        id="floats-at-php-precision",
    ),
    pytest.param(["a", "b"], "0=a&1=b", id="root-list"),
]


@pytest.mark.rule("C4", "C5")
@pytest.mark.parametrize(("data", "expected"), GOLDEN)
def test_golden(data: Any, expected: str) -> None:
    assert encode_query(data) == expected


@pytest.mark.rule("C1", "C4")
def test_source_example_encodes_as_php_brackets() -> None:
    data = nest([("user.name", "Анна"), ("user.last_name", "Ли"), ("group.id", "5")])
    assert encode_query(data) == (
        "user%5Bname%5D=%D0%90%D0%BD%D0%BD%D0%B0&user%5Blast_name%5D=%D0%9B%D0%B8&group%5Bid%5D=5"
    )


needs_php = pytest.mark.skipif(
    shutil.which("php") is None and not os.environ.get("REQUIRE_PHP"),
    reason="php is not installed (Debian: apt-get install php-cli); the golden table covers this",
)


@pytest.fixture(scope="module")
def php() -> Iterator[Php]:
    oracle = Php()
    yield oracle
    oracle.close()


@needs_php
@pytest.mark.rule("C4", "C5")
@given(data=php_data())
def test_encode_query_equals_php(php: Php, data: dict[str, Any]) -> None:
    assert encode_query(data) == php.http_build_query(data)


dotted = st.lists(
    st.sampled_from(["0", "1", "2", "a", "b", "user", "Имя", "00"]), min_size=1, max_size=3
).map(".".join)


@needs_php
@pytest.mark.rule("C1", "C2", "C3")
@given(pairs=st.lists(st.tuples(dotted, st.text(max_size=6)), min_size=1, max_size=8))
def test_nest_equals_php_dot_set_and_json_encode(php: Php, pairs: list[tuple[str, str]]) -> None:
    ours = json.dumps(nest(pairs), ensure_ascii=False, separators=(",", ":"))
    assert ours == php.dot_set_json(pairs)
