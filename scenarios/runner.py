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
from mockserver.matching import show
from webhook_core import MISSING
from webhook_core.template import utf8_size

from . import implementations
from .checks import check
from .context import FlowVariables
from .durations import format_duration
from .errors import ScenarioError, ScenarioFailed
from .implementations import (
    AttemptReport,
    Capabilities,
    Delivery,
    FlowContext,
    Implementation,
    ReferenceImplementation,
    Rendered,
    RenderKind,
    capabilities_of,
    reference_render,
)
from .loader import LoadedScenario, load_scenario_file, scenario_from_dict
from .report import failure_report
from .results import AttemptRecord, Failure, RunResult, SentMessage

__all__ = [
    "RENDERING_RULES",
    "Clock",
    "NotApplicable",
    "is_legacy",
    "run",
    "run_scenario",
    "unjudged_rules",
]


#: More attempts than this for one webhook block stop the run: the contract's schedule
#: has six, and an implementation that never gives up would never let the run end.
MAX_ATTEMPTS = 100
#: How long past its time limit an attempt may take before the run gives up on it.
ATTEMPT_GRACE = 60.0
#: The most text one run keeps of its messages and set-variable values, in bytes of
#: UTF-8. Each is bounded (``webhook_core.MAX_RENDERED_BYTES``), but a flow of thousands
#: of ``- message: "{result}{result}"`` blocks would keep gigabytes.
MAX_RUN_TEXT = 64 * 1024 * 1024
#: The most entries one run keeps of its messages and their missing references: a
#: message of a million ``{x}`` that find nothing reports a million of them.
MAX_RUN_ENTRIES = 1_000_000


class Clock(Protocol):
    """What the runner needs of a frozen clock (freezegun's factory has it)."""

    def move_to(self, target_datetime: datetime) -> None: ...


def _now() -> datetime:
    return datetime.now(timezone.utc)


class NotApplicable(Exception):
    """The scenario is for another documented choice than the implementation declared
    (``when:``); other scenarios judge this implementation's choice."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: Rules whose evidence is a rendering: a scenario with message or set blocks rendered by
#: the harness (an implementation that only delivers) cannot certify them.
RENDERING_RULES: frozenset[str] = frozenset({*(f"B{i}" for i in range(1, 9)), "F1", "F2"})


def is_legacy(implementation: object) -> bool:
    """A Python implementation of the first protocol: ``deliver(action, variables)`` and
    ``aclose()`` only. It is given the variables with the reserved ones already in."""
    return not callable(getattr(implementation, "render", None)) and not hasattr(
        implementation, "capabilities"
    )


async def unjudged_rules(scenario: Any, implementation: Implementation) -> tuple[str, ...]:
    """The rules of ``scenario`` that passing it would not prove for ``implementation``:
    the rendering rules when the harness renders its messages and set values for an
    implementation that only delivers, and B8 when the harness computes the reserved
    variables (an implementation of the first protocol)."""
    capabilities = await capabilities_of(implementation)
    rules: set[str] = set()
    if not capabilities.renders and any(
        b.message is not None or b.set is not None for b in scenario.flow
    ):
        rules |= RENDERING_RULES
    if is_legacy(implementation):
        rules.add("B8")
    return tuple(sorted(rules & set(scenario.rules)))


async def _applies(scenario: Any, implementation: Implementation) -> Capabilities:
    capabilities = await capabilities_of(implementation)
    for key, wanted in scenario.when.items():
        declared = capabilities.get(key)
        if declared != wanted:
            raise NotApplicable(
                f"applies when {key} is {wanted!r}; the implementation declared {declared!r}"
            )
    return capabilities


async def run_scenario(
    loaded: LoadedScenario,
    *,
    server: MockServer,
    implementation: Implementation,
    clock: Clock,
) -> RunResult:
    """Run ``loaded`` against ``server`` with ``implementation``; raise on failed expectations.

    Raises :class:`NotApplicable` before anything runs when the scenario does not
    apply to what the implementation declared.
    """
    scenario = loaded.scenario
    capabilities = await _applies(scenario, implementation)
    harness_renders = not capabilities.renders or not callable(
        getattr(implementation, "render", None)
    )
    legacy = is_legacy(implementation)
    server.reset()
    for number, stub in enumerate(scenario.mock.stubs, 1):
        # Stable ids, so that reports read the same on every run.
        server.add(stub if stub.id else stub.model_copy(update={"id": _stub_id(stub.name, number)}))
    clock.move_to(scenario.clock)
    result = RunResult(started_at=scenario.clock, mock_url=server.url)
    result.variables = dict(scenario.variables)
    host = server.url.split("://", 1)[1]  # {mock.host}: 127.0.0.1:port, for URLs written out
    result.variables["mock"] = {"url": server.url, "host": host, **_mount_crms(scenario, server)}
    subscriber = scenario.subscriber.model_dump()
    broken: list[Failure] = []  # what the implementation did that the protocol forbids
    # What the implementation reads: each value made plain, read-only JSON once, when it
    # is set, so that a block costs the same whatever the values hold (context.py); the
    # top level is a plain dict of its own each block (a copy of the names, not the
    # values), which an implementation may serialise, extend or change for itself.
    given_variables = FlowVariables(result.variables)

    def context() -> FlowContext:
        return FlowContext(
            given_variables.top_level(), subscriber, scenario.bot_id, scenario.timezone
        )

    held = 0  # bytes of messages and set values kept so far (MAX_RUN_TEXT)
    entries = 0  # messages and missing references kept so far (MAX_RUN_ENTRIES)
    for index, block in enumerate(scenario.flow):
        if block.message is not None:
            rendered = await _render(
                implementation, block.message, context(), "message", index, harness_renders
            )
            if _refused(result, rendered):
                break
            held = _hold(held, rendered.value, index)
            entries = _count(entries, 1 + len(rendered.missing), index)
            result.missing += rendered.missing
            result.messages.append(SentMessage(index, rendered.value, _now() - scenario.clock))
            continue
        if block.set is not None:
            rendered = await _render(
                implementation, block.set.value, context(), "set", index, harness_renders
            )
            if _refused(result, rendered):
                break
            held = _hold(held, rendered.value, index)
            entries = _count(entries, len(rendered.missing), index)
            result.missing += rendered.missing
            result.variables[block.set.name] = rendered.value
            given_variables.set(block.set.name, rendered.value)
            continue
        if block.webhook is None:  # `message: null`: nothing to do, as before
            continue
        spec = block.webhook.model_dump(mode="json")
        spec["method"] = block.webhook.method_text  # as written (rule A2), never normalised
        given: Any = context()
        if legacy:  # the first protocol: the variables, the reserved ones computed here
            given = given.all_variables(_now())
        try:
            delivery = implementation.deliver(
                spec, given, time_limit=scenario.time_limit.total_seconds()
            )
        except ScenarioError:
            raise
        except Exception as exc:
            raise _raised(index, "deliver()", exc) from exc
        await _deliver(loaded, index, delivery, result, broken, clock, given_variables)
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


def _hold(held: int, value: Any, index: int) -> int:
    """``held`` and the text of ``value``; past :data:`MAX_RUN_TEXT` the run stops there."""
    if isinstance(value, str):
        held += utf8_size(value)
    if held > MAX_RUN_TEXT:
        raise ScenarioError(
            f"flow[{index}]: the run's messages and set values pass {MAX_RUN_TEXT // 2**20} MiB "
            "in all, the most one scenario keeps; the run stopped there (fewer or shorter "
            "blocks, or split the scenario)"
        )
    return held


def _count(entries: int, more: int, index: int) -> int:
    """``entries`` and ``more``; past :data:`MAX_RUN_ENTRIES` the run stops there."""
    entries += more
    if entries > MAX_RUN_ENTRIES:
        raise ScenarioError(
            f"flow[{index}]: the run keeps at most {MAX_RUN_ENTRIES} messages and missing "
            "references in all; the run stopped there (fewer blocks or references, or split "
            "the scenario)"
        )
    return entries


def _refused(result: RunResult, rendered: Rendered) -> bool:
    """A template the implementation cannot render (past its size limit): the flow pauses
    there with that configuration error, as it does for a webhook's (rule A4)."""
    if rendered.configuration_error is None:
        return False
    result.state = "paused"
    result.configuration_error = rendered.configuration_error
    result.last_error = f"configuration error: {rendered.configuration_error}"
    return True


async def _render(
    implementation: Implementation,
    template: str,
    context: FlowContext,
    kind: RenderKind,
    index: int,
    harness_renders: bool,
) -> Rendered:
    render = getattr(implementation, "render", None)
    if harness_renders or render is None:  # it only delivers: webhook_core renders
        return reference_render(template, context.variables_at(_now()), kind)
    try:
        async with asyncio.timeout(implementations.CALL_LIMIT):
            rendered = await render(template, context, now=_now(), kind=kind)
    except ScenarioError:
        raise
    except TimeoutError:
        raise ScenarioError(
            f"flow[{index}]: the implementation's render() did not return within "
            f"{implementations.CALL_LIMIT:g} s; the run stopped there"
        ) from None
    except Exception as exc:
        raise _raised(index, "render()", exc) from exc
    if not isinstance(rendered, Rendered):
        raise ScenarioError(
            f"flow[{index}]: the implementation's render() returned {rendered!r:.100}; "
            "expected a scenarios.Rendered (value, missing)"
        )
    if kind == "message" and not isinstance(rendered.value, str):
        raise ScenarioError(
            f"flow[{index}]: the implementation rendered a message as {rendered.value!r:.100}; "
            "a message is a text"
        )
    return rendered


async def _deliver(
    loaded: LoadedScenario,
    index: int,
    delivery: Delivery,
    result: RunResult,
    broken: list[Failure],
    clock: Clock,
    given: FlowVariables,
) -> None:
    """Attempt one webhook block until it succeeds, gives up or must wait; record it all."""
    scenario = loaded.scenario
    assert scenario.flow[index].webhook is not None
    save_to = scenario.flow[index].webhook.save_to  # type: ignore[union-attr]
    answer_within = scenario.time_limit.total_seconds() + ATTEMPT_GRACE
    stop_when_waiting = scenario.expect.state == "waiting"
    number = 0
    while True:
        started = _now()
        try:
            async with asyncio.timeout(answer_within):  # no task of its own
                report = await delivery.attempt(started)
        except ScenarioError:
            raise
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
            return
        except Exception as exc:
            raise _raised(index, f"attempt {number + 1}", exc) from exc
        if not isinstance(report, AttemptReport):
            raise ScenarioError(
                f"flow[{index}]: attempt {number + 1} returned {report!r:.100}; expected a "
                "scenarios.AttemptReport"
            )
        if report.configuration_error is not None:
            result.state = "paused"
            result.configuration_error = report.configuration_error
            result.last_error = f"configuration error: {report.configuration_error}"
            if number:
                broken.append(
                    Failure(
                        f"flow[{index}]",
                        f"attempt {number + 1} reported a configuration error after "
                        f"{number} attempt(s) were sent: a configuration error is raised "
                        "before anything is sent (rule A4)",
                    )
                )
            if report.retry_at is not None:
                broken.append(
                    Failure(
                        f"flow[{index}]",
                        "the implementation asked to retry a configuration error at "
                        f"{_offset(report.retry_at - scenario.clock)}: a configuration error "
                        "is never retried (rule A4)",
                    )
                )
            return
        number += 1
        if number == 1:
            result.missing += report.missing
        result.attempts.append(
            AttemptRecord(index, number, started, started - scenario.clock, report)
        )
        if not report.ok and report.value is not MISSING:
            broken.append(
                Failure(
                    f"flow[{index}]",
                    f"attempt {number} failed, yet the implementation gave a value to save "
                    f"({show(report.value)}): a failed attempt never changes the variable "
                    "(rule D4), and the protocol has no value on a failure",
                )
            )
        if report.ok:
            result.state = "running"
            if save_to is not None and report.value is not MISSING:
                result.variables[save_to] = report.value
                given.set(save_to, report.value)
            result.last_error = None
            return
        result.last_error = report.error or report.error_kind or "failed"
        if report.retry_at is None:
            result.state = "paused"
            return
        result.state = "waiting"
        if report.retry_at.tzinfo is None:
            broken.append(
                Failure(
                    f"flow[{index}]",
                    f"attempt {number} asked to retry at {report.retry_at.isoformat()}, a time "
                    "without an offset: give retry_at as an aware time (now plus the wait)",
                )
            )
            result.state = "paused"
            return
        if _too_far(report.retry_at, started):
            broken.append(
                Failure(
                    f"flow[{index}]",
                    f"attempt {number} asked to retry at {report.retry_at.isoformat()}, more "
                    "than a year away from the attempt (the contract's longest wait is 2 h); "
                    "the run stopped there",
                )
            )
            result.state = "paused"
            return
        if stop_when_waiting:
            return
        stuck = _stuck(index, number, started, report.retry_at, scenario.clock)
        if stuck is not None:
            broken.append(stuck)
            result.state = "paused"
            return
        clock.move_to(report.retry_at)


#: The furthest a retry may be asked for: beyond it the clock would soon leave the
#: years ``datetime`` can hold (an offset near the year 9999 already does).
RETRY_HORIZON = timedelta(days=365)


def _too_far(retry_at: datetime, started: datetime) -> bool:
    try:
        return retry_at.astimezone(timezone.utc) - started > RETRY_HORIZON
    except OverflowError:
        return True


def _raised(index: int, what: str, exc: Exception) -> ScenarioError:
    """An implementation that raises instead of answering: the scenario fails, naming the block."""
    return ScenarioError(
        f"flow[{index}]: the implementation raised {type(exc).__name__} in {what}: {exc} "
        "(a failed attempt is an answer with ok false, never an exception)"
    )


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
            AmoCRM(
                subdomain=amo_spec.subdomain,
                duplicate_control=amo_spec.duplicate_control,
                access_lifetime=max(1, int(amo_spec.access_lifetime.total_seconds())),
            )
        )
        for fault in amo_spec.faults:
            account.add_fault(CrmFault(**fault.model_dump()))
        for hook in amo_spec.webhooks:
            account.subscribe(server.url + hook.destination, hook.settings, sort=hook.sort)
        # On the scenario's clock: the runner froze it at the start, the account reads it.
        lifetime = max(1, int(amo_spec.token_lifetime.total_seconds()))
        app = account.add_integration("scenario", redirect_uri=f"{server.url}/oauth/amocrm")
        mounted = f"{server.url}/amocrm/{amo_spec.subdomain}"
        urls["amocrm"] = f"{mounted}/api/v4"
        urls["amocrm_token"] = account.issue_token("scenario", lifetime=lifetime)
        urls["amocrm_oauth"] = f"{mounted}/oauth2/access_token"
        urls["amocrm_client_id"] = app.client_id
        urls["amocrm_client_secret"] = app.client_secret
        urls["amocrm_redirect_uri"] = app.redirect_uri
        urls["amocrm_code"] = account.authorization_code(app.client_id)
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
