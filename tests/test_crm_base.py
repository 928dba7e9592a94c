"""What every fake CRM shares: the server's clock (which tests drive, in-process and through
the admin API), durable writes committed off the event loop, a bounded call log, and an
identity (webhook secret, port) that survives a restart with the same ``--data``."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM, Bitrix24
from mockserver.crm.base import CallLog, Clock
from mockserver.crm.store import Store, StoreFull
from tests.cli import spawn_mockserver


def test_the_clock_follows_a_frozen_datetime_and_adds_its_own_offset() -> None:
    clock = Clock()
    with freeze_time("2026-03-01 12:00:00", tz_offset=0):
        assert clock.now() == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
        clock.advance(90)
        assert clock.now() == datetime(2026, 3, 1, 12, 1, 30, tzinfo=timezone.utc)
    clock.thaw()
    clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert clock.now() == clock.now() == datetime(2030, 1, 1, tzinfo=timezone.utc)
    clock.advance(0.5)
    assert clock.timestamp() == datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() + 0.5


@pytest.mark.parametrize("seconds", [-1, float("nan")])
def test_the_clock_does_not_run_backwards(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds: got"):
        Clock().advance(seconds)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        Clock().freeze(datetime(2030, 1, 1))


def test_the_call_log_is_bounded_in_entries_and_in_bytes() -> None:
    log = CallLog(max_entries=3, max_bytes=10_000)
    for number in range(5):
        log.append({"method": f"m{number}"})
    assert [call["method"] for call in log] == ["m2", "m3", "m4"]
    assert log.dropped == 2
    log = CallLog(max_entries=1000, max_bytes=1000)
    for number in range(50):
        log.append({"method": "x" * 100, "n": number})
    assert 0 < len(log) < 10
    assert log.bytes <= 1000
    assert log[-1]["n"] == 49
    assert log.last(2) == [log[-2], log[-1]] == log[-2:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = spawn_mockserver("--crm", "bitrix24", "--quiet", *args)
    assert process.stdout is not None
    process.stdout.readline()
    line = process.stdout.readline()
    assert line.startswith("bitrix24: webhook URL "), line
    return process, line.split()[3]


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait(30)


def test_a_restart_with_the_same_data_serves_the_same_urls(tmp_path: Path) -> None:
    """No --bitrix24-secret: the minted secret is kept in --data; a --port given once too."""
    port = _free_port()
    process, first = _start("--data", str(tmp_path), "--port", str(port))
    origin = f"http://127.0.0.1:{port}"
    try:
        assert first.startswith(f"{origin}/rest/1/b24")
        assert httpx.post(first + "crm.lead.add.json", json={"fields": {}}).json()["result"] == 1
        issued = httpx.post(f"{origin}/__admin/crm/bitrix24/oauth", json={}).json()
        application = httpx.get(f"{origin}/__admin/crm/bitrix24").json()["application"]
    finally:
        _stop(process)
    process, second = _start("--data", str(tmp_path))  # no --port, no secret
    try:
        assert second == first
        lead = httpx.post(second + "crm.lead.get.json", json={"id": 1}).json()["result"]
        assert lead["ID"] == "1"
        token = issued["access_token"]  # the application's token works on
        listed = httpx.get(f"{origin}/rest/crm.lead.list", params={"auth": token})
        assert listed.json()["total"] == 1
        assert httpx.get(f"{origin}/__admin/crm/bitrix24").json()["application"] == application
    finally:
        _stop(process)
    process, other = _start("--data", str(tmp_path / "elsewhere"))
    try:
        assert other != first  # another data dir is another portal
    finally:
        _stop(process)


def test_the_rate_limit_reads_the_server_clock_which_the_admin_api_drives() -> None:
    """A server in another process: frozen through the admin API, the bucket's 50 are
    exactly 50 however slow the machine is, and half a second drains exactly one."""
    process, webhook = _start()
    origin = webhook.split("/rest/")[0]
    try:
        clock = httpx.post(f"{origin}/__admin/crm/bitrix24/clock", json={"freeze": True})
        assert clock.status_code == 200
        assert clock.json()["frozen"] is True
        statuses = [httpx.get(webhook + "crm.lead.list.json").status_code for _ in range(52)]
        assert statuses == [200] * 50 + [503, 503]
        moved = httpx.post(f"{origin}/__admin/crm/bitrix24/clock", json={"advance": 0.5})
        assert moved.json()["offset_seconds"] == 0.5
        statuses = [httpx.get(webhook + "crm.lead.list.json").status_code for _ in range(2)]
        assert statuses == [200, 503]
        bad = httpx.post(f"{origin}/__admin/crm/bitrix24/clock", json={"advance": -3})
        assert bad.status_code == 400
        assert "advance" in bad.text
        state = httpx.get(f"{origin}/__admin/crm/bitrix24").json()
        assert state["clock"]["frozen"] is True
    finally:
        _stop(process)


async def test_a_commit_in_progress_does_not_hold_other_accounts(tmp_path: Path) -> None:
    """While a Bitrix24 portal's commit is stuck (its disk is slow), an amoCRM account on
    the same server answers; the stuck write's answer waits for its commit, and the writes
    that queued behind it share one commit."""
    release = threading.Event()
    commits: list[int] = []
    async with MockServer() as server:
        slow = server.mount(Bitrix24(user_id="1", secret="slow", plan="unlimited", data=tmp_path))
        other_account = server.mount(AmoCRM(subdomain="other"))
        token = other_account.issue_token("bot")
        real_commit = slow.store._commit

        def stuck_commit(batch: list[Any]) -> None:
            commits.append(len(batch))
            release.wait(30)
            real_commit(batch)

        slow.store._commit = stuck_commit  # type: ignore[method-assign]
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            writes = [
                asyncio.create_task(
                    client.post("/rest/1/slow/crm.lead.add.json", json={"fields": {}})
                )
                for _ in range(10)
            ]
            async with asyncio.timeout(30):
                while len(slow.calls) < 10:
                    await asyncio.sleep(0.01)
            other = await client.post(
                "/amocrm/other/api/v4/leads",
                json=[{"name": "meanwhile"}],
                headers={"Authorization": f"Bearer {token}"},
            )
            assert other.status_code == 200
            assert not any(task.done() for task in writes)
            release.set()
            answers = await asyncio.gather(*writes)
    assert sorted(answer.json()["result"] for answer in answers) == list(range(1, 11))
    assert len(commits) == 2  # the first write's commit, then everything that queued
    assert _stored_ids(tmp_path / "bitrix24.sqlite") == list(range(1, 11))
    slow.store.close()


async def test_writes_are_durable_when_the_answer_leaves(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.sqlite")
    store.put("lead", 1, {"ID": "1"})
    assert _stored_ids(tmp_path / "x.sqlite") == []  # queued, not yet committed
    await store.durable()
    assert _stored_ids(tmp_path / "x.sqlite") == [1]
    store.delete("lead", 1)
    store.close()  # close commits what waits
    assert Store(tmp_path / "x.sqlite").records["lead"] == {}


def _stored_ids(path: Path) -> list[int]:
    """The lead ids in a store's file, read as another program would (a second store
    on a file in use is refused)."""
    db = sqlite3.connect(path)
    try:
        return sorted(row[0] for row in db.execute("SELECT id FROM records WHERE entity='lead'"))
    finally:
        db.close()


def test_expiry_and_dates_follow_the_profile_clock() -> None:
    portal = Bitrix24(secret="s", plan="unlimited")
    portal.clock.freeze(datetime(2026, 5, 1, tzinfo=timezone.utc))
    new_id, _ = portal.call("crm.lead.add", {"fields": {}})
    portal.clock.advance(timedelta(days=1).total_seconds())
    portal.call("crm.lead.update", {"id": new_id, "fields": {"NAME": "x"}})
    lead, _ = portal.call("crm.lead.get", {"id": new_id})
    assert lead["DATE_CREATE"].startswith("2026-05-01T00:00:00")
    assert lead["DATE_MODIFY"].startswith("2026-05-02T00:00:00")


def test_the_store_is_bounded_in_records_and_bytes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite", max_records=2, max_bytes=10_000)
    store.put("lead", 1, {"ID": "1"})
    store.put("lead", 2, {"ID": "2"})
    store.put("lead", 2, {"ID": "2", "NAME": "replaced"})  # a replacement is no new record
    with pytest.raises(StoreFull, match="at most 2 records"):
        store.put("lead", 3, {"ID": "3"})
    assert sorted(store.records["lead"]) == [1, 2]
    store.delete("lead", 1)
    store.put("lead", 3, {"ID": "3"})
    with pytest.raises(StoreFull, match="10000 bytes"):
        store.put("lead", 3, {"ID": "3", "BIG": "x" * 20_000})
    assert store.records["lead"][3] == {"ID": "3"}
    store.close()
    reopened = Store(tmp_path / "s.sqlite", max_records=2)
    assert (reopened.count, sorted(reopened.records["lead"])) == (2, [2, 3])
    reopened.close()


async def test_a_full_store_is_a_clear_error_not_a_500() -> None:
    async with MockServer() as server:
        portal = server.mount(Bitrix24(secret="s", plan="unlimited"))
        portal.store.max_records = 1
        async with httpx.AsyncClient(base_url=server.url + portal.webhook_path) as client:
            assert (await client.post("crm.lead.add", json={"fields": {}})).status_code == 200
            full = await client.post("crm.lead.add", json={"fields": {}})
    assert full.status_code == 507
    assert full.json()["error"] == "ERROR_CORE"
    assert "at most 1 records" in full.json()["error_description"]
