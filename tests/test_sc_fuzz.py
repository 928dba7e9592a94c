"""Whatever a scenario file or a stub holds, the answer is a clear problem, never a traceback.

The inputs start from the conformance suite's own scenarios and change one place of
each: a value replaced by any JSON value, a key dropped, a key added. What comes
back is the scenarios, or a ``ScenarioFileError`` / ``StubError`` whose every
problem names a field or a line.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer, StubError
from scenarios import ScenarioFileError, load_scenario_text, scenario_from_dict

from .strategies import fuzz_examples, json_value

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [
    scenario
    for path in sorted((ROOT / "scenarios" / "conformance").glob("*.scenario.yaml"))
    for scenario in yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"]
]
STUBS = [stub for scenario in SCENARIOS for stub in scenario.get("mock", {}).get("stubs", [])]


def places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON-like tree, the root's included."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += places(value, (*path, index))
    return found


def by_key(originals: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Every value the originals hold under each key, to graft one scenario's part into
    another: unusual combinations that still validate."""
    found: dict[str, list[Any]] = {}
    for original in originals:
        for path in places(original):
            if path and isinstance(path[-1], str):
                value: Any = original
                for part in path:
                    value = value[part]
                found.setdefault(path[-1], []).append(value)
    return found


_GRAFTS: dict[int, dict[str, list[Any]]] = {}


@st.composite
def changed(draw: st.DrawFn, originals: list[dict[str, Any]]) -> dict[str, Any]:
    """One of ``originals`` with one place replaced (by any JSON value, or by what another
    original holds under the same key), dropped, or given an extra key."""
    data = copy.deepcopy(draw(st.sampled_from(originals)))
    path = draw(st.sampled_from(places(data)[1:]))
    *parents, last = path
    holder = data
    for part in parents:
        holder = holder[part]
    action = draw(st.sampled_from(["replace", "graft", "graft", "drop", "add"]))
    if id(originals) not in _GRAFTS:
        _GRAFTS[id(originals)] = by_key(originals)
    grafts = _GRAFTS[id(originals)].get(last) if isinstance(last, str) else None
    if action == "graft" and grafts:
        holder[last] = copy.deepcopy(draw(st.sampled_from(grafts)))
    elif action in ("replace", "graft"):
        holder[last] = draw(json_value)
    elif action == "drop":
        del holder[last]
    elif isinstance(holder[last], dict):
        holder[last][draw(st.text(max_size=8))] = draw(json_value)
    else:
        holder[last] = draw(json_value)
    return data


FUZZ = settings(suppress_health_check=[HealthCheck.too_slow])


def assert_clear(problems: list[Any]) -> None:
    assert problems
    for problem in problems:
        assert problem.message
        assert problem.field or problem.where


@FUZZ
@given(changed(SCENARIOS))
def test_a_changed_scenario_loads_or_names_its_problems(data: dict[str, Any]) -> None:
    try:
        scenario_from_dict(data)
    except ScenarioFileError as exc:
        assert_clear(exc.problems)


@FUZZ
@given(changed(SCENARIOS))
def test_the_same_through_yaml_text_gives_lines(data: dict[str, Any]) -> None:
    text = yaml.safe_dump({"scenarios": [data]}, allow_unicode=True)
    try:
        load_scenario_text(text, "fuzz.scenario.yaml")
    except ScenarioFileError as exc:
        problems = exc.problems
    else:
        return
    assert_clear(problems)
    assert all(problem.where.startswith("fuzz.scenario.yaml:") for problem in problems)


@FUZZ
@given(st.text(max_size=200))
def test_any_text_is_scenarios_or_problems(text: str) -> None:
    try:
        load_scenario_text(text, "text.scenario.yaml")
    except ScenarioFileError as exc:
        assert_clear(exc.problems)


@pytest.fixture(scope="module")
def server() -> MockServer:
    return MockServer()  # never started: stubs are checked when added


@FUZZ
@given(stub=changed(STUBS))
def test_a_changed_stub_is_added_or_names_its_problems(server: MockServer, stub: Any) -> None:
    server.reset()
    try:
        server.add(stub)
    except StubError as exc:
        assert_clear(exc.problems)
        assert server.stubs == []


def quick(loaded: Any) -> bool:
    """Runs in milliseconds: nothing that waits on the real clock."""
    scenario = loaded.scenario
    if scenario.time_limit.total_seconds() > 0.5:
        return False
    for stub in scenario.mock.stubs:
        for answer in stub.answers:
            if answer.delay_ms or (
                answer.fault is not None and answer.fault.type != "connection_reset"
            ):
                return False
    return scenario.mock.crm.bitrix24 is None and scenario.mock.crm.amocrm is None


@settings(max_examples=fuzz_examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(changed(SCENARIOS))
def test_a_changed_scenario_that_loads_runs_to_a_verdict(data: dict[str, Any]) -> None:
    from hypothesis import assume

    from scenarios import ScenarioFailed, run
    from scenarios.runner import NotApplicable

    try:
        loaded = scenario_from_dict({**data, "time_limit": "300ms"})
    except ScenarioFileError:
        assume(False)
        return
    assume(all(quick(each) for each in loaded))
    for each in loaded:
        try:
            run(each)
        except ScenarioFailed as exc:  # a verdict, with its story
            report = exc.report
        except NotApplicable:  # a verdict too: its `when:` names another implementation
            continue
        else:
            continue
        assert report.startswith(f"Scenario {each.id!r} failed")


@pytest.fixture(scope="module")
def running() -> Any:
    with MockServer(journal_cap=None) as made:
        yield made


@pytest.fixture(scope="module")
def client(running: MockServer) -> Any:
    import httpx

    with httpx.Client(base_url=running.url, timeout=5) as made:
        yield made


@settings(max_examples=fuzz_examples(150), deadline=None, suppress_health_check=list(HealthCheck))
@given(stub=changed(STUBS), body=json_value)
def test_a_changed_stub_answers_without_an_internal_error(
    running: MockServer, client: Any, stub: Any, body: Any
) -> None:
    from hypothesis import assume

    running.reset()
    try:
        model = running.add(stub)
    except StubError:
        assume(False)
        return
    answers = model.answers
    assume(all(a.delay_ms == 0 and a.fault is None for a in answers))
    request = model.request
    path = request.path or "/"
    method = request.method if request.method not in (None, "ANY", "*") else "POST"
    response = client.request(str(method), path, json=body)
    # Whatever the stub says, the server itself never fails: no aiohttp 500 page, and
    # nothing in the errors it keeps for strict checks.
    assert "Server got itself in trouble" not in response.text
    assert running.errors == [] or all("exhausted" in error for error in running.errors)


ADMIN_ROUTES = [
    ("POST", "/__admin/stubs"),
    ("POST", "/__admin/requests/find"),
    ("PUT", "/__admin/state"),
    ("POST", "/__admin/reset"),
    ("GET", "/__admin/requests"),
    ("DELETE", "/__admin/stubs/x"),
]


@settings(max_examples=fuzz_examples(150), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from(ADMIN_ROUTES),
    body=st.one_of(json_value, changed(STUBS), st.builds(lambda s: {"stubs": [s]}, changed(STUBS))),
)
def test_the_admin_api_answers_any_json_with_a_verdict(
    client: Any, route: tuple[str, str], body: Any
) -> None:
    method, path = route
    response = client.request(method, path, json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"]


CRM_ROUTES = [
    ("POST", "/__admin/crm/bitrix24/faults"),
    ("POST", "/__admin/crm/amocrm/faults"),
    ("POST", "/__admin/crm/amocrm/tokens"),
    ("POST", "/__admin/crm/bitrix24/webhooks"),
    ("POST", "/__admin/crm/amocrm/unblock"),
    ("DELETE", "/__admin/crm/bitrix24"),
    ("GET", "/__admin/crm/nowhere"),
]
crm_fault = st.fixed_dictionaries(
    {},
    optional={
        "method": st.sampled_from(["crm.lead.add", "leads", "x"]) | json_value,
        "kind": st.sampled_from(["error", "commit_then_drop", "html", "redirect"]) | json_value,
        "call": st.integers(-2, 3) | json_value,
        "status": st.integers(0, 700) | json_value,
        "code": json_value,
        "message": json_value,
    },
)


@pytest.fixture(scope="module")
def crm_client() -> Any:
    import httpx

    from mockserver.crm import AmoCRM, Bitrix24

    with MockServer() as made, httpx.Client(base_url=made.url, timeout=5) as client:
        made.mount(Bitrix24())
        made.mount(AmoCRM())
        yield client


@settings(max_examples=fuzz_examples(150), deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(CRM_ROUTES), body=st.one_of(json_value, crm_fault))
def test_the_crm_admin_routes_answer_any_json_with_a_verdict(
    crm_client: Any, route: tuple[str, str], body: Any
) -> None:
    method, path = route
    response = crm_client.request(
        method, path, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text


PATTERNS = [stub["request"] for stub in STUBS if isinstance(stub.get("request"), dict)]
raw_requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
        "path": st.sampled_from(["/", "/crm/lead", "/r/1", "/x/%ZZ"]) | st.text(max_size=12),
        "query_string": st.sampled_from(["", "a=1&a=2", "user%5Bname%5D=Ann", "%ZZ=1"])
        | st.text(max_size=12),
        "raw_headers": st.lists(
            st.tuples(
                st.sampled_from(["Content-Type", "X-Token", "Authorization", "x"]),
                st.sampled_from(["application/json", "application/x-www-form-urlencoded"])
                | st.text(max_size=12),
            ),
            max_size=3,
        ).map(tuple),
        "body": st.binary(max_size=40)
        | json_value.map(lambda value: json.dumps(value).encode())
        | st.sampled_from([b"user%5Bname%5D=Anna", b"a=1&b=%ZZ"]),
    }
)


@settings(max_examples=fuzz_examples(300), deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern=changed(PATTERNS), raw=raw_requests)
def test_matching_any_request_explains_itself(pattern: Any, raw: dict[str, Any]) -> None:
    from datetime import datetime, timezone

    from hypothesis import assume
    from pydantic import ValidationError

    from mockserver.journal import RecordedRequest
    from mockserver.matching import CompiledPattern
    from mockserver.models import RequestPattern

    try:
        compiled = CompiledPattern(RequestPattern.model_validate(pattern))
    except ValidationError:
        assume(False)
        return
    request = RecordedRequest(seq=1, received_at=datetime.now(timezone.utc), **raw)
    differences = compiled.difference(request)
    assert compiled.matches(request) == (differences == [])
    for mismatch in differences:
        assert mismatch.field
        assert isinstance(mismatch.expected, str)
        assert isinstance(mismatch.actual, str)
