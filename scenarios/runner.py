"""Running one scenario: a plain function, no pytest (``scenarios/plugin.py`` adapts it).

:func:`run_scenario` sets up the mock server's stubs, puts the frozen clock at
the scenario's start, runs the flow (messages, variables, webhook blocks
handed to the implementation under test), moves the clock to each retry's due
time, and then checks every expectation, raising :class:`ScenarioFailed` with
the whole story. :func:`run` does the same from a dict or a path, bringing its
own server, clock and event loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from freezegun import freeze_time

from mockserver import MockServer
from webhook_core import Subscriber, reserved_variables
from webhook_core.template import evaluate, render_report

from .checks import check
from .durations import format_duration
from .errors import ScenarioFailed
from .implementations import Implementation, ReferenceImplementation
from .loader import LoadedScenario, load_scenario_file, scenario_from_dict
from .report import failure_report
from .results import AttemptRecord, Failure, RunResult, SentMessage

__all__ = ["Clock", "run", "run_scenario"]


#: More attempts than this for one webhook block stop the run: the contract's schedule
#: has six, and an implementation that never gives up would never let the run end.
MAX_ATTEMPTS = 100
#: How long past its time limit an attempt may take before the run gives up on it.
ATTEMPT_GRACE = 60.0


class Clock(Protocol):
    """What the runner needs of a frozen clock (freezegun's factory has it)."""

    def move_to(self, target_datetime: datetime) -> None: ...


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def run_scenario(
    loaded: LoadedScenario,
    *,
    server: MockServer,
    implementation: Implementation,
    clock: Clock,
) -> RunResult:
    """Run ``loaded`` against ``server`` with ``implementation``; raise on failed expectations."""
    scenario = loaded.scenario
    server.reset()
    for number, stub in enumerate(scenario.mock.stubs, 1):
        # Stable ids, so that reports read the same on every run.
        server.add(stub if stub.id else stub.model_copy(update={"id": _stub_id(stub.name, number)}))
    clock.move_to(scenario.clock)
    result = RunResult(started_at=scenario.clock, mock_url=server.url)
    result.variables = dict(scenario.variables)
    result.variables["mock"] = {"url": server.url, **_mount_crms(scenario, server)}
    subscriber = Subscriber(**scenario.subscriber.model_dump())
    stop_when_waiting = scenario.expect.state == "waiting"
    broken: list[Failure] = []  # what the implementation did that no schedule can do
    answer_within = scenario.time_limit.total_seconds() + ATTEMPT_GRACE

    def context() -> dict[str, Any]:
        reserved = reserved_variables(
            subscriber, bot_id=scenario.bot_id, at=_now(), timezone=scenario.timezone
        )
        return {**result.variables, **reserved}

    for index, block in enumerate(scenario.flow):
        if block.message is not None:
            rendering = render_report(block.message, context())
            result.missing += rendering.missing
            result.messages.append(SentMessage(index, rendering.text, _now() - scenario.clock))
        elif block.set is not None:
            value, missing = evaluate(block.set.value, context())
            result.missing += missing
            result.variables[block.set.name] = value
        elif block.webhook is not None:
            spec = block.webhook.model_dump(mode="json")
            delivery = implementation.deliver(
                spec, context(), time_limit=scenario.time_limit.total_seconds()
            )
            number = 0
            while True:
                started = _now()
                try:
                    async with asyncio.timeout(answer_within):  # no task of its own
                        report = await delivery.attempt(started)
                except TimeoutError:
                    broken.append(
                        Failure(
                            f"flow[{index}]",
                            f"the implementation did not finish attempt {number + 1} within "
                            f"{format_duration(timedelta(seconds=answer_within))} (its time "
                            f"limit, {format_duration(scenario.time_limit)}, and "
                            f"{ATTEMPT_GRACE:g} s more); the run stopped there",
                        )
                    )
                    result.state = "paused"
                    break
                if report.configuration_error is not None:
                    result.state = "paused"
                    result.last_error = f"configuration error: {report.configuration_error}"
                    break
                number += 1
                if number == 1:
                    result.missing += report.missing
                result.attempts.append(
                    AttemptRecord(index, number, started, started - scenario.clock, report)
                )
                if report.ok:
                    result.state = "running"
                    save_to = block.webhook.save_to
                    if save_to is not None:
                        result.variables[save_to] = report.value
                    result.last_error = None
                    break
                result.last_error = report.error
                if report.retry_at is None:
                    result.state = "paused"
                    break
                result.state = "waiting"
                if stop_when_waiting:
                    break
                stuck = _stuck(index, number, started, report.retry_at, scenario.clock)
                if stuck is not None:
                    broken.append(stuck)
                    result.state = "paused"
                    break
                clock.move_to(report.retry_at)
            if result.state in ("paused", "waiting"):
                break
    else:
        result.state = "finished"
    for profile in server.profiles:  # what a fake CRM sends back has arrived
        sent = getattr(profile, "events_sent", None)
        if sent is not None:
            await sent()
    result.requests = server.requests
    failures = broken + check(loaded, result, server)
    expected_failure = scenario.expect_failure
    if expected_failure is not None:
        return _expect_failure(loaded, result, failures, server)
    if failures:
        raise ScenarioFailed(
            name=loaded.id,
            failures=failures,
            result=result,
            report=failure_report(loaded, result, failures),
        )
    return result


def _mount_crms(scenario: Any, server: MockServer) -> dict[str, str]:
    """Put the scenario's fake CRMs on the far side; return their ``{mock.<name>}`` URLs."""
    urls: dict[str, str] = {}
    spec = scenario.mock.crm.bitrix24
    if spec is not None:
        from mockserver.crm import Bitrix24, CrmFault

        portal = server.mount(Bitrix24(user_id=spec.user_id, secret=spec.secret, plan=spec.plan))
        for fault in spec.faults:
            portal.add_fault(CrmFault(**fault.model_dump()))
        for binding in spec.events:
            portal.bind(binding.event, server.url + binding.handler)
        urls["bitrix24"] = server.url + portal.webhook_path.rstrip("/")
    amo_spec = scenario.mock.crm.amocrm
    if amo_spec is not None:
        from mockserver.crm import AmoCRM, CrmFault

        account = server.mount(
            AmoCRM(subdomain=amo_spec.subdomain, duplicate_control=amo_spec.duplicate_control)
        )
        for fault in amo_spec.faults:
            account.add_fault(CrmFault(**fault.model_dump()))
        urls["amocrm"] = f"{server.url}/amocrm/{amo_spec.subdomain}/api/v4"
        urls["amocrm_token"] = account.issue_token("scenario")
    return urls


def _stuck(
    index: int, number: int, started: datetime, retry_at: datetime, start: datetime
) -> Failure | None:
    """A retry that would not move the clock forward, or one too many: stop there."""
    if retry_at <= started:
        return Failure(
            f"flow[{index}]",
            f"the implementation asked to retry at {_offset(retry_at - start)}, not after "
            f"attempt {number} at {_offset(started - start)}: a retry schedule must move "
            "forward; the run stopped there",
        )
    if number >= MAX_ATTEMPTS:
        return Failure(
            f"flow[{index}]",
            f"the implementation kept retrying: {number} attempts (the contract's schedule "
            "has 6); the run stopped there",
        )
    return None


def _offset(delta: timedelta) -> str:
    return format_duration(delta) if delta < timedelta(0) else f"+{format_duration(delta)}"


def _stub_id(name: str | None, number: int) -> str:
    slug = re.sub(r"[^\w]+", "-", name or "").strip("-").lower()
    return f"{number}-{slug}" if slug else f"stub-{number}"


def _expect_failure(
    loaded: LoadedScenario, result: RunResult, failures: list[Any], server: MockServer
) -> RunResult:
    """A negative scenario passes when it fails with a report that matches ``expect_failure``."""
    from mockserver.matching import CompiledMatcher

    matcher = loaded.scenario.expect_failure
    assert matcher is not None
    if failures:
        report = failure_report(loaded, result, failures)
        if CompiledMatcher(matcher).test(report, as_text=True):
            return result
        problem = Failure(
            "expect_failure",
            f"the scenario failed, but not with {matcher.describe()}",
            ["Its report was:", *("  " + line for line in report.splitlines())],
        )
    else:
        problem = Failure(
            "expect_failure", f"the scenario was expected to fail ({matcher.describe()}) but passed"
        )
    raise ScenarioFailed(
        name=loaded.id,
        failures=[problem],
        result=result,
        report=failure_report(loaded, result, [problem]),
    )


def _load(source: LoadedScenario | Mapping[str, Any] | str | Path) -> list[LoadedScenario]:
    if isinstance(source, LoadedScenario):
        return [source]
    if isinstance(source, Mapping):
        return scenario_from_dict(dict(source))
    if isinstance(source, str | Path):
        return load_scenario_file(source)
    raise TypeError(
        "run() takes a scenario as a dict, a *.scenario.yaml path or a loaded scenario; "
        f"got {type(source).__name__} {source!r:.60}"
    )


def run(
    source: LoadedScenario | Mapping[str, Any] | str | Path,
    *,
    implementation: Implementation | None = None,
) -> list[RunResult]:
    """Run every scenario of a dict, a file or a loaded scenario, each on its own frozen clock.

    Brings its own mock server and event loop; for use from plain Python and
    from tests (the pytest plugin shares one server and loop per worker).
    """
    scenarios = _load(source)

    async def main() -> list[RunResult]:
        made = implementation or ReferenceImplementation()
        results = []
        try:
            async with MockServer() as server:
                for loaded in scenarios:
                    with freeze_time(loaded.scenario.clock, real_asyncio=True) as clock:
                        results.append(
                            await run_scenario(
                                loaded, server=server, implementation=made, clock=clock
                            )
                        )
        finally:
            if implementation is None:
                await made.aclose()
        return results

    return asyncio.run(main())
