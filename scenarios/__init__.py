"""scenarios: declarative webhook scenario files, their pytest plugin, and the conformance suite.

A ``*.scenario.yaml`` file describes a subscriber, a bot flow with webhook
actions, how the far side (the mock server) answers, and what must happen.
``pytest`` collects and runs them on a frozen clock; ``run()`` does the same
from Python.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .durations import format_duration, parse_duration
    from .errors import ScenarioError, ScenarioFailed, ScenarioFileError, SlowScenarioWarning
    from .implementations import (
        AttemptReport,
        Capabilities,
        ConfigurationProblem,
        Delivery,
        FlowContext,
        Implementation,
        ReferenceImplementation,
        Rendered,
        RequestSnapshot,
        load_factory,
    )
    from .loader import LoadedScenario, load_scenario_file, load_scenario_text, scenario_from_dict
    from .model import Scenario
    from .process import CommandImplementation
    from .results import AttemptRecord, Failure, RunResult
    from .runner import run, run_scenario

# Names load on first use: the pytest plugin imports this package in every process,
# and most processes (the xdist controller, runs without scenarios items) need none of it.
_LAZY: dict[str, str] = {
    "AttemptRecord": "results",
    "AttemptReport": "implementations",
    "Capabilities": "implementations",
    "CommandImplementation": "process",
    "ConfigurationProblem": "implementations",
    "Delivery": "implementations",
    "Failure": "results",
    "FlowContext": "implementations",
    "Implementation": "implementations",
    "LoadedScenario": "loader",
    "ReferenceImplementation": "implementations",
    "Rendered": "implementations",
    "RequestSnapshot": "implementations",
    "RunResult": "results",
    "Scenario": "model",
    "ScenarioError": "errors",
    "ScenarioFailed": "errors",
    "ScenarioFileError": "errors",
    "SlowScenarioWarning": "errors",
    "format_duration": "durations",
    "load_factory": "implementations",
    "load_scenario_file": "loader",
    "load_scenario_text": "loader",
    "parse_duration": "durations",
    "run": "runner",
    "run_scenario": "runner",
    "scenario_from_dict": "loader",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AttemptRecord",
    "AttemptReport",
    "Capabilities",
    "CommandImplementation",
    "ConfigurationProblem",
    "Delivery",
    "Failure",
    "FlowContext",
    "Implementation",
    "LoadedScenario",
    "ReferenceImplementation",
    "Rendered",
    "RequestSnapshot",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioFailed",
    "ScenarioFileError",
    "SlowScenarioWarning",
    "format_duration",
    "load_factory",
    "load_scenario_file",
    "load_scenario_text",
    "parse_duration",
    "run",
    "run_scenario",
    "scenario_from_dict",
]
