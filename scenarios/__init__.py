"""scenarios: declarative webhook scenario files, their pytest plugin, and the conformance suite.

A ``*.scenario.yaml`` file describes a subscriber, a bot flow with webhook
actions, how the far side (the mock server) answers, and what must happen.
``pytest`` collects and runs them on a frozen clock; ``run()`` does the same
from Python.
"""

from __future__ import annotations

from .durations import format_duration, parse_duration
from .errors import ScenarioError, ScenarioFailed, ScenarioFileError
from .implementations import (
    AttemptReport,
    CommandImplementation,
    Delivery,
    Implementation,
    ReferenceImplementation,
    RequestSnapshot,
    load_factory,
)
from .loader import LoadedScenario, load_scenario_file, load_scenario_text, scenario_from_dict
from .model import Scenario
from .results import AttemptRecord, Failure, RunResult
from .runner import run, run_scenario

__all__ = [
    "AttemptRecord",
    "AttemptReport",
    "CommandImplementation",
    "Delivery",
    "Failure",
    "Implementation",
    "LoadedScenario",
    "ReferenceImplementation",
    "RequestSnapshot",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioFailed",
    "ScenarioFileError",
    "format_duration",
    "load_factory",
    "load_scenario_file",
    "load_scenario_text",
    "parse_duration",
    "run",
    "run_scenario",
    "scenario_from_dict",
]
