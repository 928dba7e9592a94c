"""Regexes run on RE2: linear whatever the pattern, refused syntax told at the field
(issue 10). Nothing here reads a clock: a pattern that backtracks is answered, that is all."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer, StubError
from mockserver.files import load_stub_file
from mockserver.journal import RecordedRequest
from mockserver.matching import CompiledMatcher, CompiledPattern
from mockserver.models import Matcher, RequestPattern
from mockserver.regex import (
    CACHE_BYTES,
    CACHE_ENTRIES,
    Regex,
    cache_size,
    compile_regex,
    literal_prefix,
)

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def recorded(
    method: str = "GET", path: str = "/", headers: dict[str, str] | None = None
) -> RecordedRequest:
    return RecordedRequest(1, method, path, "", tuple((headers or {}).items()), b"", AT)


# --- regexes run on RE2 ------------------------------------------------------------


def test_regex_matchers_and_paths_are_compiled_by_re2() -> None:
    matcher = CompiledMatcher(Matcher.model_validate({"regex": "(a+)+$"}))
    assert isinstance(matcher.regex, Regex)
    # google-re2's engine: re2._re2 in current releases, _re2 in 1.1 (the floor).
    assert type(matcher.regex._engine).__module__ in ("re2._re2", "_re2")
    for pattern in ({"path_regex": "/a.*"}, {"path": "/users/v{id}.json"}):
        compiled = CompiledPattern(RequestPattern.model_validate(pattern))
        assert isinstance(compiled.path_regex, Regex)
    # A template of whole segments needs no regex at all.
    plain = CompiledPattern(RequestPattern.model_validate({"path": "/users/{id}/x"}))
    assert plain.path_regex is None
    assert plain.path_params("/users/Анна/x") == {"id": "Анна"}
    assert plain.path_params("/users//x") is None
    assert plain.path_params("/users/a/b/x") is None


def test_path_parameter_named_twice_is_refused() -> None:
    with pytest.raises(StubError) as caught:
        MockServer().add({"request": {"path": "/a/{id}/b/{id}"}})
    (problem,) = caught.value.problems
    assert problem.field == "request.path"
    assert "{id} appears more than once" in problem.message


def test_catastrophic_pattern_on_long_input_answers() -> None:
    """``(a+)+$`` against thousands of ``a`` and a ``!``: Python's ``re`` doubles its time
    with each character (17 s at 27); RE2 is linear. A header takes 8 000 characters
    (aiohttp refuses longer header lines), a body 10 000. The timeout is only for liveness."""
    stubs = [
        {"request": {"headers": {"X-Probe": {"regex": "(a+)+$"}}}, "response": {"text": "header"}},
        {"request": {"body": {"regex": "(a+)+$"}}, "response": {"text": "body"}},
    ]
    with MockServer(stubs) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        missed = client.get("/x", headers={"X-Probe": "a" * 8_000 + "!"})
        hit = client.get("/x", headers={"X-Probe": "a" * 8_000})
        body_missed = client.post("/x", content="a" * 10_000 + "!")
        body_hit = client.post("/x", content="a" * 10_000)
    assert missed.status_code == 404
    assert "headers.x-probe" in missed.text
    assert (hit.status_code, hit.text) == (200, "header")
    assert body_missed.status_code == 404
    assert "body" in body_missed.text
    assert (body_hit.status_code, body_hit.text) == (200, "body")


@pytest.mark.parametrize(
    ("source", "what"),
    [
        pytest.param(r"(a)\1", "a backreference", id="backreference"),
        pytest.param(r"(?P<n>a)(?P=n)", "a named backreference", id="named-backreference"),
        pytest.param(r"a(?=b)", "lookahead", id="lookahead"),
        pytest.param(r"a(?!b)", "lookahead", id="negative-lookahead"),
        pytest.param(r"(?<=a)b", "lookbehind", id="lookbehind"),
        pytest.param(r"(?<!a)b", "lookbehind", id="negative-lookbehind"),
        pytest.param(r"(?>a+)", "an atomic group", id="atomic"),
        pytest.param(r"a++", "a possessive quantifier", id="possessive"),
        pytest.param(r"abc\Z", r"\Z (RE2 writes the end of the text as \z)", id="big-z"),
        pytest.param(r"x{1001}", "a counted repetition over 1000", id="repetition"),
        pytest.param(r"(", "does not compile (RE2: missing ): ()", id="unbalanced"),
    ],
)
def test_refused_patterns_name_the_field_and_re2(source: str, what: str) -> None:
    for request in (
        {"headers": {"X-A": {"regex": source}}},
        {"path_regex": source},
        {"json_paths": {"a.b": {"regex": source}}},
        {"body": {"regex": source}},
    ):
        with pytest.raises(StubError) as caught:
            MockServer().add({"request": request})
        (problem,) = caught.value.problems
        assert problem.field.startswith("request.")
        assert what in problem.message
        assert "RE2" in problem.message
        assert "https://github.com/google/re2/wiki/Syntax" in problem.message


def test_refused_pattern_in_a_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "- request: {path: /ok}\n"
        "- request:\n"
        "    headers:\n"
        "      Authorization: {regex: '^(?!Bearer )'}\n"
    )
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.where == f"{path}:4"
    assert problem.field == "[1].request.headers.Authorization"
    assert "lookahead, which RE2 does not support" in problem.message


async def test_refused_pattern_from_the_admin_api_is_a_400_problem() -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post(
            "/__admin/stubs",
            json=[{"request": {"path": "/a"}}, {"request": {"query": {"q": {"regex": "(a)\\1"}}}}],
        )
        assert answer.status_code == 400
        assert answer.headers["content-type"].startswith("application/problem+json")
        (error,) = answer.json()["errors"]
        assert error["field"] == "stubs[1].request.query.q"
        assert "a backreference, which RE2 does not support" in error["message"]
        assert len(server.registry) == 0  # all or nothing


def test_unicode_classes_match_other_scripts() -> None:
    """RE2's ``\\w`` is ASCII (docs/matching.md); ``\\pL`` takes letters of any script."""
    word = CompiledMatcher(Matcher.model_validate({"regex": r"^\w+$"}))
    letters = CompiledMatcher(Matcher.model_validate({"regex": r"^\pL+$"}))
    assert not word.test("Анна", as_text=True)
    assert letters.test("Анна", as_text=True)
    assert word.test("Anna", as_text=True)


@st.composite
def simple_regexes(draw: st.DrawFn) -> str:
    """Regexes on which Python's ``re`` and RE2 agree, with literal starts of all kinds."""
    piece = st.one_of(
        st.sampled_from(["a", "b", "/", "-", "é", "Я"]),
        st.sampled_from(["[ab]", "[^/]", ".", r"\d", "(?:a|b)", "(?:ab|a)", "(?i:a)"]),
    )
    quantifier = st.sampled_from(["", "", "", "?", "*", "+", "{2}", "{0,2}"])
    parts = draw(st.lists(st.tuples(piece, quantifier), min_size=1, max_size=6))
    source = "".join(p + q for p, q in parts)
    if draw(st.booleans()):
        source = f"{source}|{draw(st.sampled_from(['/a', 'b', '/é']))}"
    if draw(st.booleans()):
        source = "(?i)" + source
    return source


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), source=simple_regexes())
def test_literal_prefix_starts_every_full_match(data: st.DataObject, source: str) -> None:
    regex = compile_regex(source)
    prefix = literal_prefix(regex)
    text = data.draw(st.from_regex(source, fullmatch=True))
    if regex.fullmatch(text) is not None:
        assert text.startswith(prefix)


def test_literal_prefix_examples() -> None:
    cases = {
        r"/crm/lead/\d+": "/crm/lead/",
        r"^/crm/(lead|deal)/\d+$": "/crm/",
        r"(?i)/crm": "/",
        r"/a|/b": "/",
        r".*x": "",
        r"/x?": "/",
    }
    assert {source: literal_prefix(compile_regex(source)) for source in cases} == cases


def test_a_huge_pattern_is_refused_and_quoted_short() -> None:
    for source in (".{1000}" * 50, "a" * 1_000_000):
        with pytest.raises(StubError) as caught:
            MockServer().add({"request": {"body": {"regex": source}}})
        (problem,) = caught.value.problems
        assert "it would take more than 1 MiB" in problem.message
        assert f"({len(source)} characters)" in problem.message
        assert len(problem.message) < 400


def test_compiled_pattern_cache_is_bounded_in_entries_and_bytes() -> None:
    for number in range(CACHE_ENTRIES + 50):
        compile_regex(f"^/bounded/{number}$")
    entries, size = cache_size()
    assert entries <= CACHE_ENTRIES
    assert size <= CACHE_BYTES
    big = "(?:" + "|".join(f"word{n}" for n in range(3000)) + ")"
    for number in range(40):
        compile_regex(f"{big}{number}")
    entries, size = cache_size()
    assert size <= CACHE_BYTES


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=simple_regexes(),
    text=st.text(alphabet="ab/-éЯA1\n", max_size=12),
)
def test_re2_answers_as_python_re_where_both_mean_the_same(source: str, text: str) -> None:
    """The engine is called directly (not through the binding's ``re``-like wrapper):
    on patterns both engines read alike, it must say what Python's ``re`` says."""
    regex = compile_regex(source)
    assert regex.search(text) == (re.search(source, text) is not None)
    found = re.fullmatch(source, text)
    assert (regex.fullmatch(text) is not None) == (found is not None)


def test_named_groups_come_back_as_text() -> None:
    regex = compile_regex(r"/u/(?P<id>[^/]+)(?:/(?P<tab>\w+))?")
    assert regex.fullmatch("/u/Анна/info") == {"id": "Анна", "tab": "info"}
    assert regex.fullmatch("/u/Анна") == {"id": "Анна"}  # a group that took no part
    assert regex.fullmatch("/v/1") is None
    assert compile_regex("x").search("\udcff x")  # a lone surrogate does not break it


def test_re2_is_loaded_only_when_a_regex_is_used() -> None:
    """RE2 costs 2.7 MiB of resident memory: a server with no regex stub never loads it."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from mockserver import MockServer\n"
        "server = MockServer([{'request': {'path': '/a/{id}', 'headers': {'X': 'y'}}}])\n"
        "print('re2' in sys.modules)\n"
        "server.add({'request': {'path_regex': '/b.*'}})\n"
        "print('re2' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["False", "True"]
