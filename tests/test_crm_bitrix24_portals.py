"""Two Bitrix24 portals on one server: the first at ``/rest/``, another (``portal="b"``,
``--crm bitrix24:b``) at ``/bitrix24/b/rest/``, each with its own records, webhooks,
application, clock, rate limit, admin API and ``--data`` file; one ``/oauth/token/``
for both, as oauth.bitrix.info serves every portal."""

from __future__ import annotations

import io
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mockserver import MockServer
from mockserver.cli import main
from mockserver.crm import Bitrix24
from tests.cli import spawn_mockserver


@pytest.fixture
async def portals() -> AsyncIterator[tuple[MockServer, Bitrix24, Bitrix24]]:
    async with MockServer() as server:
        first = server.mount(Bitrix24(secret="a", plan="standard"))
        second = server.mount(Bitrix24(portal="b", secret="b", plan="standard"))
        yield server, first, second


async def test_each_portal_keeps_its_own_records_and_credentials(
    portals: tuple[MockServer, Bitrix24, Bitrix24],
) -> None:
    server, first, second = portals
    assert (first.webhook_path, second.webhook_path) == ("/rest/1/a/", "/bitrix24/b/rest/1/b/")
    async with httpx.AsyncClient(base_url=server.url) as client:
        made = await client.post(
            f"{second.webhook_path}crm.lead.add.json", json={"fields": {"TITLE": "in b"}}
        )
        assert made.json()["result"] == 1
        other = await client.post(
            f"{first.webhook_path}crm.lead.add.json", json={"fields": {"TITLE": "in a"}}
        )
        assert other.json()["result"] == 1  # ids are the portal's own
        assert [lead["TITLE"] for lead in second.records("lead")] == ["in b"]
        assert [lead["TITLE"] for lead in first.records("lead")] == ["in a"]
        # the first portal's secret is no key to the second, nor the other way round
        crossed = await client.get("/bitrix24/b/rest/1/a/crm.lead.list")
        assert (crossed.status_code, crossed.json()["error"]) == (401, "INVALID_CREDENTIALS")
        assert (await client.get("/rest/1/b/crm.lead.list")).status_code == 401
        # an application token works on its own portal only
        token = second.issue_app_tokens(base_url=server.url)
        assert token["client_endpoint"] == f"{server.url}/bitrix24/b/rest/"  # the portal's
        assert token["server_endpoint"] == f"{server.url}/rest/"  # the authorization server's
        listed = await client.get(
            "/bitrix24/b/rest/crm.lead.list", params={"auth": token["access_token"]}
        )
        assert listed.json()["total"] == 1
        foreign = await client.get("/rest/crm.lead.list", params={"auth": token["access_token"]})
        assert (foreign.status_code, foreign.json()["error"]) == (401, "invalid_token")
        # the admin API names the second portal bitrix24:b
        admin = (await client.get("/__admin/crm/bitrix24:b")).json()
        assert [lead["TITLE"] for lead in admin["records"]["lead"]] == ["in b"]
        assert admin["webhooks"][0]["path"] == "/bitrix24/b/rest/1/b/"


async def test_one_authorization_server_refreshes_each_portals_tokens(
    portals: tuple[MockServer, Bitrix24, Bitrix24],
) -> None:
    server, first, second = portals
    mine, theirs = first.issue_app_tokens(base_url=server.url), second.issue_app_tokens()
    async with httpx.AsyncClient(base_url=server.url) as client:
        for portal, issued in ((first, mine), (second, theirs)):
            renewed = await client.get(
                "/oauth/token/",
                params={
                    "grant_type": "refresh_token",
                    "client_id": portal.tokens.client_id,
                    "client_secret": portal.tokens.client_secret,
                    "refresh_token": issued["refresh_token"],
                },
            )
            assert renewed.status_code == 200, renewed.text
            assert renewed.json()["client_endpoint"] == f"{server.url}{portal.prefix}/rest/"
        assert [c["method"] for c in first.calls] == ["oauth.token"]
        assert [c["method"] for c in second.calls] == ["oauth.token"]
        # the second portal's own address for it answers too
        code = second.issue_code()
        exchanged = await client.get(
            "/bitrix24/b/oauth/token/",
            params={
                "grant_type": "authorization_code",
                "client_id": second.tokens.client_id,
                "client_secret": second.tokens.client_secret,
                "code": code,
            },
        )
        assert exchanged.json()["access_token"].startswith("b.")


async def test_a_portals_events_carry_its_own_endpoint(
    portals: tuple[MockServer, Bitrix24, Bitrix24],
) -> None:
    server, _, second = portals
    server.stub({"method": "POST", "path": "/bot/events"}, {"status": 200})
    token = second.issue_app_tokens(base_url=server.url)["access_token"]
    async with httpx.AsyncClient(base_url=f"{server.url}/bitrix24/b/rest/") as client:
        bound = await client.post(
            "event.bind",
            json={"auth": token, "event": "ONCRMLEADADD", "handler": f"{server.url}/bot/events"},
        )
        assert bound.json()["result"] is True
        made = await client.post(
            "crm.lead.add", json={"auth": token, "fields": {"TITLE": "evented"}}
        )
        assert made.json()["result"] == 1
    await second.events_sent()
    (delivery,) = [r for r in server.requests if r.path == "/bot/events"]
    assert isinstance(delivery.form, dict)
    auth = delivery.form["auth"]
    assert (auth["client_endpoint"], auth["server_endpoint"]) == (
        f"{server.url}/bitrix24/b/rest/",
        f"{server.url}/rest/",
    )
    assert auth["access_token"].startswith("b.")


async def test_the_rate_limit_and_the_clock_are_each_portals(
    portals: tuple[MockServer, Bitrix24, Bitrix24],
) -> None:
    server, first, second = portals
    first.clock.freeze()
    second.clock.freeze()
    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(50):
            assert (await client.get(f"{first.webhook_path}crm.lead.list")).status_code == 200
        assert (await client.get(f"{first.webhook_path}crm.lead.list")).status_code == 503
        assert (await client.get(f"{second.webhook_path}crm.lead.list")).status_code == 200


def test_a_bad_portal_name_is_refused() -> None:
    with pytest.raises(ValueError, match="portal: got 'b/c'"):
        Bitrix24(portal="b/c")
    # An argparse error is main()'s exit code and one line on its err, as every other.
    err = io.StringIO()
    assert main(["--crm", "bitrix24:b_c"], out=io.StringIO(), err=err) == 2
    assert "the portal's name in 'bitrix24:b_c': expected a host name label" in err.getvalue()
    # --bitrix24-secret is the first portal's: with another portal only, it would be lost
    err = io.StringIO()
    assert main(["--crm", "bitrix24:b", "--bitrix24-secret", "s"], err=err) == 2
    assert "--bitrix24-secret is for the fake bitrix24: give --crm bitrix24 too" in err.getvalue()


def test_the_cli_prints_each_portal_and_a_restart_keeps_them(tmp_path: Path) -> None:
    from tests.farside import free_port

    def start(*extra: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
        process = spawn_mockserver(
            "--crm", "bitrix24", "--crm", "bitrix24:second", "--data", str(tmp_path), *extra
        )
        assert process.stdout is not None
        process.stdout.readline()
        lines = [process.stdout.readline() for _ in range(2)]
        return process, {line.split(": ", 1)[0]: line.split()[3] for line in lines}

    process, urls = start("--port", str(free_port()), "--quiet")
    try:
        assert set(urls) == {"bitrix24", "bitrix24:second"}
        assert "/bitrix24/second/rest/1/" in urls["bitrix24:second"]
        added = httpx.post(
            urls["bitrix24:second"] + "crm.deal.add.json", json={"fields": {"TITLE": "kept"}}
        )
        assert added.json()["result"] == 1
        process.send_signal(signal.SIGKILL)  # no clean shutdown: what was acknowledged stays
        process.wait(10)
        process, again = start("--quiet")  # no --port: the one kept in --data
        assert again == urls  # the same URLs: each portal's secret is kept
        deal = httpx.post(again["bitrix24:second"] + "crm.deal.get.json", json={"id": 1})
        assert deal.json()["result"]["TITLE"] == "kept"
        missing = httpx.post(again["bitrix24"] + "crm.deal.get.json", json={"id": 1})
        assert missing.status_code == 400  # the first portal never had it
        assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == [
            "bitrix24-second.sqlite",
            "bitrix24.sqlite",
        ]
    finally:
        process.kill()
        process.wait(10)
