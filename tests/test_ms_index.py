"""The stub index: the answer is the one trying every stub would give, and the cost of a
lookup, a change and a near-miss report does not grow with the stubs (issue 10). Costs are
counted (patterns tried, sort keys read, stubs scored), never timed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from mockserver import MockServer, Stub
from mockserver import routing as routing_module
from mockserver import stubs as stubs_module
from mockserver.journal import RecordedRequest
from mockserver.matching import CompiledPattern
from mockserver.stubs import NEAR_MISS_CANDIDATES, StubRegistry

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def recorded(
    method: str = "GET", path: str = "/", headers: dict[str, str] | None = None
) -> RecordedRequest:
    return RecordedRequest(1, method, path, "", tuple((headers or {}).items()), b"", AT)


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
        general = [e for e in self.registry.entries() if e.pattern.route != "exact"]
        assert self.registry._index.general_count == len(general)


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
