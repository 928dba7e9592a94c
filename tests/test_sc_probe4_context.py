"""The context an implementation reads at each block: the same data as the per-block deep
copy the runner used to make (``json.loads(json.dumps(variables, default=str))``), now
built once per value set, read-only, at a cost per block that does not grow with it."""

from __future__ import annotations

import copy
import json
import operator
import pickle
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios import AttemptReport, Capabilities, FlowContext, Rendered, run
from scenarios.context import FlowVariables, ReadOnlyDict, ReadOnlyList, read_only
from scenarios.errors import ScenarioError
from webhook_core import MISSING


class _Odd:
    """A value JSON has no form for: the copy gave its ``str``."""

    def __str__(self) -> str:
        return "odd!"


def _old_copy(variables: Mapping[str, Any]) -> Any:
    return json.loads(json.dumps(variables, default=str))


class Recorder:
    """Renders and delivers what the test tells it to, and records every context it is
    given, next to what the old per-block copy would have given at that moment."""

    def __init__(self, values: list[Any]) -> None:
        self.values = iter(values)
        self.seen: list[Any] = []

    def capabilities(self) -> Capabilities:
        return Capabilities(name="recorder")

    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: str
    ) -> Rendered:
        self.seen.append(json.dumps(context.to_json()["variables"]))
        value = next(self.values)
        return Rendered(value if kind == "set" else json.dumps(value, default=str))

    def deliver(self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float) -> Any:
        self.seen.append(json.dumps(context.to_json()["variables"]))
        value = next(self.values)

        class Once:
            async def attempt(self, now: datetime) -> AttemptReport:
                return AttemptReport(ok=True, status=200, value=value)

        return Once()

    async def aclose(self) -> None:
        pass


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
plain_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | st.tuples(inner, inner)
    ),  # a tuple: the copy gave a list
    max_leaves=12,
)
saved = st.one_of(json_value, st.just(_Odd()), st.just(MISSING))
block = st.tuples(st.sampled_from(["message", "set", "webhook"]), st.sampled_from("abc"), saved)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    initial=st.dictionaries(st.sampled_from("abcxyz"), plain_value, max_size=3),
    blocks=st.lists(block, min_size=1, max_size=8),
)
def test_every_block_reads_what_the_old_per_block_copy_gave(
    initial: dict[str, Any], blocks: list[tuple[str, str, Any]]
) -> None:
    flow: list[dict[str, Any]] = []
    values: list[Any] = []
    model: dict[str, Any] = dict(initial)  # the old runner's result.variables, by hand
    expected: list[str] = []
    for kind, name, value in blocks:
        expected.append(json.dumps(_old_copy(model)))
        if kind == "message":
            flow.append({"message": "m"})
            values.append(value if value is not MISSING else "")
        elif kind == "set":
            flow.append({"set": {"name": name, "value": "v"}})
            values.append(value)
            model[name] = value
        else:
            flow.append({"webhook": {"url": "{mock.url}/x", "method": "GET", "save_to": name}})
            values.append(value)
            if value is not MISSING:
                model[name] = value
    recorder = Recorder(values)
    scenario = {"name": "x", "variables": initial, "flow": flow, "mock": {"strict": False}}
    run(scenario, implementation=recorder)
    # `mock` holds the server's port: compare without it.
    seen = [{k: v for k, v in json.loads(s).items() if k != "mock"} for s in recorder.seen]
    assert seen == [json.loads(e) for e in expected]


def test_the_values_are_plain_json_as_the_copy_made_them() -> None:
    from mockserver.written import WrittenFloat

    variables = FlowVariables({"t": (1, 2), "f": WrittenFloat("1.50"), "o": _Odd(), "k": {1: "x"}})
    assert dict(variables.view) == {"t": [1, 2], "f": 1.5, "o": "odd!", "k": {"1": "x"}}
    assert type(variables.view["f"]) is float
    assert isinstance(variables.view["t"], list)
    assert isinstance(variables.view["k"], dict)


def test_a_value_set_again_keeps_its_place_as_in_a_dict() -> None:
    variables = FlowVariables({"a": 1, "b": 2})
    variables.set("a", 3)
    variables.set("c", 4)
    assert list(variables.view.items()) == [("a", 3), ("b", 2), ("c", 4)]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda v: operator.setitem(v, "n", 1), id="top-level"),
        pytest.param(lambda v: v["d"].__setitem__("k", 1), id="dict-item"),
        pytest.param(lambda v: v["d"].update(k=1), id="dict-update"),
        pytest.param(lambda v: v["d"].pop("k"), id="dict-pop"),
        pytest.param(lambda v: v["d"]["l"].append(1), id="list-append"),
        pytest.param(lambda v: v["d"]["l"].__setitem__(0, 9), id="list-item"),
        pytest.param(lambda v: v["d"]["l"].sort(), id="list-sort"),
    ],
)
def test_an_implementation_cannot_change_the_variables_it_reads(change: Any) -> None:
    variables = FlowVariables({"d": {"k": 0, "l": [3, 2]}})
    with pytest.raises(TypeError, match=r"read-only|does not support item assignment"):
        change(variables.view)
    assert dict(variables.view) == {"d": {"k": 0, "l": [3, 2]}}


def test_copies_of_the_read_only_values_are_plain_and_changeable() -> None:
    value = read_only({"d": {"l": [1, [2]]}})
    for copied in (copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert type(copied) is dict
        assert type(copied["d"]) is dict
        assert type(copied["d"]["l"]) is list
        copied["d"]["l"].append(3)
    assert type(copy.copy(value)) is dict
    assert value == {"d": {"l": [1, [2]]}}
    assert isinstance(value["d"], ReadOnlyDict)
    assert isinstance(value["d"]["l"][1], ReadOnlyList)


def test_read_only_reaches_any_depth_json_reads() -> None:
    deep: Any = 0
    for _ in range(5000):
        deep = [deep]
    built = read_only(deep)
    for _ in range(5000):
        assert isinstance(built, ReadOnlyList)
        built = built[0]
    assert built == 0


class Mutator(Recorder):
    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: str
    ) -> Rendered:
        context.variables["order"]["id"] = 99  # type: ignore[index]
        return Rendered("x")


def test_an_implementation_that_changes_its_context_fails_the_scenario_naming_it() -> None:
    scenario = {"name": "x", "variables": {"order": {"id": 1}}, "flow": [{"message": "m"}]}
    with pytest.raises(ScenarioError, match=r"flow\[0\]: the implementation raised TypeError"):
        run(scenario, implementation=Mutator([]))


class Keeper(Recorder):
    """Keeps each block's variables as given, and changes the top level as it likes."""

    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: str
    ) -> Rendered:
        variables = context.variables
        assert type(variables) is dict  # serialisable and changeable as any dict
        assert "big" in variables  # what the block before removed is back
        assert "first_name" not in variables
        self.seen.append(variables)
        json.dumps(variables)
        variables["first_name"] = "added by the implementation"  # type: ignore[index]
        del variables["big"]  # type: ignore[attr-defined]
        return Rendered("-")


def test_a_block_shares_the_values_and_converts_each_only_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The old copy converted every value at every block (a 1 MB value: about 50 ms a
    block); now each value is converted when it is set, and blocks share it."""
    import scenarios.context

    converted: list[Any] = []
    real = scenarios.context.plain_json

    def counting(value: Any) -> Any:
        converted.append(value)
        return real(value)

    monkeypatch.setattr(scenarios.context, "plain_json", counting)
    big = {"items": [{"id": i, "tags": ["a", "b"]} for i in range(100)]}
    keeper = Keeper([])
    scenario = {"name": "x", "variables": {"big": big}, "flow": [{"message": "-"}] * 50}
    run(scenario, implementation=keeper)
    assert len(keeper.seen) == 50
    assert len(converted) == 2  # `big` and the harness's `mock`, once each, not 50 times
    # Each block had a top level of its own: what the one before changed is not there.
    assert all(seen["first_name"] == "added by the implementation" for seen in keeper.seen)
    assert len({id(seen) for seen in keeper.seen}) == 50


def test_a_change_to_the_top_level_stays_in_that_block() -> None:
    class Changer(Recorder):
        async def render(
            self, template: str, context: FlowContext, *, now: datetime, kind: str
        ) -> Rendered:
            self.seen.append(sorted(context.variables))
            context.variables.pop("order")  # type: ignore[attr-defined]
            return Rendered("m")

    changer = Changer([])
    scenario = {"name": "x", "variables": {"order": {"id": 1}}, "flow": [{"message": "m"}] * 3}
    run(scenario, implementation=changer)
    assert changer.seen == [["mock", "order"]] * 3


def test_yaml_writes_the_read_only_values_as_it_wrote_the_copies() -> None:
    """An implementation that writes its variables as YAML (a log, a fixture) got plain
    dicts from the per-block copy; ``yaml.safe_dump`` raised on the shared read-only ones
    ("cannot represent an object") and ``yaml.dump`` wrote Python tags."""
    import yaml

    given = {"order": {"id": 7, "items": [{"sku": "a"}, "b"]}}
    shared = FlowVariables(given).top_level()
    assert yaml.safe_dump(shared) == yaml.safe_dump(given)
    assert yaml.dump(shared) == yaml.dump(given)
    assert yaml.safe_load(yaml.dump(shared)) == given
