"""Stub files and the ``mockserver`` command."""

from __future__ import annotations

import contextlib
import io
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import StubError
from mockserver.cli import main
from mockserver.files import load_stub_file
from tests.cli import spawn_mockserver

GOOD = """\
stubs:
  - name: ping
    request: {method: GET, path: /ping}
    response: {json: {pong: true}}
"""

BAD = """\
stubs:
  - name: ok
    request: {method: GET, path: /a}
  - name: bad
    request:
      method: [GET]
      path: nope
    response:
      status: 700
      jsn: {a: 1}
  - request: {path: /x}
    request: {path: /y}
"""


def test_good_file(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(GOOD)
    (stub,) = load_stub_file(path)
    assert stub.name == "ping"


def test_merge_keys_share_what_stubs_have_in_common(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "- &base\n"
        "  request: &req {method: POST, path: /a, headers: {X-Key: k}}\n"
        "  response: {status: 201}\n"
        "- <<: *base\n"
        "  request: {<<: *req, path: /b}\n"
    )
    first, second = load_stub_file(path)
    assert (first.request.path, second.request.path) == ("/a", "/b")
    assert second.request.method == "POST"
    assert second.response is not None
    assert second.response.status == 201
    assert "X-Key" in second.request.headers


def test_json_file_and_documents(tmp_path: Path) -> None:
    json_file = tmp_path / "stubs.json"
    json_file.write_text('[{"request": {"path": "/a"}}, {"request": {"path": "/b"}}]')
    assert len(load_stub_file(json_file)) == 2
    docs = tmp_path / "docs.yaml"
    docs.write_text("request: {path: /a}\n---\nrequest: {path: /b}\n")
    assert len(load_stub_file(docs)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("stubs: [\n  {request: }\n", "YAML syntax", id="syntax"),
        pytest.param("", "holds no stubs", id="empty"),
        pytest.param("- 5\n", "a stub is a mapping", id="not-a-mapping"),
    ],
)
def test_broken_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(StubError, match=message):
        load_stub_file(path)


BAD_JSON = """\
{"stubs": [
  {"request": {"method": "GET", "path": "/a"}},
  {"request": {"path": "nope"},
   "response": {"status": 1e3}}
]}
"""


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            "bad.yaml",
            BAD,
            [
                "6: stubs[1].request.method: text; got ['GET']",
                "7: stubs[1].request.path: a path starting with '/'; got 'nope'",
                "9: stubs[1].response.status: a number of at most 599; got 700",
                "10: stubs[1].response.jsn: unknown field; did you mean 'json'?",
                "12: stubs[2].request: this key is given twice in the same mapping; "
                "only one is allowed",
            ],
            id="yaml",
        ),
        pytest.param(
            # JSON's own rules: 1e3 is the number 1000.0 (shown as written), not text;
            # the lines are found only once an error needs them.
            "bad.json",
            BAD_JSON,
            [
                "3: stubs[1].request.path: a path starting with '/'; got 'nope'",
                "4: stubs[1].response.status: a whole number, written without a fraction or "
                "an exponent; got 1e3",
            ],
            id="json",
        ),
        pytest.param(
            # Escapes that YAML 1.1 reads otherwise do not cost the line.
            "escapes.json",
            '[\n  {"request": {"path": "nope", "headers": {"x": "a\\/b \\ud83d\\ude00"}}}\n]',
            ["2: [0].request.path: a path starting with '/'; got 'nope'"],
            id="json-escapes",
        ),
    ],
)
def test_every_problem_with_file_line_and_field(
    tmp_path: Path, name: str, text: str, expected: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:{line}" for line in expected
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '[\n  {"request": }\n]', r"broken.json:2: JSON syntax: Expecting value", id="syntax"
        ),
        pytest.param("", "holds no stubs", id="empty"),
        pytest.param('[{"request": {"path": NaN}}]', "NaN is not a JSON value", id="nan"),
        pytest.param(
            '[{"request": {"path": "/a"},\n  "request": {"path": "/b"}}]',
            r"broken.json:2: \[0\].request: this key is given twice",
            id="duplicate-key",
        ),
        pytest.param(
            "[" * 100_000 + "]" * 100_000, "broken.json: the JSON nests too deeply", id="too-deep"
        ),
    ],
)
def test_broken_json_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(StubError, match=message):
        load_stub_file(path)


def test_reading_yaml_leaves_no_cyclic_garbage() -> None:
    import gc

    from mockserver.yamlfile import load_documents

    text = "items:\n" + "".join(f"  - {{name: n{i}, value: v{i}, n: {i}}}\n" for i in range(100))
    load_documents(text, "x.yaml")
    gc.collect()
    gc.disable()
    try:
        (document,), problems = load_documents(text, "x.yaml")
        # The parser's nodes and marks go with reference counting, not left for the
        # collector (that was 900 objects here); scenario collection reads whole suites.
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert problems == []
    assert document.data["items"][5] == {"name": "n5", "value": "v5", "n": 5}
    assert document.line_of(("items", 5, "value")) == 7


_KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
_MAPPINGS = st.dictionaries(_KEYS, st.integers(0, 9), max_size=4)


@given(
    bases=st.lists(_MAPPINGS, min_size=1, max_size=3),
    picks=st.lists(st.integers(0, 2), min_size=1, max_size=3),
    written=_MAPPINGS,
    merge_first=st.booleans(),
)
def test_merge_keys_read_as_pyyaml_reads_them(
    bases: list[dict[str, int]], picks: list[int], written: dict[str, int], merge_first: bool
) -> None:
    import yaml

    from mockserver.yamlfile import load_documents

    def flow(mapping: dict[str, int]) -> str:
        return ", ".join(f"{key}: {value}" for key, value in mapping.items())

    lines = [f"b{i}: &b{i} {{{flow(base)}}}" for i, base in enumerate(bases)]
    aliases = [f"*b{pick % len(bases)}" for pick in picks]
    merge = f"<<: [{', '.join(aliases)}]" if len(aliases) > 1 else f"<<: {aliases[0]}"
    parts = [merge, flow(written)] if merge_first else [flow(written), merge]
    lines.append(f"z: {{{', '.join(part for part in parts if part)}}}")
    text = "\n".join(lines) + "\n"
    (document,), problems = load_documents(text, "m.yaml")
    assert problems == []
    assert document.data == yaml.safe_load(text)
    for key in written:
        assert document.line_of(("z", key)) == len(lines)


def test_json_stub_files_are_read_without_pyyaml(tmp_path: Path) -> None:
    # A server started from JSON files does not pay for a YAML parser it never uses.
    path = tmp_path / "stubs.json"
    path.write_text('[{"request": {"path": "/a"}, "response": {"json": {"n": 1e3}}}]')
    code = (
        "import sys; from mockserver.files import load_stub_file; "
        f"(stub,) = load_stub_file({str(path)!r}); "
        "assert stub.response.json_ == {'n': 1000.0}, stub.response; "
        "assert 'yaml' not in sys.modules, 'yaml was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_idle_stub_server_loads_no_code_it_does_not_use(tmp_path: Path) -> None:
    # Resident memory (docs/performance.md): a server of plain stubs from a JSON file,
    # asked for a stub and for its health, loads no YAML parser, no regex engine, no
    # SQLite (only the fake CRMs keep records), no CRM and no dashboard.
    path = tmp_path / "stubs.json"
    path.write_text('[{"request": {"path": "/a"}, "response": {"json": {"n": 1}}}]')
    code = f"""
import asyncio, sys, urllib.request
from mockserver import cli

async def serve(server, out):
    await server.start()
    def ask():
        for path in ("/a", "/__admin/health"):
            with urllib.request.urlopen(server.url + path) as answer:
                assert answer.status == 200, (path, answer.status)
    await asyncio.get_running_loop().run_in_executor(None, ask)
    await server.stop()

cli._serve = serve
assert cli.main(["--stubs", {str(path)!r}, "--quiet"]) == 0
unused = ("yaml", "re2", "sqlite3", "mockserver.crm", "mockserver.ui")
loaded = [name for name in unused if name in sys.modules]
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_dashboard_prefix_is_the_one_the_server_routes() -> None:
    from mockserver import server, ui

    assert server._UI_PREFIX == ui.UI_PREFIX


def test_cli_bad_file_exits_2_and_serves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    out, err = io.StringIO(), io.StringIO()
    assert main(["--stubs", str(path)], out=out, err=err) == 2
    assert f"{path}:6: stubs[1].request.method" in err.getvalue()
    assert f"{path}:12:" in err.getvalue()
    assert out.getvalue() == ""


def test_stub_directories_and_repeated_options_read_every_file(tmp_path: Path) -> None:
    from mockserver.files import load_stub_files

    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "b.yaml").write_text("- request: {path: /b}\n")
    (tmp_path / "a.json").write_text('[{"request": {"path": "/a"}}]')
    (tmp_path / "c.yml").write_text("request: {path: /c}\n")
    (tmp_path / "notes.txt").write_text("not a stub file")
    extra = tmp_path.parent / f"{tmp_path.name}-extra.yaml"
    extra.write_text("- request: {path: /x}\n")
    paths = [stub.request.path for stub in load_stub_files([tmp_path, extra])]
    assert paths == ["/a", "/c", "/b", "/x"]  # in name order, below the directory too

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StubError, match="no stub files"):
        load_stub_files([empty])


def test_cli_takes_stubs_repeated_without_dropping_the_first(tmp_path: Path) -> None:
    import argparse

    from mockserver.cli import build_parser

    first, second = tmp_path / "1.yaml", tmp_path / "2.yaml"
    args: argparse.Namespace = build_parser().parse_args(
        ["--stubs", str(first), "--stubs", str(second), str(tmp_path)]
    )
    assert args.stubs == [str(first), str(second), str(tmp_path)]


def test_cli_missing_file_exits_2(tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["--stubs", str(tmp_path / "nope.yaml")], out=io.StringIO(), err=err) == 2
    assert "cannot read" in err.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "--port: expected an integer 0-65535, got '70000'"),
        (["--journal-cap", "-5"], "--journal-cap: expected a count, 0 or more (0: no limit)"),
        (["--data", "records"], "--data keeps the fake CRMs' records: give --crm"),
        (["--amocrm-subdomain", "acme"], "--amocrm-subdomain is for the fake amocrm"),
        (
            ["--crm", "amocrm", "--bitrix24-secret", "s"],
            "--bitrix24-secret is for the fake bitrix24",
        ),
        (["--crm", "amocrm", "--bitrix24-plan", "unlimited"], "--bitrix24-plan is for the fake"),
        (["--crm", "bitrix24", "--data", "BLOCKED/db"], "--data: cannot keep records in"),
        pytest.param(
            ["--crm", "amocrm", "--data", "GARBAGE"],
            "--data: cannot keep records in",
            id="not-sqlite",
        ),
        pytest.param(["--header-timeout", "-1"], "--header-timeout: expected seconds, more than 0"),
        pytest.param(["--body-timeout", "0"], "--body-timeout: expected seconds, more than 0"),
        pytest.param(["--drain-timeout", "nan"], "--drain-timeout: expected seconds, 0 or more"),
        pytest.param(["--journal-bytes", "-1"], "--journal-bytes: expected a number of bytes"),
        pytest.param(["--journal-body-cap", "-2"], "--journal-body-cap: expected a number"),
    ],
)
def test_cli_options_that_cannot_work_exit_2_with_one_line(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    (tmp_path / "BLOCKED").write_text("a file, not a folder")
    (tmp_path / "GARBAGE").mkdir()
    (tmp_path / "GARBAGE" / "amocrm.sqlite").write_text("not a database, but a text file\n" * 99)
    for word in ("BLOCKED", "GARBAGE"):
        argv = [arg.replace(word, str(tmp_path / word)) for arg in argv]
    err = io.StringIO()
    assert main(argv, out=io.StringIO(), err=err) == 2
    assert message in err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) <= 2  # a head line and the problem


def test_cli_help_reads_well(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--stubs", "127.0.0.1"):
        assert option in text


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_logs_and_stops_cleanly(tmp_path: Path, signum: int) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(GOOD)
    process = spawn_mockserver("--stubs", str(path))
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "mockserver listening on http://127.0.0.1:" in banner
        url = banner.split()[3]
        assert httpx.get(url + "/ping").json() == {"pong": True}
        assert httpx.get(url + "/nope").status_code == 404
        process.send_signal(signum)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("#1 GET /ping -> 200 (stub ")
    assert lines[1] == "#2 GET /nope -> 404 (NO MATCH)"
    assert lines[-1] == "mockserver stopped after 2 request(s)"
    assert "Traceback" not in err


def test_cli_says_when_it_listens_beyond_this_machine() -> None:
    process = spawn_mockserver("--host", "0.0.0.0", "--quiet")
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        note = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    finally:
        process.kill()
    assert "mockserver listening on http://0.0.0.0:" in banner
    assert note.startswith("note: listening on every network interface")
    assert "--host 127.0.0.1" in note


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        pytest.param(
            ["--crm", "amocrm", "--amocrm-subdomain", "a b"],
            "mockserver: --amocrm-subdomain: got 'a b', expected a host name label",
            id="subdomain",
        ),
        pytest.param(
            ["--crm", "bitrix24", "--bitrix24-secret", "a/b"],
            "mockserver: --bitrix24-secret: got 'a/b', expected letters, digits",
            id="secret",
        ),
    ],
)
def test_cli_crm_names_that_cannot_be_in_a_url_exit_2(argv: list[str], says: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 2
    assert err.getvalue().startswith(says)


def _banner(process: subprocess.Popen[str]) -> list[str]:
    """The lines a started server prints before it serves (up to the listening line)."""
    assert process.stdout is not None
    lines = []
    while True:
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
        lines.append(line)
        if line.startswith("mockserver listening on"):
            return lines


def _url(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("mockserver listening")).split()[3]


def test_cli_tls_removes_its_throwaway_ca_at_exit() -> None:
    process = spawn_mockserver("--tls", "--quiet")
    try:
        lines = _banner(process)
        (tls,) = [line for line in lines if line.startswith("TLS:")]
        ca_file = Path(tls.split()[5])
        assert ca_file.is_file()
        trusted = ssl.create_default_context(cafile=str(ca_file))
        assert httpx.get(_url(lines) + "/__admin/health", verify=trusted).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0
    assert not ca_file.parent.exists()


def test_cli_sigterm_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    import socket
    import time

    path = tmp_path / "up.yaml"
    path.write_text("- request: {path: /up}\n  response: {status: 201}\n")
    process = spawn_mockserver("--stubs", str(path), "--drain-timeout", "30")
    try:
        url = _url(_banner(process))
        port = int(url.rsplit(":", 1)[1])
        # In flight and held there by its own body, not by a delay: no timing involved.
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nab")
            deadline = time.monotonic() + 30
            while httpx.get(url + "/__admin/health").json()["in_flight"] != 1:
                assert time.monotonic() < deadline, "the request never got in flight"
                time.sleep(0.02)  # polling, bounded by the deadline
            process.send_signal(signal.SIGTERM)
            assert process.stdout is not None
            stopping = process.stdout.readline()
            assert "no new connections; waiting up to 30 s for requests in flight" in stopping
            with pytest.raises(httpx.ConnectError):  # new connections are refused
                httpx.get(url + "/__admin/health")
            sock.sendall(b"cd")
            answer = sock.recv(65536)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert answer.startswith(b"HTTP/1.1 201 ")
    assert process.returncode == 0, err
    assert out.startswith("#1 POST /up -> 201")
    assert "Traceback" not in err


def test_cli_drain_is_bounded(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "hang.yaml"
    path.write_text("- request: {path: /hang}\n  response: {fault: no_response}\n")
    process = spawn_mockserver("--stubs", str(path), "--drain-timeout", "0.2")
    failures: list[Exception] = []

    def call() -> None:
        try:
            httpx.get(url + "/hang", timeout=60)
        except httpx.HTTPError as exc:
            failures.append(exc)

    try:
        url = _url(_banner(process))
        thread = threading.Thread(target=call)
        thread.start()
        assert process.stdout is not None
        assert process.stdout.readline().startswith("#1 GET /hang")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)  # not the fault's 60 s
        thread.join(30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert len(failures) == 1  # cut off without an answer


def test_cli_admin_token_and_allowed_hosts() -> None:
    process = spawn_mockserver("--admin-token", "t0k", "--admin-allow-host", "mock.test", "--quiet")
    try:
        url = _url(_banner(process))
        assert process.stdout is not None
        assert process.stdout.readline().startswith("admin API: every request needs")
        assert httpx.get(url + "/__admin/health").status_code == 401
        bearer = {"Authorization": "Bearer t0k"}
        assert httpx.get(url + "/__admin/health", headers=bearer).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        process.kill()
    process = spawn_mockserver("--admin-allow-host", "mock.test", "--quiet")
    try:
        url = _url(_banner(process))
        port = url.rsplit(":", 1)[1]
        named = {"Host": f"mock.test:{port}"}
        assert httpx.get(url + "/__admin/health", headers=named).status_code == 200
        assert httpx.get(url + "/__admin/health", headers={"Host": "evil.test"}).status_code == 403
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        process.kill()


def test_cli_a_client_that_vanishes_mid_body_is_one_log_line_and_no_traceback() -> None:
    import socket

    process = spawn_mockserver()
    try:
        url = _url(_banner(process))
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123")
        assert process.stdout is not None
        logged = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert logged == "#1 POST /a -> no answer (INCOMPLETE)\n"
    assert err == ""


def test_cli_a_second_signal_ends_the_drain(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "hang.yaml"
    path.write_text("- request: {path: /hang}\n  response: {fault: no_response}\n")
    process = spawn_mockserver("--stubs", str(path), "--drain-timeout", "600")
    try:
        url = _url(_banner(process))
        thread = threading.Thread(target=lambda: _quietly(url + "/hang"))
        thread.start()
        assert process.stdout is not None
        assert process.stdout.readline().startswith("#1 GET /hang")
        process.send_signal(signal.SIGTERM)
        assert process.stdout.readline().startswith("mockserver stopping")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)  # not the drain's 600 s
        thread.join(30)
    finally:
        process.kill()
    assert process.returncode == 0, err


def _quietly(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, timeout=60)
