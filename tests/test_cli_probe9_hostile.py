"""The command line against hostile values (a ninth probe): every refusal is one line
naming the option or the file, exit status 2, no traceback, as a real
``python -m mockserver``; and a ``--data`` file of another program is left untouched."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.files import load_stub_file


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def _refused(*argv: str, cwd: Path | None = None) -> str:
    """The one line a refused command prints (exit 2, nothing else on stderr)."""
    done = _run(*argv, cwd=cwd)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    return line


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        pytest.param(
            ["--host", "a" * 64],
            f"mockserver: --host: expected an address such as 127.0.0.1 or 0.0.0.0, got "
            f"'{'a' * 64}' (a host name's parts between dots are 1 to 63 characters)",
            id="host-label-too-long",  # UnicodeError from the idna codec: a traceback
        ),
        pytest.param(
            ["--host", "mock..example"],
            "mockserver: --host: expected an address such as 127.0.0.1 or 0.0.0.0, got "
            "'mock..example' (a host name's parts between dots are 1 to 63 characters)",
            id="host-empty-label",
        ),
    ],
)
def test_a_host_no_resolver_can_read_is_one_line(argv: list[str], line: str) -> None:
    assert _refused(*argv) == line


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--admin-token", ""], id="admin-token"),  # ran with no token at all
        pytest.param(["--crm", "bitrix24", "--data", ""], id="data"),  # kept records in "."
        pytest.param(["--crm", "amocrm", "--amocrm-subdomain", ""], id="amocrm-subdomain"),
        pytest.param(["--crm", "bitrix24", "--bitrix24-secret", ""], id="bitrix24-secret"),
        pytest.param(["--tls-cert", "", "--tls-key", "key.pem"], id="tls-cert"),
    ],
)
def test_an_empty_value_is_refused_not_taken_as_the_default(
    tmp_path: Path, argv: list[str]
) -> None:
    option = argv[argv.index("") - 1]
    line = _refused(*argv, cwd=tmp_path)
    assert line == (
        f"mockserver: {option}: empty; give a value, or leave the option out for its default"
    )
    assert list(tmp_path.iterdir()) == []  # no records kept in the folder it ran in


def _foreign_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (number TEXT, total REAL)")
    db.execute("INSERT INTO invoices VALUES ('A-1', 10.5)")
    db.commit()
    db.close()


def _shape(path: Path) -> tuple[list[str], int, str]:
    db = sqlite3.connect(path)
    try:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master ORDER BY name")]
        (version,) = db.execute("PRAGMA user_version").fetchone()
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
        return tables, version, mode
    finally:
        db.close()


@pytest.mark.parametrize("crm", ["bitrix24", "amocrm"])
def test_a_data_file_of_another_program_is_refused_and_left_as_it_was(
    tmp_path: Path, crm: str
) -> None:
    # Its tables were joined by ours, its user_version set and its journal made WAL.
    data = tmp_path / "data"
    data.mkdir()
    found = data / f"{crm}.sqlite"
    _foreign_database(found)
    before = _shape(found)
    line = _refused("--crm", crm, "--data", str(data))
    assert line == (
        f"mockserver: --data: cannot keep records in {data}: {found}: holds tables this "
        "server does not make ('invoices'): a file of another program; move it away, or "
        "give another --data"
    )
    assert _shape(found) == before == (["invoices"], 0, "delete")


def test_a_data_file_of_a_later_layout_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "bitrix24.sqlite")
    db.execute("PRAGMA user_version=7")
    db.close()
    line = _refused("--crm", "bitrix24", "--data", str(data))
    assert line.startswith(f"mockserver: --data: cannot keep records in {data}: ")
    assert "written by a newer version (layout 7;" in line


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        pytest.param(
            "nul.yaml",
            b"- request: {path: /a\x00}\n",
            ":1: YAML: the character U+0000 at column 21",
            id="nul-in-yaml",
        ),
        pytest.param(
            "nul.json",
            b'[{"request": {"path": "/a\x00"}}]',
            ":1: JSON syntax: Invalid control character",
            id="nul-in-json",
        ),
        pytest.param(
            "latin1.yaml",
            b"- request: {path: /caf\xe9}\n",
            ":1: byte 0xe9 at column 23 is not UTF-8",
            id="not-utf-8",
        ),
    ],
)
def test_a_stub_file_with_bytes_it_cannot_hold_is_one_line_with_its_line(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    line = _refused("--stubs", str(path))
    assert line.startswith(f"mockserver: {path}{expected}")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bom.yaml", "\ufeff- request: {path: /a}\n"),
        ("bom.json", '\ufeff[{"request": {"path": "/a"}}]'),
    ],
)
def test_a_stub_file_with_a_byte_order_mark_is_read(
    tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    (stub,) = load_stub_file(path)
    assert stub.request.path == "/a"


def test_a_stub_file_named_in_bytes_that_are_not_utf_8_is_named_escaped(
    tmp_path: Path,
) -> None:
    name = b"bad\xffname.yaml"
    target = str(tmp_path).encode() + b"/" + name
    with open(target, "wb") as handle:
        handle.write(b"- request: {path: /a}\n  response: {status: 999}\n")
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"mockserver", b"--stubs", target],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    (line,) = done.stderr.decode("utf-8").splitlines()
    assert line == (
        f"mockserver: {tmp_path}/bad\\xffname.yaml:2: [0].response.status: "
        "a number of at most 599; got 999"
    )


@pytest.mark.parametrize(
    ("content", "got"),
    [
        pytest.param(b"{not json\n", "'{not json'", id="not-json"),
        pytest.param(b'{"port": 99999}', "'{\"port\": 99999}'", id="past-65535"),
        pytest.param(b'{"port": "8080"}', '\'{"port": "8080"}\'', id="text"),
        pytest.param(b'{"port": true}', "'{\"port\": true}'", id="boolean"),
        pytest.param(b"\xff\xfe", "bytes that are not UTF-8", id="not-utf-8"),
    ],
)
def test_a_kept_port_that_cannot_be_read_is_one_line_not_a_random_port(
    tmp_path: Path, content: bytes, got: str
) -> None:
    # It was ignored: the server took a free port, and the CRM URLs printed before changed.
    kept = tmp_path / "server.json"
    kept.write_bytes(content)
    line = _refused("--crm", "bitrix24", "--data", str(tmp_path))
    assert line == (
        f'mockserver: --data: {kept}: expected the kept port, {{"port": 1-65535}}, got {got}; '
        "give --port N to keep a new one, or remove the file"
    )
    assert kept.read_bytes() == content


@pytest.mark.parametrize("host", ["Ex.amocrm.ru", "ex.amocrm.ru", "EX.AMOCRM.RU"])
def test_an_amocrm_subdomain_with_capitals_is_reached_in_any_case(host: str) -> None:
    # --amocrm-subdomain Ex printed https://Ex.amocrm.ru, which httpx sends as
    # Host: ex.amocrm.ru: "Account 'ex' not found" (401).
    import httpx

    from mockserver import MockServer
    from mockserver.crm import AmoCRM

    assert httpx.Request("GET", "https://Ex.amocrm.ru/").headers["host"] == "ex.amocrm.ru"
    with MockServer() as server:
        token = server.mount(AmoCRM(subdomain="Ex")).issue_token("cli")
        answer = httpx.get(
            server.url + "/api/v4/leads",
            headers={"Host": host, "Authorization": f"Bearer {token}"},
            timeout=30,
        )
    assert answer.status_code == 204
