"""``--data`` holding what this version cannot use: one line naming ``--data``, the file
and why, exit code 2, never a traceback (and never a 500 at the first request)."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.cli import spawn_mockserver


def _db(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def _refused(*argv: str) -> str:
    """Run the CLI; it must exit 2 without a traceback. Its standard error."""
    process = spawn_mockserver(*argv, "--port", "0")
    try:
        # A server that starts instead of refusing would run until stopped: the limit
        # only ends such a run, the verdict is the exit code.
        _, text = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"the server started with {argv}, which it should refuse")
    assert process.returncode == 2
    assert "Traceback" not in text
    return text


_META = "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)"
_RECORDS = "CREATE TABLE records (entity TEXT, id INTEGER, body TEXT, PRIMARY KEY (entity, id))"


@pytest.mark.parametrize(
    ("crm", "statements", "message"),
    [
        pytest.param(
            "bitrix24",
            (_RECORDS, "PRAGMA user_version=7"),
            "written by a newer version (layout 7",
            id="newer-layout",
        ),
        pytest.param(
            "bitrix24",
            ("CREATE TABLE records (entity TEXT, id INTEGER, body TEXT, extra TEXT NOT NULL)",),
            "table records has columns entity, id, body, extra",
            id="other-columns",
        ),
        pytest.param(
            "bitrix24",
            (_RECORDS, "INSERT INTO records VALUES ('lead', 1, 'not json')"),
            "records row 'lead' 1 is not the JSON this version writes",
            id="record-not-json",
        ),
        pytest.param(
            "amocrm",
            (_RECORDS, "INSERT INTO records VALUES ('leads', 1, '[1, 2]')"),
            "records row 'leads' 1 is not a record of ours",
            id="record-not-an-object",
        ),
        pytest.param(
            "bitrix24",
            (_META, "INSERT INTO meta VALUES ('identity', '[1, 2]')"),
            "meta 'identity' holds list",
            id="bitrix24-identity-a-list",
        ),
        pytest.param(
            "bitrix24",
            (_META, "INSERT INTO meta VALUES ('oauth_access', '\"x\"')"),
            "meta 'oauth_access' holds str",
            id="bitrix24-tokens-a-text",
        ),
        pytest.param(
            "bitrix24",
            (_META, "INSERT INTO meta VALUES ('webhooks', '{\"a\": 5}')"),
            "a file there holds data this version cannot read",
            id="bitrix24-webhook-not-a-pair",
        ),
        pytest.param(
            "amocrm",
            (_META, "INSERT INTO meta VALUES ('tokens', '[1, 2]')"),
            "meta 'tokens' holds list",
            id="amocrm-tokens-a-list",
        ),
        pytest.param(
            "amocrm",
            (_META, "INSERT INTO meta VALUES ('oauth', '{\"integrations\": {\"x\": 1}}')"),
            "a file there holds data this version cannot read",
            id="amocrm-integration-not-an-object",
        ),
    ],
)
def test_a_data_file_this_version_cannot_use_is_one_line_and_exit_2(
    tmp_path: Path, crm: str, statements: tuple[str, ...], message: str
) -> None:
    _db(tmp_path / f"{crm}.sqlite", *statements)
    text = _refused("--crm", crm, "--data", str(tmp_path))
    assert f"--data: cannot keep records in {tmp_path}" in text
    assert message in text
    assert len(text.strip().splitlines()) <= 2  # a head line and the problem


def test_a_file_of_this_version_opens_again_and_is_marked_with_its_layout(tmp_path: Path) -> None:
    from mockserver.crm import Bitrix24
    from mockserver.crm.store import SCHEMA_VERSION

    portal = Bitrix24(data=tmp_path)
    portal.store.close()
    db = sqlite3.connect(tmp_path / "bitrix24.sqlite")
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    db.close()
    again = Bitrix24(data=tmp_path)
    assert again.secret == portal.secret
    again.store.close()


def test_two_portal_names_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    text = _refused("--crm", "bitrix24:Shop", "--crm", "bitrix24:shop", "--data", str(tmp_path))
    assert "--crm bitrix24:Shop and --crm bitrix24:shop" in text
    assert list(tmp_path.iterdir()) == []  # refused before any file is made


async def test_a_write_the_data_file_refuses_is_a_507_in_the_portals_shape(
    tmp_path: Path,
) -> None:
    import httpx

    from mockserver import MockServer
    from mockserver.crm import Bitrix24

    async with MockServer() as server:
        portal = server.mount(Bitrix24(plan="unlimited", data=tmp_path))
        db = portal.store._db
        assert db is not None
        async with httpx.AsyncClient(base_url=server.url + portal.webhook_path) as client:
            db.execute("PRAGMA query_only=ON")  # as a full disk or a read-only file would
            failed = await client.post("crm.lead.add.json", json={"fields": {}})
            assert failed.status_code == 507
            assert failed.json()["error"] == "ERROR_CORE"
            assert "could not write its --data file" in failed.json()["error_description"]
            db.execute("PRAGMA query_only=OFF")
            again = await client.post("crm.lead.add.json", json={"fields": {}})
            assert again.status_code == 200
