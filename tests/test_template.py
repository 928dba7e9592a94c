"""Templates (rules B1–B8)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import any_text, json_value
from webhook_core import render, render_report
from webhook_core.template import format_value, single_reference

VARIABLES: dict[str, Any] = {
    "name": "Anna",
    "имя": "Анна",
    "result": {"promo": {"code": "ABC", "percent": 15}, "items": [{"code": "X1"}, {"code": "X2"}]},
    "n": 15,
    "f": 2.5,
    "yes": True,
    "no": False,
    "nothing": None,
    "obj": {"a": [1, "б"]},
    "braces": "{name}",
}
VARIABLES["result"]["x-key"] = "dash"


@pytest.mark.rule("B1")
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("Hi {name}!", "Hi Anna!", id="plain"),
        pytest.param("Hi { name }!", "Hi Anna!", id="spaces-inside"),
        pytest.param("Hi {\tname  }!", "Hi Anna!", id="any-whitespace-inside"),
        pytest.param("{имя}", "Анна", id="cyrillic-name"),
        pytest.param("{name}{name}", "AnnaAnna", id="adjacent"),
    ],
)
def test_reference_is_replaced(template: str, expected: str) -> None:
    assert render(template, VARIABLES) == expected


@pytest.mark.rule("B2")
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("({result.promo.code})", "(ABC)", id="source-example-promo-code"),
        pytest.param("{ result.promo.percent }%", "15%", id="number-by-path"),
        pytest.param("{result.items.0.code}", "X1", id="list-index"),
        pytest.param("{result.items.1.code}", "X2", id="second-item"),
        pytest.param("{result.x-key}", "dash", id="hyphen-in-later-segment"),
    ],
)
def test_path_walks_into_objects_and_lists(template: str, expected: str) -> None:
    assert render(template, VARIABLES) == expected


@pytest.mark.rule("B3")
@pytest.mark.parametrize(
    ("template", "missing"),
    [
        pytest.param("[{unknown}]", ("unknown",), id="unknown-variable"),
        pytest.param("[{result.promo.nope}]", ("result.promo.nope",), id="unknown-key"),
        pytest.param("[{result.items.5.code}]", ("result.items.5.code",), id="index-out-of-range"),
        pytest.param("[{name.first}]", ("name.first",), id="into-a-string"),
        pytest.param("[{result.items.01}]", ("result.items.01",), id="non-canonical-index"),
    ],
)
def test_missing_renders_empty_and_is_reported(template: str, missing: tuple[str, ...]) -> None:
    rendering = render_report(template, VARIABLES)
    assert rendering.text == "[]"
    assert rendering.missing == missing


@pytest.mark.rule("B3")
def test_null_value_is_not_missing() -> None:
    assert render_report("[{nothing}]", VARIABLES).missing == ()


@pytest.mark.rule("B4")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("text", "text", id="string"),
        pytest.param(15, "15", id="int"),
        pytest.param(2.5, "2.5", id="float"),
        pytest.param(True, "true", id="true"),
        pytest.param(False, "false", id="false"),
        pytest.param(None, "", id="null"),
        pytest.param({"a": [1, "б"]}, '{"a":[1,"б"]}', id="object-compact-utf8"),
        pytest.param([1, 2], "[1,2]", id="list"),
    ],
)
def test_values_render_per_b4(value: Any, expected: str) -> None:
    assert format_value(value) == expected
    assert render("{v}", {"v": value}) == expected


@pytest.mark.rule("B5")
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param(
            "{ignore}({result.promo.code}){/ignore}", "({result.promo.code})", id="source-example"
        ),
        pytest.param("a{ignore}{name}", "a{name}", id="unclosed-runs-to-end"),
        pytest.param("{name}{/ignore}", "Anna{/ignore}", id="stray-close-kept"),
        pytest.param("{ignore}{x}{/ignore}{name}", "{x}Anna", id="render-after-block"),
        pytest.param("{ignore}{/ignore}", "", id="empty-block"),
    ],
)
def test_ignore_blocks(template: str, expected: str) -> None:
    assert render(template, VARIABLES) == expected


@pytest.mark.rule("B6")
@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{}", id="empty-braces"),
        pytest.param("{ a b }", id="two-words"),
        pytest.param('{"json": 1}', id="json-object"),
        pytest.param("{a..b}", id="empty-segment"),
        pytest.param("{.a}", id="leading-dot"),
        pytest.param("{{", id="open-braces"),
        pytest.param("}{", id="reversed"),
        pytest.param("{a-b}", id="dash"),
    ],
)
def test_non_references_are_text(template: str) -> None:
    assert render(template, VARIABLES) == template


@pytest.mark.rule("B6")
def test_json_typed_into_a_message_survives_around_references() -> None:
    assert render('{"user": "{name}"}', VARIABLES) == '{"user": "Anna"}'


@pytest.mark.rule("B7")
def test_substitution_is_one_pass() -> None:
    assert render("{braces}", VARIABLES) == "{name}"


@pytest.mark.rule("C6")
@pytest.mark.parametrize(
    ("template", "is_single"),
    [
        pytest.param("{x}", True, id="bare"),
        pytest.param("{ x.y }", True, id="spaced-path"),
        pytest.param(" {x}", False, id="leading-space"),
        pytest.param("{x}{y}", False, id="two"),
        pytest.param("a{x}", False, id="with-text"),
        pytest.param("{ignore}{x}{/ignore}", False, id="ignored"),
    ],
)
def test_single_reference(template: str, is_single: bool) -> None:
    assert (single_reference(template) is not None) is is_single


@pytest.mark.rule("B1", "B6")
@given(st.text().filter(lambda text: "{" not in text))
def test_text_without_braces_renders_to_itself(text: str) -> None:
    assert render(text, VARIABLES) == text


@pytest.mark.rule("B3")
@given(any_text, st.dictionaries(st.text(max_size=5), json_value, max_size=5))
def test_rendering_never_raises(template: str, variables: dict[str, Any]) -> None:
    rendering = render_report(template, variables)
    assert isinstance(rendering.text, str)
    assert render(template, variables) == rendering.text


@pytest.mark.rule("B7")
@given(st.text(max_size=30))
def test_inserted_value_is_never_expanded(value: str) -> None:
    assert render("<{v}>", {"v": value, "name": "X"}) == f"<{value}>"
