"""The fake amoCRM in scenario files: webhooks to a stub of the bot's side, and tokens that
expire on the scenario's frozen clock. The rehearsals run through the real pytest plugin;
each wrong behaviour of the account (the machine's clock, no retry, a JSON callback,
tokens that never expire) makes a rehearsal fail."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final, get_args

import pytest

# Imported before pytester's snapshot of sys.modules, which would drop a later import and
# leave mockserver.yamlfile comparing nodes with another copy's classes.
import yaml  # noqa: F401

import mockserver.crm.amocrm.oauth as amo_oauth
import mockserver.crm.amocrm.webhooks as amo_webhooks
from mockserver.crm import AmoCRM
from mockserver.crm.amocrm.oauth import OAuth, claims_of
from scenarios import ScenarioFailed, run
from scenarios.loader import ScenarioFileError, load_scenario_file
from scenarios.mockspec import AmoCRMWebhookEvent

ROOT = Path(__file__).resolve().parent.parent
REHEARSALS = ROOT / "scenarios" / "rehearsals" / "amocrm.scenario.yaml"

#: The machine's clock, kept where freezegun does not look (it swaps module attributes).
MACHINE: Final = (datetime.now,)

CALLBACK = "the account calls the bot's handler back, form-encoded, for a new lead and its note"
RESENT = "a webhook the bot's handler refuses is sent again on the account's schedule"
EXPIRED = "a retry hours later meets an expired token and the 401 amoCRM gives"
REFRESHED = "the bot trades the code, outlives its access token, refreshes and goes on"
REFUSED = "the access token traded at the start is refused once its hour is over"


def test_the_rehearsals_pass_through_the_pytest_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    names = [loaded.scenario.name for loaded in load_scenario_file(REHEARSALS)]
    assert {CALLBACK, RESENT, EXPIRED, REFRESHED, REFUSED} <= set(names)
    shutil.copy(REHEARSALS, pytester.path / "amocrm.scenario.yaml")
    outcome = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=len(names))


def _scenario(name: str) -> Any:
    (found,) = [s for s in load_scenario_file(REHEARSALS) if s.scenario.name == name]
    return found


def _machine_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The account reads the machine's clock instead of the scenario's.
    monkeypatch.setattr(AmoCRM, "moment", lambda self: MACHINE[0](timezone.utc))


def _never_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verify = OAuth.verify

    def lenient(self: OAuth, token: str) -> dict[str, Any] | None:
        claims = claims_of(token)
        if claims is not None and isinstance(claims.get("exp"), int):
            claims["exp"] += 10**9
        return claims if verify(self, token) is not None or claims else None

    monkeypatch.setattr(OAuth, "verify", lenient)


def _not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    init = AmoCRM.__init__

    def once(self: AmoCRM, **kwargs: Any) -> None:
        init(self, **kwargs)
        self.webhook_retries = ()

    monkeypatch.setattr(AmoCRM, "__init__", once)


def _json_callback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amo_webhooks, "urlencode", lambda pairs: json.dumps(dict(pairs)))


def _lifetime_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    init = AmoCRM.__init__

    def fixed(self: AmoCRM, **kwargs: Any) -> None:
        kwargs.pop("access_lifetime", None)
        init(self, **kwargs)

    monkeypatch.setattr(AmoCRM, "__init__", fixed)


def _short_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amo_oauth, "REFRESH_LIFETIME", 3600)


@pytest.mark.parametrize(
    ("name", "wrong", "shown"),
    [
        pytest.param(EXPIRED, _machine_clock, "2h31m35s", id="machine-clock-token-lives-on"),
        pytest.param(REFUSED, _machine_clock, "401", id="machine-clock-access-token"),
        pytest.param(EXPIRED, _never_expires, "401", id="token-never-expires"),
        pytest.param(RESENT, _not_retried, "/bot/amo", id="webhook-not-retried"),
        pytest.param(CALLBACK, _json_callback, "leads.add.0.id", id="callback-not-a-form"),
        pytest.param(REFRESHED, _lifetime_ignored, "expires_in", id="access-lifetime-ignored"),
        pytest.param(REFUSED, _lifetime_ignored, "401", id="access-token-lives-a-day"),
        pytest.param(REFRESHED, _short_refresh, "fresh.expires_in", id="refresh-token-hour"),
    ],
)
def test_a_wrong_account_fails_the_rehearsal(
    name: str,
    wrong: Callable[[pytest.MonkeyPatch], None],
    shown: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded = _scenario(name)
    run(loaded)  # the right account passes it
    wrong(monkeypatch)
    with pytest.raises(ScenarioFailed) as caught:
        run(loaded)
    assert shown in caught.value.report


def test_the_scenario_token_is_issued_on_the_scenario_clock() -> None:
    (result,) = run(
        {
            "name": "token claims",
            "clock": "2026-03-01T12:00:00+03:00",
            "mock": {"crm": {"amocrm": {"token_lifetime": "2h", "access_lifetime": "30m"}}},
            "flow": [
                {"message": "{mock.amocrm_token}"},
                {"message": "{mock.amocrm_oauth}"},
                {"message": "{mock.amocrm_code}"},
            ],
        }
    )
    token, endpoint, code = (message.text for message in result.messages)
    claims = claims_of(token)
    assert claims is not None
    start = int(datetime(2026, 3, 1, 9, tzinfo=timezone.utc).timestamp())
    assert (claims["iat"], claims["exp"]) == (start, start + 7200)
    assert endpoint == f"{result.mock_url}/amocrm/example/oauth2/access_token"
    assert code.startswith("def50200")


BROKEN = """\
scenarios:
  - name: broken amoCRM
    flow: [{message: x}]
    mock:
      crm:
        amocrm:
          token_lifetime: 0s
          access_lifetime: soon
          webhooks:
            - {destination: bot/amo, settings: [add_lead]}
            - {destination: /bot/amo, settings: [add_leads]}
            - {destination: /bot/amo, settings: []}
            - {destination: "/bot amo", settings: [add_lead]}
"""


def test_a_wrong_amocrm_spec_is_reported_with_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.scenario.yaml"
    path.write_text(BROKEN)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_file(path)
    got = [str(problem).replace(str(path), "F") for problem in caught.value.problems]
    where = "scenarios[0].mock.crm.amocrm"
    assert [line.split(": ", 2)[:2] for line in got] == [
        ["F:7", f"{where}.token_lifetime"],
        ["F:8", f"{where}.access_lifetime"],
        ["F:10", f"{where}.webhooks[0].destination"],
        ["F:11", f"{where}.webhooks[1].settings[0]"],
        ["F:12", f"{where}.webhooks[2].settings"],
        ["F:13", f"{where}.webhooks[3].destination"],
    ], got
    assert "a lifetime longer than 0s; got 0s" in got[0]
    assert "'add_leads'" in got[3]


def test_the_scenario_settings_are_the_account_events() -> None:
    assert set(get_args(AmoCRMWebhookEvent)) == amo_webhooks.EVENTS
