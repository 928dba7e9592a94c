"""Matchers that cannot run away, a stub index whose cost does not grow with the stubs,
and changes to many stubs as one operation (issue 10). Nothing here reads a clock:
costs are counted (comparisons, stubs scored), never timed."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from mockserver import MockServer, Stub, StubError
from mockserver import routing as routing_module
from mockserver import stubs as stubs_module
from mockserver.bulk import (
    PIECE,
    add_in_pieces,
    collector_held,
    list_in_pieces,
    remove_in_pieces,
)
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
from mockserver.stubs import NEAR_MISS_CANDIDATES, StubRegistry

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def recorded(
    method: str = "GET", path: str = "/", headers: dict[str, str] | None = None
) -> RecordedRequest:
    return RecordedRequest(1, method, path, "", tuple((headers or {}).items()), b"", AT)


# --- regexes run on RE2 ------------------------------------------------------------


def test_regex_matchers_and_paths_are_compiled_by_re2() -> None:
    matcher = CompiledMatcher(Matcher.model_validate({"regex": "(a+)+$"}))
    assert isinstance(matcher.regex, Regex)
    assert type(matcher.regex._engine).__module__ == "re2._re2"
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


# --- the index gives the same answer as trying every stub in turn -----------------

SEGMENTS = st.sampled_from(["a", "b", "1", "22", "é"])
PATHS = st.lists(SEGMENTS, min_size=0, max_size=4).map(lambda parts: "/" + "/".join(parts))


@st.composite
def stub_dicts(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {"method": draw(st.sampled_from(["GET", "POST", "ANY"]))}
    kind = draw(st.sampled_from(["exact", "template", "regex", "any"]))
    parts = draw(st.lists(SEGMENTS, min_size=0, max_size=4))
    if kind == "exact":
        request["path"] = "/" + "/".join(parts)
    elif kind == "template":
        holes = draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
        names = iter(f"p{n}" for n in range(10))
        shaped = [
            f"{{{next(names)}}}" if hole else part for part, hole in zip(parts, holes, strict=True)
        ]
        if draw(st.booleans()) and shaped:
            shaped[-1] = f"v{{{next(names)}}}"  # a segment partly literal
        request["path"] = "/" + "/".join(shaped)
    elif kind == "regex":
        tail = draw(st.sampled_from(["", "[^/]*", ".*", r"\d+", "(?:/a)?", "|/b", "|.*"]))
        request["path_regex"] = "/" + "/".join(parts) + tail
    if draw(st.booleans()):
        request["headers"] = {"X-K": draw(st.sampled_from(["1", "2"]))}
    return {"request": request, "priority": draw(st.integers(1, 3))}


def brute_force(registry: StubRegistry, request: RecordedRequest) -> str | None:
    for entry in registry.entries():
        if entry.pattern.matches(request):
            return entry.stub.id
    return None


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    stubs=st.lists(stub_dicts(), max_size=25),
    requests=st.lists(
        st.tuples(st.sampled_from(["GET", "POST"]), PATHS, st.sampled_from(["1", "2", None])),
        min_size=1,
        max_size=8,
    ),
)
def test_index_answers_as_trying_every_stub(
    stubs: list[dict[str, Any]], requests: list[tuple[str, str, str | None]]
) -> None:
    registry = StubRegistry()
    registry.add_many(stubs)
    for method, path, header in requests:
        request = recorded(method, path, {"X-K": header} if header else {})
        answer = registry.answer(request)
        assert (answer.entry.stub.id if answer else None) == brute_force(registry, request)


class RegistryMachine(RuleBasedStateMachine):
    """Adds, replacements, bulk adds and removals against a dict of the stubs."""

    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        self.registry = StubRegistry()
        self.model: dict[str, Stub] = {}

    @rule(target=ids, stub=stub_dicts(), name=st.sampled_from(["s1", "s2", "s3", "s4", "s5"]))
    def add(self, stub: dict[str, Any], name: str) -> str:
        added = self.registry.add({**stub, "id": name})
        self.model[name] = added
        return name

    @rule(stubs=st.lists(stub_dicts(), min_size=1, max_size=5))
    def add_many(self, stubs: list[dict[str, Any]]) -> None:
        for stub in self.registry.add_many(stubs):
            assert stub.id is not None
            self.model[stub.id] = stub

    @rule(stub_id=consumes(ids))
    def remove(self, stub_id: str) -> None:
        assert self.registry.remove(stub_id) == (stub_id in self.model)
        self.model.pop(stub_id, None)

    @rule(chosen=st.lists(st.sampled_from(["s1", "s2", "s3", "nope"]), max_size=3))
    def remove_many(self, chosen: list[str]) -> None:
        unknown = self.registry.remove_many(chosen)
        expected_unknown = [i for i in dict.fromkeys(chosen) if i not in self.model]
        assert unknown == expected_unknown
        if not unknown:
            for stub_id in chosen:
                self.model.pop(stub_id, None)

    @rule(method=st.sampled_from(["GET", "POST"]), path=PATHS)
    def answer(self, method: str, path: str) -> None:
        request = recorded(method, path)
        answer = self.registry.answer(request)
        assert (answer.entry.stub.id if answer else None) == brute_force(self.registry, request)

    @invariant()
    def same_stubs(self) -> None:
        assert {entry.stub.id for entry in self.registry.entries()} == set(self.model)
        assert len(self.registry) == len(self.model) == len(self.registry._index)
        keys = [entry.sort_key for entry in self.registry.entries()]
        assert keys == sorted(keys)


TestRegistryMachine = RegistryMachine.TestCase
TestRegistryMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_removing_every_stub_leaves_an_empty_index() -> None:
    registry = StubRegistry()
    stubs = registry.add_many(
        [{"request": {"path": f"/t/{n}/{{id}}/x"}} for n in range(50)]
        + [{"request": {"path_regex": f"/r/{n}/.*"}} for n in range(50)]
    )
    assert registry.remove_many([stub.id or "" for stub in stubs]) == []
    index = registry._index
    assert not index._root.literal
    assert index._root.wild is None
    assert not index._prefixed
    assert not index._length_order


# --- costs that do not grow with the number of stubs ------------------------------


class CountingMatches:
    """Counts how many stubs' patterns a lookup tries."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = CompiledPattern.matches

        def counted(pattern: CompiledPattern, request: RecordedRequest) -> bool:
            self.calls += 1
            return original(pattern, request)

        monkeypatch.setattr(CompiledPattern, "matches", counted)


@pytest.mark.parametrize(
    ("make", "path"),
    [
        pytest.param(lambda n: {"path": f"/other/{n}"}, "/other/7", id="exact"),
        pytest.param(lambda n: {"path": f"/other/{n}/{{id}}"}, "/other/7/x", id="template"),
        pytest.param(lambda n: {"path_regex": f"/other/{n}/[a-z]+"}, "/other/7/x", id="regex"),
    ],
)
def test_a_lookup_tries_the_same_stubs_at_any_size(
    monkeypatch: pytest.MonkeyPatch, make: Any, path: str
) -> None:
    tried = []
    counter = CountingMatches(monkeypatch)
    for size in (10, 3_000):
        registry = StubRegistry()
        registry.add_many([{"request": {"method": "GET", **make(n)}} for n in range(size)])
        counter.calls = 0
        answer = registry.answer(recorded("GET", path))
        assert answer is not None
        assert answer.entry.pattern.pattern.model_dump(exclude_defaults=True).get(
            "path", answer.entry.pattern.pattern.path_regex
        ) in ("/other/7", "/other/7/{id}", "/other/7/[a-z]+")
        tried.append(counter.calls)
        counter.calls = 0
        assert registry.answer(recorded("GET", "/nowhere/at/all")) is None
        tried.append(counter.calls)
    assert tried[0] == tried[2]  # the stub that answers: as many tries at 10 as at 3 000
    assert tried[1] == tried[3] == 0


def test_one_change_costs_log_n_comparisons(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding or removing a stub reads the sort keys of O(log n) stubs, not of all of them
    (every change used to sort every stub)."""
    reads = 0
    original_key, original_route_key = stubs_module._sort_key, routing_module._key

    def counted(entry: Any) -> tuple[int, int]:
        nonlocal reads
        reads += 1
        return original_key(entry)

    def counted_route(entry: Any) -> tuple[int, int]:
        nonlocal reads
        reads += 1
        return original_route_key(entry)

    monkeypatch.setattr(stubs_module, "_sort_key", counted)
    monkeypatch.setattr(routing_module, "_key", counted_route)
    costs = []
    for size in (100, 10_000):
        registry = StubRegistry()
        registry.add_many(
            [{"request": {"path": "/same"}, "priority": n % 7} for n in range(size // 2)]
            + [{"request": {"path": f"/p/{n}"}} for n in range(size // 2)]
        )
        reads = 0
        added = registry.add({"request": {"path": "/same"}, "priority": 3})
        registry.remove(added.id or "")
        costs.append(reads)
    assert costs[1] <= costs[0] + 20  # log2(10 000 / 100) is under 7 more per list
    assert costs[1] < 100


def test_near_miss_report_scores_a_bounded_set(monkeypatch: pytest.MonkeyPatch) -> None:
    server = MockServer(
        [{"request": {"method": "GET", "path": f"/crm/item/{n}"}} for n in range(2_000)]
        + [
            {"name": "the one", "request": {"method": "POST", "path": "/crm/lead/add"}},
            {"name": "the template", "request": {"method": "POST", "path": "/crm/lead/{op}/x"}},
        ]
    )
    scored = 0
    original = server.registry.difference

    def counted(entry: Any, request: RecordedRequest) -> Any:
        nonlocal scored
        scored += 1
        return original(entry, request)

    monkeypatch.setattr(server.registry, "difference", counted)
    misses = server.near_misses(recorded("GET", "/crm/lead/add"))
    assert scored <= NEAR_MISS_CANDIDATES
    assert misses[0].label.startswith("stub 'the one'")
    assert misses[0].mismatches[0].field == "method"
    # A typo in the path still finds the stubs whose path starts the same way.
    scored = 0
    report = server.unmatched_report(recorded("POST", "/crm/lead/ad"))
    assert scored <= NEAR_MISS_CANDIDATES
    assert "stub 'the one'" in report
    assert "Closest stubs (3 of 2002)" in report


def test_near_miss_report_with_few_stubs_scores_them_all() -> None:
    registry = StubRegistry()
    registry.add_many([{"request": {"path": f"/{n}"}} for n in range(NEAR_MISS_CANDIDATES)])
    assert len(registry.near_candidates(recorded("GET", "/zzz"))) == NEAR_MISS_CANDIDATES
    registry.add({"request": {"path": "/more"}})
    assert len(registry.near_candidates(recorded("GET", "/zzz"))) == NEAR_MISS_CANDIDATES


# --- bulk changes through the admin API ---------------------------------------------


@pytest.fixture
async def admin() -> AsyncIterator[tuple[MockServer, httpx.AsyncClient]]:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        yield server, client


async def test_bulk_add_is_one_change_in_pieces(
    admin: tuple[MockServer, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list is filed piece by piece, the event loop turning between pieces (other
    requests are answered), and made live in one commit: no request sees half of it."""
    server, client = admin
    registry = server.registry
    turns = 0
    seen: list[tuple[int, bool]] = []
    commits: list[int] = []
    original_stage, original_commit = registry.stage, registry.commit

    async def spin() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    def stage(entries: list[Any]) -> None:
        original_stage(entries)
        # Filed but not live: the first stub of the list does not answer yet.
        seen.append((turns, registry.answer(recorded("GET", "/b/0")) is None))

    def commit(entries: list[Any]) -> None:
        commits.append(len(entries))
        original_commit(entries)

    monkeypatch.setattr(registry, "stage", stage)
    monkeypatch.setattr(registry, "commit", commit)
    spinner = asyncio.create_task(spin())
    stubs = [{"request": {"path": f"/b/{n}"}, "response": {"json": {"n": n}}} for n in range(300)]
    try:
        answer = await client.post("/__admin/stubs", json=stubs)
    finally:
        spinner.cancel()
    assert answer.status_code == 201
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert [stub["response"]["json"]["n"] for stub in answer.json()["stubs"]] == list(range(300))
    assert len(seen) == -(-300 // PIECE)
    assert all(hidden for _, hidden in seen)
    assert seen[0][0] < seen[-1][0]  # the loop turned between pieces
    assert commits == [300]
    assert (await client.get("/b/299")).json() == {"n": 299}
    assert len(registry) == 300


async def test_bulk_add_cut_short_takes_back_what_was_filed() -> None:
    registry = StubRegistry()
    registry.add({"id": "keep", "request": {"path": "/keep"}})
    models = [Stub.model_validate({"request": {"path": f"/c/{n}"}}) for n in range(200)]

    def fail(entries: list[Any]) -> None:
        raise RuntimeError("cut short")

    registry.commit = fail  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await add_in_pieces(registry, models)
    assert [entry.stub.id for entry in registry.entries()] == ["keep"]
    assert len(registry._index) == 1
    assert registry.answer(recorded("GET", "/c/1")) is None


def test_made_up_ids_never_collide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight hex digits collide about once in a hundred lists of 10 000; a collision
    used to replace the other stub without a word."""
    made = iter(["aaaa0000", "aaaa0000", "bbbb1111", "aaaa0000", "cccc2222"])
    monkeypatch.setattr(stubs_module, "_new_id", lambda: next(made))
    registry = StubRegistry()
    first = registry.add({"request": {"path": "/1"}})
    second, third = registry.add_many([{"request": {"path": "/2"}}, {"request": {"path": "/3"}}])
    # /2 was given aaaa0000, the id of /1, and made up again (twice) when it was filed.
    assert [first.id, second.id, third.id] == ["aaaa0000", "cccc2222", "bbbb1111"]
    assert {entry.stub.id for entry in registry.entries()} == {"aaaa0000", "bbbb1111", "cccc2222"}


async def test_bulk_remove_by_ids(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    server, client = admin
    added = (
        await client.post(
            "/__admin/stubs", json=[{"request": {"path": f"/r/{n}"}} for n in range(5)]
        )
    ).json()["stubs"]
    ids = [stub["id"] for stub in added]
    unknown = await client.post("/__admin/stubs/remove", json={"ids": [ids[0], "nope", ids[1]]})
    assert unknown.status_code == 404
    assert unknown.json()["errors"] == [{"field": "ids[1]", "message": "no stub has id 'nope'"}]
    assert len(server.registry) == 5  # nothing removed
    removed = await client.post("/__admin/stubs/remove", json={"ids": ids[:3]})
    assert (removed.status_code, removed.json()) == (200, {"removed": 3})
    assert [stub["id"] for stub in (await client.get("/__admin/stubs")).json()["stubs"]] == [
        ids[4],
        ids[3],
    ]
    for body, field in (({}, "ids"), ({"ids": []}, "ids"), ({"ids": [1]}, "ids.0")):
        bad = await client.post("/__admin/stubs/remove", json=body)
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["field"] == field
    not_json = await client.post("/__admin/stubs/remove", content=b"{")
    assert not_json.status_code == 400


async def test_delete_all_stubs_keeps_states(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    server, client = admin
    await client.post("/__admin/stubs", json=[{"request": {"path": f"/d/{n}"}} for n in range(10)])
    server.set_state("order", "Paid")
    assert (await client.delete("/__admin/stubs")).status_code == 204
    assert len(server.registry) == 0
    assert server.state("order") == "Paid"
    assert (await client.get("/d/1")).status_code == 404


def test_a_big_stub_file_starts_through_one_insert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{"request": {"path": f"/f/{n}"}} for n in range(2_000)]))
    inserts = []
    original = StubRegistry.insert

    def counted(self: StubRegistry, entries: Any) -> Any:
        entries = list(entries)
        inserts.append(len(entries))
        return original(self, entries)

    monkeypatch.setattr(StubRegistry, "insert", counted)
    server = MockServer(load_stub_file(path))
    assert inserts == [2_000]
    assert len(server.registry) == 2_000


def test_collector_held_only_for_big_changes_and_given_back() -> None:
    assert gc.isenabled()
    with collector_held(False):
        assert gc.isenabled()
    with collector_held(True):
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.unfreeze()
    gc.disable()
    try:
        with collector_held(True):
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller's own choice is left alone
    finally:
        gc.enable()


async def test_bulk_remove_retires_at_once_then_purges_in_pieces() -> None:
    registry = StubRegistry()
    ids = [
        stub.id or ""
        for stub in registry.add_many([{"request": {"path": f"/p/{n}"}} for n in range(300)])
    ]
    purged: list[int] = []
    original = registry.purge

    def purge(entries: list[Any]) -> None:
        # Every stub stopped answering before the first piece left the index.
        assert registry.answer(recorded("GET", "/p/299")) is None
        purged.append(len(entries))
        original(entries)

    registry.purge = purge  # type: ignore[method-assign]
    assert await remove_in_pieces(registry, ids) == []
    assert purged == [PIECE] * (300 // PIECE) + [300 % PIECE]
    assert len(registry) == len(registry._index) == 0


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


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200)
@given(items=st.lists(JSON_VALUES, max_size=150), indent=st.sampled_from([None, 0, 2]))
async def test_list_in_pieces_reads_as_json_loads(items: list[Any], indent: int | None) -> None:
    text = json.dumps(items, indent=indent)
    assert await list_in_pieces(text.encode()) == json.loads(text)
    assert await list_in_pieces(f" \n{text}\n ".encode()) == items


@pytest.mark.parametrize(
    "raw",
    [b"", b"{}", b'{"stubs": []}', b"[1,]", b"[1 2]", b"[1] x", b"[", b"[1", b"\xff[]", b'"a"'],
)
async def test_list_in_pieces_leaves_anything_else_to_the_whole_parse(raw: bytes) -> None:
    assert await list_in_pieces(raw) is None


async def test_a_broken_list_is_still_told_where(
    admin: tuple[MockServer, httpx.AsyncClient],
) -> None:
    _, client = admin
    answer = await client.post("/__admin/stubs", content=b'[{"request": {}},\n {"request": ]')
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("line 2 column")
