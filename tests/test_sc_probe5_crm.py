"""``mock.crm`` settings the fake could not take: they were read at collection and failed
when the scenario mounted its CRM (a ``ValueError`` traceback: 1 001 faults, 201 event
bindings, 101 amoCRM webhooks, one binding or destination twice), or were read as
something else (``duplicate_control: 'no'`` was true, ``sort: '5'`` was 5). Each is now a
problem at its line, at collection (real files through the real plugin)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _scenario(name: str, crm: str) -> str:
    return f"""name: {name}
mock:
  crm:
{crm}
flow:
  - message: hi
expect:
  messages: [hi]
"""


def _lines(prefix: str, template: str, count: int) -> str:
    return "\n".join(prefix + template.format(i + 1) for i in range(count))


CASES = {
    "faults": (
        "    bitrix24:\n      faults:\n"
        + _lines("        - ", "{{method: crm.lead.add, call: {}}}", 1001),
        "mock.crm.bitrix24.faults: a list of at most 1000 items",
    ),
    "events": (
        "    bitrix24:\n      events:\n"
        + _lines("        - ", "{{event: ONCRMLEADADD, handler: /h{}}}", 201),
        "mock.crm.bitrix24.events: a list of at most 200 items",
    ),
    "twice": (
        "    bitrix24:\n      events:\n"
        "        - {event: ONCRMLEADADD, handler: /h}\n"
        "        - {event: ONCRMLEADADD, handler: /h}",
        "events[1]: ONCRMLEADADD → /h is bound above already",
    ),
    "hooks": (
        "    amocrm:\n      webhooks:\n"
        + _lines("        - ", "{{destination: /h{}, settings: [add_lead]}}", 101),
        "mock.crm.amocrm.webhooks: a list of at most 100 items",
    ),
    "destination": (
        "    amocrm:\n      webhooks:\n"
        "        - {destination: /h, settings: [add_lead]}\n"
        "        - {destination: /h, settings: [update_lead]}",
        "webhooks[1]: /h has a webhook above already",
    ),
    "long": (
        "    amocrm:\n      webhooks:\n        - {destination: /"
        + "h" * 3000
        + ", settings: [add_lead]}",
        "mock.crm.amocrm.webhooks[0].destination",
    ),
    "flag": (
        "    amocrm: {duplicate_control: 'no'}",
        "mock.crm.amocrm.duplicate_control",
    ),
    "sort": (
        "    amocrm:\n      webhooks: [{destination: /h, settings: [add_lead], sort: '5'}]",
        "mock.crm.amocrm.webhooks[0].sort",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_crm_settings_the_fake_cannot_take_are_a_problem_at_collection(
    scenario_env: pytest.Pytester, case: str
) -> None:
    crm, message = CASES[case]
    scenario_env.makefile(".scenario.yaml", **{case: _scenario(case, crm)})
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out  # a collection error, not a run
    assert f"{case}.scenario.yaml:" in out
    assert message in out
    assert "Traceback" not in out
