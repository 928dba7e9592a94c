"""One worker's harness for scenario items: its event loop, mock server, implementation
under test and frozen clock, kept while scenario items run back to back."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import pytest

from .clock import DEFAULT_CLOCK
from .errors import ScenarioError
from .plugin_options import implementation_options

if TYPE_CHECKING:
    from mockserver import MockServer

    from .implementations import Implementation
    from .loader import LoadedScenario
    from .results import RunResult

#: What keeps reading the real clock while scenarios run (durations, reports).
_REAL_TIME = ["_pytest", "pytest", "pluggy", "xdist", "execnet"]


class Harness:
    """One worker's loop, mock server, implementation and frozen clock."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._runner: asyncio.Runner | None = None
        self._server: MockServer | None = None
        self._implementation: Implementation | None = None
        self._freezer: Any = None
        self._clock: Any = None
        #: The rules the scenario last run cannot certify for this implementation.
        self.last_unjudged: tuple[str, ...] = ()
        self._declared: dict[str, Any] | None = None
        self._sent = False

    @property
    def server(self) -> MockServer | None:
        """The worker's mock server (``None`` before the first scenario)."""
        return self._server

    def implementation(self) -> Implementation:
        from .implementations import ReferenceImplementation, load_factory
        from .process import CommandImplementation

        if self._implementation is None:
            command, factory = implementation_options(self.config)  # checked at configure
            if command:
                self._implementation = CommandImplementation(command)
            elif factory:
                self._implementation = load_factory(factory)
            else:
                self._implementation = ReferenceImplementation()
        return self._implementation

    def run(self, loaded: LoadedScenario) -> RunResult:
        from freezegun import freeze_time

        from mockserver import MockServer

        from .runner import run_scenario, unjudged_rules

        if self._runner is None:
            self._runner = asyncio.Runner()
        if self._server is None:
            self._server = MockServer()
            self._runner.run(self._server.start())
        if self._clock is None:
            # pytest, pluggy and xdist keep reading the real clock (durations, reports).
            self._freezer = freeze_time(DEFAULT_CLOCK, real_asyncio=True, ignore=_REAL_TIME)
            self._clock = self._freezer.start()
        implementation = self.implementation()
        self.last_unjudged = ()
        server, clock = self._server, self._clock

        async def judged_run() -> RunResult:  # one turn of the loop per scenario, not two
            self.last_unjudged = await unjudged_rules(loaded.scenario, implementation)
            return await run_scenario(
                loaded, server=server, implementation=implementation, clock=clock
            )

        return self._runner.run(judged_run())

    def capabilities(self) -> dict[str, Any] | None:
        """What the implementation declared, once it has been asked (for the report)."""
        from .implementations import capabilities_of

        if self._declared is not None:
            return self._declared
        if self._runner is None or self._implementation is None:
            return None
        try:
            declared = self._runner.run(capabilities_of(self._implementation)).to_json()
        except ScenarioError:
            return None
        # An implementation declares its capabilities once (docs/sender-protocol.md): asked
        # again for every scenario, the answer would be the same, at an event loop's cost.
        self._declared = declared
        return declared

    def capabilities_once(self) -> dict[str, Any] | None:
        """The capabilities the first time they are known, then ``None``: the report of
        one scenario per process carries them to the conformance report."""
        if self._sent:
            return None
        declared = self.capabilities()
        self._sent = declared is not None
        return declared

    def thaw(self) -> None:
        """Stop the frozen clock (before a test that is not a scenario runs)."""
        if self._freezer is not None:
            self._freezer.stop()
            self._freezer = self._clock = None

    def close(self) -> None:
        self.thaw()
        if self._runner is not None:
            if self._server is not None:
                self._runner.run(self._server.stop())
            if self._implementation is not None:
                from .implementations import bounded_call

                try:
                    self._runner.run(bounded_call(self._implementation.aclose, "aclose()"))
                except ScenarioError as exc:  # the run is over: said, not raised
                    sys.stderr.write(f"scenarios: {exc}\n")
            self._runner.close()
            self._runner = None


HARNESS_KEY = pytest.StashKey[Harness]()


def harness(config: pytest.Config) -> Harness | None:
    """The worker's harness (``None`` before configure)."""
    return config.stash.get(HARNESS_KEY, None)
