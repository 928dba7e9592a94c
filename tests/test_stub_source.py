"""The stub a near miss names is shown with the file:line it was written at."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mockserver import MockServer
from mockserver.files import load_stub_file
from scenarios import ScenarioFailed, load_scenario_file, run

STUBS = """\
stubs:
  - name: health
    request: {method: GET, path: /health}

  - name: lead
    request:
      method: POST
      path: /crm/lead
      json_paths: {name: Anna}
    response: {status: 201}
"""


def test_stubs_from_a_file_know_their_line(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(STUBS, encoding="utf-8")
    health, lead = load_stub_file(path)
    assert health.source == f"{path}:2"
    assert lead.source == f"{path}:5"
    assert lead.label() == f"stub 'lead' (None) at {path}:5"
    assert MockServer().add({"name": "x"}).source is None  # from Python: no file


async def test_a_near_miss_names_the_stub_with_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(STUBS, encoding="utf-8")
    async with MockServer(stubs=load_stub_file(path)) as server:  # noqa: SIM117 (url once started)
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.post("/crm/lead", json={"name": "Ann"})
    assert response.status_code == 404
    assert "stub 'lead' (" in response.text
    assert f") at {path}:5: 1 of 3 field(s) differ" in response.text


def test_a_scenario_near_miss_names_the_stub_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "lead.scenario.yaml"
    path.write_text(
        """\
name: lead
flow:
  - webhook: {url: "{mock.url}/crm/lead", method: JSON POST, params: [{name: Ann}]}
mock:
  stubs:
    - name: lead
      request: {method: POST, path: /crm/lead, json_paths: {name: Anna}}
""",
        encoding="utf-8",
    )
    (loaded,) = load_scenario_file(path)
    assert loaded.scenario.mock.stubs[0].source == f"{path}:6"
    with pytest.raises(ScenarioFailed) as caught:
        run(path)
    assert f"at {path}:6" in str(caught.value)


@pytest.mark.parametrize("separate", [False, True])
def test_stubs_from_defaults_are_located_in_the_defaults(tmp_path: Path, separate: bool) -> None:
    defaults = "defaults:\n  mock:\n    stubs:\n      - name: shared\n        request: {path: /s}\n"
    scenarios = (
        "---\nname: a\nflow: [{message: m}]\n---\nname: b\nflow: [{message: m}]\n"
        "mock:\n  stubs:\n    - name: own\n"
        if separate
        else "scenarios:\n  - name: a\n    flow: [{message: m}]\n"
        "  - name: b\n    flow: [{message: m}]\n    mock:\n      stubs:\n        - name: own\n"
    )
    path = tmp_path / "d.scenario.yaml"
    path.write_text(defaults + scenarios, encoding="utf-8")
    first, second = load_scenario_file(path)
    assert [stub.source for stub in first.scenario.mock.stubs] == [f"{path}:4"]
    (own,) = second.scenario.mock.stubs
    assert own.name == "own"
    assert own.source == f"{path}:{14 if separate else 13}"
