"""The conformance suite proves its strength: every mutant is caught, every rule has one.

An implementation written from the rules alone (``tests/mutants/honest.py``)
must pass the whole suite; each mutant (``tests/mutants/catalogue.py``, that
implementation with one realistic bug) must fail a scenario that pins each
rule it names. Scenarios run in this process through ``run_scenario``, on a
real mock server and a frozen clock, as the pytest plugin runs them.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from mockserver import MockServer
from scenarios import LoadedScenario, ScenarioError, load_scenario_file
from scenarios.clock import DEFAULT_CLOCK
from scenarios.runner import NotApplicable, run_scenario
from scenarios.summary import RULES
from tests.mutants.catalogue import MUTANTS
from tests.mutants.honest import Honest, HonestDiscarding, HonestTruncating

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "scenarios" / "conformance"
SCENARIOS = [
    loaded
    for path in sorted(CONFORMANCE.glob("*.scenario.yaml"))
    for loaded in load_scenario_file(path)
    if loaded.scenario.rules
]


def outcomes(
    implementation: Any, scenarios: list[LoadedScenario], *, stop: Callable[[str], bool]
) -> Iterator[tuple[LoadedScenario, str | None]]:
    """Run ``scenarios`` in turn: each one's failure report, or ``None`` when it passed (or
    does not apply); ``stop`` (given the scenario's id) ends the run after a failure."""

    async def main() -> list[tuple[LoadedScenario, str | None]]:
        done: list[tuple[LoadedScenario, str | None]] = []
        freezer = freeze_time(DEFAULT_CLOCK, real_asyncio=True)
        clock = freezer.start()
        try:
            async with MockServer() as server:
                for loaded in scenarios:
                    try:
                        await run_scenario(
                            loaded, server=server, implementation=implementation, clock=clock
                        )
                        done.append((loaded, None))
                    except NotApplicable:
                        done.append((loaded, None))
                    except ScenarioError as exc:
                        done.append((loaded, str(exc)))
                        if stop(loaded.id):
                            break
        finally:
            freezer.stop()
            await implementation.aclose()
        return done

    return iter(asyncio.run(main()))


def test_an_implementation_written_from_the_rules_passes_the_whole_suite() -> None:
    failed = [
        (loaded.id, report)
        for loaded, report in outcomes(Honest(), SCENARIOS, stop=lambda _: False)
        if report is not None
    ]
    assert failed == []


@pytest.mark.parametrize(
    "honest", [HonestTruncating, HonestDiscarding], ids=["truncate", "discard"]
)
def test_each_documented_over_limit_choice_passes(honest: type[Honest]) -> None:
    response = [
        loaded for loaded in SCENARIOS if loaded.source.endswith("d_response.scenario.yaml")
    ]
    failed = [
        (loaded.id, report)
        for loaded, report in outcomes(honest(), response, stop=lambda _: False)
        if report is not None
    ]
    assert failed == []


def test_every_rule_has_mutants() -> None:
    named = [rule for cls in MUTANTS.values() for rule in cls.RULES]  # type: ignore[attr-defined]
    assert sorted(set(RULES) - set(named)) == []
    assert set(named) <= set(RULES)
    groups = {rule[0] for rule in RULES}
    for group in groups:
        in_group = [c for c in MUTANTS.values() if any(r[0] == group for r in c.RULES)]  # type: ignore[attr-defined]
        assert len(in_group) >= 3, group


@pytest.mark.parametrize(
    "name",
    sorted(MUTANTS),
    ids=[f"{name}-{'-'.join(MUTANTS[name].RULES)}" for name in sorted(MUTANTS)],  # type: ignore[attr-defined]
)
def test_each_mutant_is_caught_by_a_scenario_of_each_rule_it_breaks(name: str) -> None:
    cls = MUTANTS[name]
    rules: tuple[str, ...] = cls.RULES  # type: ignore[attr-defined]
    for rule in rules:
        pinning = [loaded for loaded in SCENARIOS if rule in loaded.scenario.rules]
        # A mutant that raises is a broken mutant, not a wrong implementation: its
        # crash does not count as a catch.
        caught = [
            loaded.id
            for loaded, report in outcomes(cls(), pinning, stop=lambda _: False)
            if report is not None and "the implementation raised" not in report
        ]
        assert caught, f"{name} ({cls.__doc__}) passed every scenario of rule {rule}"


# --- through --sender-cmd: the same mutants behind a process -------------------------------

PROCESS_MUTANTS = ["MachineClock", "ValueOnFailure", "RetriesConfigurationErrors", "PerReadTimeout"]


@pytest.fixture
def env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return pytester


@pytest.mark.parametrize("name", PROCESS_MUTANTS)
def test_mutants_behind_a_process_are_caught(env: pytest.Pytester, name: str) -> None:
    rules = ",".join(MUTANTS[name].RULES)  # type: ignore[attr-defined]
    command = shlex.join([sys.executable, "-m", "tests.mutants.serve", name])
    result = env.runpytest_subprocess(
        "--pyargs", "scenarios.conformance", f"--sender-cmd={command}", "--rule", rules,
        "-p", "no:randomly", "-q",
    )  # fmt: skip
    outcome = result.parseoutcomes()
    assert outcome.get("failed", 0) >= 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*DOES NOT CONFORM*"])


def test_the_honest_implementation_behind_a_process_conforms(env: pytest.Pytester) -> None:
    command = shlex.join([sys.executable, "-m", "tests.mutants.serve", "honest"])
    result = env.runpytest_subprocess(
        "--pyargs", "scenarios.conformance", f"--sender-cmd={command}", "-q"
    )
    outcome = result.parseoutcomes()
    assert outcome.get("failed", 0) == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*34 of 34 rules conform*"])
