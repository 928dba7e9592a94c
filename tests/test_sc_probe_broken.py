"""A Python implementation (``--sender module:factory``) whose render, capabilities, deliver
or aclose raises or never returns: the scenario fails naming it, the run ends, no traceback."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scenarios import AttemptReport
from tests.mutants.honest import Honest

ROOT = Path(__file__).resolve().parent.parent


class _RenderHangs(Honest):
    async def render(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()


class _CapabilitiesRaise(Honest):
    def capabilities(self) -> Any:
        raise RuntimeError("capabilities broke")


class _CapabilitiesHang(Honest):
    async def capabilities(self) -> Any:  # type: ignore[override]
        await asyncio.Event().wait()


class _DeliverRaises(Honest):
    def deliver(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("deliver broke")


class _CloseRaises(Honest):
    async def aclose(self) -> None:
        raise RuntimeError("close broke")


class _CloseHangs(Honest):
    async def aclose(self) -> None:
        await asyncio.Event().wait()


def render_hangs() -> Honest:
    return _RenderHangs()


def capabilities_raise() -> Honest:
    return _CapabilitiesRaise()


def capabilities_hang() -> Honest:
    return _CapabilitiesHang()


def deliver_raises() -> Honest:
    return _DeliverRaises()


def close_raises() -> Honest:
    return _CloseRaises()


def close_hangs() -> Honest:
    return _CloseHangs()


SCENARIO = """\
name: one
flow:
  - message: "hi {first_name}"
  - webhook: {url: "{mock.url}/x", method: GET}
mock: {stubs: [{request: {path: /x}}]}
"""


@pytest.fixture
def env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".scenario.yaml", one=SCENARIO)
    # The harness's wait made short, in the run's own process.
    pytester.makeconftest(
        "from scenarios import implementations\nimplementations.CALL_LIMIT = 0.5\n"
    )
    return pytester


@pytest.mark.parametrize(
    ("factory", "says"),
    [
        pytest.param(
            "render_hangs",
            "flow[0]: the implementation's render() did not return within 0.5 s",
            id="render-hangs",
        ),
        pytest.param(
            "capabilities_raise",
            "the implementation's capabilities() raised RuntimeError: capabilities broke",
            id="capabilities-raise",
        ),
        pytest.param(
            "capabilities_hang",
            "the implementation's capabilities() did not return within 0.5 s",
            id="capabilities-hang",
        ),
        pytest.param(
            "deliver_raises",
            "flow[1]: the implementation raised RuntimeError in deliver(): deliver broke",
            id="deliver-raises",
        ),
    ],
)
def test_a_broken_python_implementation_fails_the_scenario_naming_what_broke(
    env: pytest.Pytester, factory: str, says: str
) -> None:
    result = env.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        f"--sender=tests.test_sc_probe_broken:{factory}",
        timeout=120,  # only keeps a regression from freezing the suite
    )
    result.assert_outcomes(failed=1)
    text = "\n".join(result.outlines + result.errlines)
    assert says in text
    assert "INTERNALERROR" not in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("factory", "says"),
    [
        pytest.param("close_raises", "aclose() raised RuntimeError: close broke", id="raises"),
        pytest.param("close_hangs", "aclose() did not return within 0.5 s", id="hangs"),
    ],
)
def test_an_aclose_that_breaks_is_said_once_the_run_is_over(
    env: pytest.Pytester, factory: str, says: str
) -> None:
    result = env.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        f"--sender=tests.test_sc_probe_broken:{factory}",
        timeout=120,  # only keeps a regression from freezing the suite
    )
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    err = "\n".join(result.errlines)
    assert f"scenarios: the implementation's {says}" in err


class _AsksFor:
    """Fails every attempt, asking for a retry at ``when``."""

    def __init__(self, when: datetime) -> None:
        self.when = when

    def deliver(self, action: Any, context: Any, *, time_limit: float) -> Any:
        when = self.when

        class Delivery:
            async def attempt(self, now: datetime) -> AttemptReport:
                return AttemptReport(ok=False, status=None, error="x", retry_at=when)

        return Delivery()

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(
            datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-23))),
            id="past-9999-in-utc",
        ),
        pytest.param(datetime(2030, 1, 1, tzinfo=timezone.utc), id="years-ahead"),
    ],
)
def test_a_retry_asked_for_beyond_any_schedule_fails_the_scenario_naming_it(
    when: datetime,
) -> None:
    # Past the year 9999 once in UTC, it was an OverflowError out of the runner.
    from scenarios import ScenarioFailed, run

    scenario = {
        "name": "x",
        "flow": [{"webhook": {"url": "{mock.url}/x", "method": "GET"}}],
        "mock": {"strict": False},
    }
    with pytest.raises(ScenarioFailed) as caught:
        run(scenario, implementation=_AsksFor(when))
    assert (
        f"flow[0]: attempt 1 asked to retry at {when.isoformat()}, more than a year away "
        "from the attempt" in str(caught.value)
    )
