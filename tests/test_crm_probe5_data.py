"""The sixth probe of ``--data``: two servers on one file, a disk that fills up, a crash
mid-write. Acknowledged writes are on disk, the file stays readable, and what could not
be kept is said, to every request it concerns."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.crm.store import Store, StoreError
from tests.cli import spawn_mockserver


def _ids(path: Path, entity: str = "lead") -> list[int]:
    """The ids in the file, read as any other program would (not as a store)."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT id FROM records WHERE entity = ?", (entity,))
        return sorted(row[0] for row in rows)
    finally:
        db.close()


def _started(process: subprocess.Popen[str]) -> str:
    """The server's origin, from its banner (its stderr, when it does not start)."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        _, err = process.communicate(timeout=30)
        pytest.fail(f"the server did not start: {line!r} {err!r}")
    return line.split("listening on ")[1].split(" ")[0]


def _portal(*argv: str, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "--port",
            "0",
            "--quiet",
            "--crm",
            "bitrix24",
            "--bitrix24-secret",
            "s",
            "--bitrix24-plan",
            "unlimited",
            *argv,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        **popen,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait(30)
    return err


def test_a_second_server_on_the_same_data_is_refused_and_the_first_keeps_its_records(
    tmp_path: Path,
) -> None:
    """Each store reads its file once and trusts its memory: two on one file both gave
    id 1 and overwrote each other's rows, without a word."""
    first = _portal("--data", str(tmp_path))
    try:
        origin = _started(first)
        added = httpx.post(f"{origin}/rest/1/s/crm.lead.add.json", json={"fields": {}})
        assert added.json()["result"] == 1
        second = spawn_mockserver("--crm", "bitrix24", "--data", str(tmp_path), "--port", "0")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2
        assert "Traceback" not in err
        assert f"--data: cannot keep records in {tmp_path}" in err
        assert "another server is using this file" in err
        assert len(err.strip().splitlines()) == 1
        assert _ids(tmp_path / "bitrix24.sqlite") == [1]  # readers may look meanwhile
        again = httpx.post(f"{origin}/rest/1/s/crm.lead.add.json", json={"fields": {}})
        assert again.json()["result"] == 2
    finally:
        _stop(first)
    assert _ids(tmp_path / "bitrix24.sqlite") == [1, 2]


def test_a_store_in_the_same_process_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = Store(tmp_path / "x.sqlite")
    with pytest.raises(StoreError, match="another server is using this file"):
        Store(tmp_path / "x.sqlite")
    first.close()
    Store(tmp_path / "x.sqlite").close()  # the lock went with the first store


async def test_every_request_whose_write_was_in_a_failed_commit_hears_it(tmp_path: Path) -> None:
    """Group commit: writes B and C queue behind a running commit and share the next one.
    When that one failed, only the caller who ran it was told; the other committed an
    empty batch and was told its write was on disk."""
    store = Store(tmp_path / "x.sqlite")
    real_commit = store._commit
    running, release = threading.Event(), threading.Event()
    batches: list[int] = []

    def commit(batch: list[Any]) -> None:
        batches.append(len(batch))
        if len(batches) == 1:
            running.set()
            release.wait(30)
            real_commit(batch)
        else:
            raise sqlite3.OperationalError("database or disk is full")

    store._commit = commit  # type: ignore[method-assign]
    store.put("lead", 1, {"ID": "1"})
    first = asyncio.create_task(store.durable(since=0))
    await asyncio.to_thread(running.wait, 30)
    mark_b = store.written
    store.put("lead", 2, {"ID": "2"})
    b = asyncio.create_task(store.durable(since=mark_b))
    await asyncio.sleep(0)  # each caller starts waiting before the next write, as requests do
    # A read between them: it wrote nothing, so it is not told of the others' loss.
    reader = asyncio.create_task(store.durable(since=store.written))
    await asyncio.sleep(0)
    mark_c = store.written
    store.put("lead", 3, {"ID": "3"})
    c = asyncio.create_task(store.durable(since=mark_c))
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(first, b, c, reader, return_exceptions=True)
    assert batches == [1, 2]
    assert outcomes[0] is None
    assert outcomes[3] is None
    assert isinstance(outcomes[1], sqlite3.OperationalError)
    assert isinstance(outcomes[2], sqlite3.OperationalError)  # was None: told it was kept
    store._commit = real_commit  # type: ignore[method-assign]
    mark = store.written
    store.put("lead", 4, {"ID": "4"})
    await store.durable(since=mark)  # the next writes go to the file again
    store.close()
    assert _ids(tmp_path / "x.sqlite") == [1, 4]


def _limit_file_size() -> None:  # in the child, before it runs Python
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))


def test_a_full_disk_is_a_507_for_writes_and_reads_still_answer(tmp_path: Path) -> None:
    """RLIMIT_FSIZE as a full disk: every write the file refuses is a 507 saying so, a
    read after it answers 200 (it was 507 too), every lead acknowledged with 200 is in
    the file, and the file opens again."""
    process = _portal("--data", str(tmp_path), preexec_fn=_limit_file_size)
    acknowledged: list[int] = []
    statuses: list[int] = []
    try:
        origin = _started(process)
        with httpx.Client(base_url=f"{origin}/rest/1/s/") as client:
            for _ in range(60):
                added = client.post("crm.lead.add.json", json={"fields": {"TITLE": "x" * 10_000}})
                statuses.append(added.status_code)
                if added.status_code == 200:
                    acknowledged.append(added.json()["result"])
                else:
                    assert added.status_code == 507
                    assert "could not write its --data file" in added.text
            read = client.post("crm.lead.get.json", json={"id": 1})
            assert read.status_code == 200
    finally:
        err = _stop(process)
    assert "Traceback" not in err
    assert 507 in statuses
    assert acknowledged
    assert set(acknowledged) <= set(_ids(tmp_path / "bitrix24.sqlite"))
    process = _portal("--data", str(tmp_path))
    try:
        origin = _started(process)
        got = httpx.post(f"{origin}/rest/1/s/crm.lead.get.json", json={"id": acknowledged[-1]})
        assert got.status_code == 200
    finally:
        _stop(process)


def test_a_crash_mid_write_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    """SIGKILL while writes are in flight: after a restart every lead the server answered
    200 for is there, and the file is whole (the order of kill and writes does not matter
    to the verdict)."""
    process = _portal("--data", str(tmp_path))
    acknowledged: list[int] = []
    try:
        origin = _started(process)

        async def hammer() -> None:
            async with httpx.AsyncClient(base_url=f"{origin}/rest/1/s/", timeout=30) as client:

                async def add() -> None:
                    while True:
                        try:
                            added = await client.post(
                                "crm.lead.add.json", json={"fields": {"TITLE": "y" * 2000}}
                            )
                        except httpx.HTTPError:
                            return
                        acknowledged.append(added.json()["result"])
                        if len(acknowledged) == 200:
                            process.kill()

                await asyncio.gather(*(add() for _ in range(8)))

        asyncio.run(hammer())
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert len(acknowledged) >= 200
    assert set(acknowledged) <= set(_ids(tmp_path / "bitrix24.sqlite"))
    again = _portal("--data", str(tmp_path))
    try:
        origin = _started(again)
        added = httpx.post(f"{origin}/rest/1/s/crm.lead.add.json", json={"fields": {}})
        assert added.json()["result"] > max(acknowledged)  # ids go on, none given twice
    finally:
        _stop(again)


def test_a_store_dropped_unclosed_lets_go_of_its_file(tmp_path: Path) -> None:
    import gc

    Store(tmp_path / "x.sqlite").put("lead", 1, {})
    gc.collect()
    Store(tmp_path / "x.sqlite").close()


def test_a_profile_dropped_in_a_reference_cycle_lets_go_of_its_file(tmp_path: Path) -> None:
    """An amoCRM account is a reference cycle: dropped unclosed, its lock stayed until
    the garbage collector ran, and a test that made the next account on the same folder
    was refused."""
    import gc

    from mockserver.crm import AmoCRM

    gc.disable()
    try:
        AmoCRM(data=tmp_path).issue_token("bot")
        AmoCRM(data=tmp_path).store.close()
    finally:
        gc.enable()


def _damaged(path: Path, how: str) -> None:
    """A store's file with 300 leads, then cut short or with a page overwritten."""
    store = Store(path)
    for key in range(300):
        store.put("lead", key, {"TITLE": "x" * 500})
    store.close()
    if how == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    else:
        with path.open("r+b") as file:
            file.seek(2 * 4096)  # the third page: in the records' primary-key index
            file.write(b"\xff" * 4096)


@pytest.mark.parametrize("how", ["truncated", "page-overwritten"])
def test_a_damaged_file_is_refused_at_start_naming_it(tmp_path: Path, how: str) -> None:
    """A page overwritten in the index passed the table scan that reads the rows: the
    server started, and then every write was a 507 (the index is written on each)."""
    _damaged(tmp_path / "bitrix24.sqlite", how)
    process = spawn_mockserver("--crm", "bitrix24", "--data", str(tmp_path), "--port", "0")
    try:
        _, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the server started on a damaged file")
    assert process.returncode == 2
    assert "Traceback" not in err
    assert f"{tmp_path / 'bitrix24.sqlite'}: the file is damaged" in err
    assert "restore it from a copy, or move it away" in err


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_second_server_does_not_change_the_kept_port(tmp_path: Path) -> None:
    """``server.json`` was written before the CRMs took their files: a second server on
    the same ``--data`` with another ``--port`` was refused, and yet the restart of the
    first then bound the second's port (its printed URLs changed)."""
    first_port, other_port = _free_port(), _free_port()
    first = _portal("--data", str(tmp_path), "--port", str(first_port))
    try:
        _started(first)
        second = _portal("--data", str(tmp_path), "--port", str(other_port))
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2
        assert "another server is using this file" in err
    finally:
        _stop(first)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bitrix24.sqlite", "server.json"]
    again = _portal("--data", str(tmp_path))
    try:
        assert _started(again) == f"http://127.0.0.1:{first_port}"
    finally:
        _stop(again)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("DELETE", "/__admin/crm/bitrix24", id="reset"),
        pytest.param("POST", "/__admin/crm/bitrix24/oauth", id="app-tokens"),
        pytest.param("POST", "/__admin/crm/bitrix24/webhooks", id="webhook"),
    ],
)
async def test_an_admin_write_the_data_file_refuses_is_a_507(
    tmp_path: Path, method: str, path: str
) -> None:
    """The admin routes commit at once (flush); a file that refused it was a 500 with
    aiohttp's traceback on stderr."""
    from mockserver import MockServer
    from mockserver.crm import Bitrix24

    async with MockServer() as server:
        portal = server.mount(Bitrix24(plan="unlimited", data=tmp_path))
        db = portal.store._db
        assert db is not None
        db.execute("PRAGMA query_only=ON")  # as a full disk or a read-only file would
        async with httpx.AsyncClient(base_url=server.url) as client:
            refused = await client.request(method, path, json={})
            assert refused.status_code == 507, refused.text
            assert "could not write its --data file" in refused.json()["detail"]
            db.execute("PRAGMA query_only=OFF")
            assert (await client.request(method, path, json={})).status_code < 300
        portal.store.close()


async def test_a_commit_then_drop_whose_commit_fails_is_a_507(tmp_path: Path) -> None:
    """The fault commits before it drops the connection; a file that refused the commit
    was a 500 with a traceback. The write is not kept, so the fault has nothing to
    drop after: the answer is the 507 any refused write gets."""
    from mockserver import MockServer
    from mockserver.crm import Bitrix24, CrmFault

    async with MockServer() as server:
        portal = server.mount(Bitrix24(plan="unlimited", data=tmp_path))
        portal.add_fault(CrmFault(method="crm.lead.add", kind="commit_then_drop"))
        db = portal.store._db
        assert db is not None
        db.execute("PRAGMA query_only=ON")
        async with httpx.AsyncClient(base_url=server.url + portal.webhook_path) as client:
            refused = await client.post("crm.lead.add.json", json={"fields": {}})
        assert refused.status_code == 507
        assert "could not write its --data file" in refused.json()["error_description"]
        db.execute("PRAGMA query_only=OFF")
        portal.store.close()
