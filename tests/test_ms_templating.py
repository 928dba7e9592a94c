"""Response templates: the compiled JSON renderer agrees with the plain one everywhere."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.templating import compile_json, render_json

CONTEXT: dict[str, Any] = {
    "request": {
        "json": {"name": "Ann", "n": 3, "ok": True, "items": [1, {"x": None}], "f": 1.5},
        "path": {"id": "42"},
        "method": "POST",
    },
    "stub": {"id": "s1", "calls": 2},
}

REFERENCES = [
    "{request.json}",
    "{request.json.name}",
    "{ request.json.n }",
    "{request.json.items.1}",
    "{request.json.missing}",
    "{request.path.id}",
    "{stub.calls}",
    "{unknown.thing}",
    "{ignore}{request.json}{/ignore}",
    "{request.json.f}",
]

texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(REFERENCES),
    st.lists(st.one_of(st.sampled_from(REFERENCES), st.text(max_size=4)), max_size=3).map("".join),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    texts,
)
templates = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(texts, st.sampled_from(["a", "a{ignore}{/ignore}"])), inner, max_size=4
        ),
    ),
    max_leaves=12,
)


def plain(template: Any) -> bytes:
    rendered = render_json(template, CONTEXT)
    return json.dumps(rendered, ensure_ascii=False, separators=(",", ":")).encode()


@given(templates)
def test_compiled_json_equals_render_then_dump(template: Any) -> None:
    assert compile_json(template)(CONTEXT) == plain(template)


def test_typed_whole_references_keep_their_json_type() -> None:
    template = {"echo": "{request.json}", "n": "{request.json.n}", "gone": "{request.json.no}"}
    assert json.loads(compile_json(template)(CONTEXT)) == {
        "echo": CONTEXT["request"]["json"],
        "n": 3,
        "gone": None,
    }


def test_a_reference_outside_the_context_is_served_as_written() -> None:
    assert compile_json({"a": "{unknown.thing} {request.path.id}"})(CONTEXT) == (
        b'{"a":"{unknown.thing} 42"}'
    )


def test_keys_that_render_alike_collapse_as_in_a_dict() -> None:
    template = {"a": 1, "a{ignore}{/ignore}": 2}
    assert compile_json(template)(CONTEXT) == plain(template) == b'{"a":2}'
