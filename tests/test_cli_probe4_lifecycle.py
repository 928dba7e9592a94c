"""Starting ``python -m mockserver`` when something is in the way (a fifth probe): a busy
port, an address the machine lacks, stub paths that are missing, devices, pipes or
wrong, and a signal while it starts. Each is one line on stderr and exit status 2 (a
signal: 128 + its number), in a real subprocess."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

LIVENESS = 60.0


def _run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *argv],
        capture_output=True,
        text=True,
        timeout=LIVENESS,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_busy_port_is_one_line_naming_the_option_and_exit_2(busy_port: int) -> None:
    done = _run("--port", str(busy_port), "--quiet")
    assert done.returncode == 2
    assert done.stderr == (
        f"mockserver: --port: cannot listen on 127.0.0.1:{busy_port}: the port is in use "
        "(another server, or this one still running); give another --port, or 0 for a free "
        "one\n"
    )


def test_a_busy_port_with_tls_still_removes_the_throwaway_ca(busy_port: int) -> None:
    done = _run("--port", str(busy_port), "--tls", "--quiet")
    assert done.returncode == 2
    (tls,) = [line for line in done.stdout.splitlines() if line.startswith("TLS:")]
    ca_file = Path(tls.split()[5])
    assert ca_file.name == "ca.pem"
    assert not ca_file.parent.exists()
    assert len(done.stderr.splitlines()) == 1


def _address_missing_here(address: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, 0))
        except OSError as exc:
            return exc.errno == errno.EADDRNOTAVAIL
    return False


@pytest.mark.skipif(
    not _address_missing_here("192.0.2.1"), reason="this machine has 192.0.2.1 (TEST-NET-1)"
)
def test_an_address_the_machine_lacks_is_one_line_naming_host() -> None:
    done = _run("--host", "192.0.2.1", "--quiet")
    assert done.returncode == 2
    assert done.stderr == (
        "mockserver: --host: cannot listen on 192.0.2.1:0: this machine has no such address\n"
    )


@pytest.mark.parametrize(
    ("name", "line"),
    [
        pytest.param(
            "nope.yaml",
            "mockserver: --stubs: nope.yaml: cannot read: no such file or folder",
            id="missing",
        ),
        pytest.param(
            "/dev/zero",
            "mockserver: --stubs: /dev/zero: not a file or folder of stubs (a device or socket)",
            id="device-read-without-end",
        ),
        pytest.param(
            "empty", "mockserver: empty: no stub files (*.yaml, *.yml, *.json) here", id="folder"
        ),
        pytest.param(
            "broken.yaml",
            "mockserver: broken.yaml:2: YAML syntax: while parsing a flow node did not find "
            "expected node content",
            id="invalid",
        ),
        pytest.param(
            "one.yaml",
            "mockserver: one.yaml:1: request.path: a path starting with '/'; got 'x'",
            id="one-problem",
        ),
        pytest.param(
            "forged\nmockserver listening on http://evil.example.yaml",
            "mockserver: --stubs: forged\\x0amockserver listening on http://evil.example.yaml: "
            "cannot read: no such file or folder",
            id="a-name-that-forges-a-line",
        ),
    ],
)
def test_a_stub_path_that_cannot_be_served_is_one_line(
    tmp_path: Path, name: str, line: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.yaml").write_text("request: [\n")
    (tmp_path / "one.yaml").write_text("request: {path: x}\n")
    done = _run("--stubs", name, "--quiet", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == line + "\n"
    assert done.stdout == ""


def test_several_problems_are_a_head_line_and_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "two.yaml").write_text("- request: {path: x}\n- request: {pth: /x}\n")
    done = _run("--stubs", "two.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "mockserver: 2 problems in the stub files",
        "  two.yaml:1: [0].request.path: a path starting with '/'; got 'x'",
        "  two.yaml:2: [1].request.pth: unknown field; did you mean 'path'?",
    ]


def _start_reading_fifo(tmp_path: Path, *argv: str) -> tuple[subprocess.Popen[str], int]:
    """A server whose ``--stubs`` is a FIFO, and the FIFO's write end once the server has
    opened it: the server is then reading its stubs, not yet listening."""
    fifo = tmp_path / "stubs.yaml"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--stubs", str(fifo), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    while True:  # a non-blocking open of the write end succeeds once a reader has it open
        try:
            return process, os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            no_reader_yet = exc.errno == errno.ENXIO
        assert no_reader_yet
        assert process.poll() is None, process.communicate()
        os.sched_yield()


def test_a_pipe_is_read_as_a_stub_file(tmp_path: Path) -> None:
    # as ``--stubs <(make-stubs)`` gives one
    process, end = _start_reading_fifo(tmp_path, "--quiet")
    try:
        os.write(end, b"- request: {path: /p}\n  response: {text: piped}\n")
        os.close(end)
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "with 1 stub(s)" in banner
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=LIVENESS)
    finally:
        process.kill()
    assert process.returncode == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_starting_is_one_line_and_128_plus_its_number(
    tmp_path: Path, signum: int
) -> None:
    process, end = _start_reading_fifo(tmp_path)
    try:
        process.send_signal(signum)
        out, err = process.communicate(timeout=LIVENESS)
    finally:
        os.close(end)
        process.kill()
    assert process.returncode == 128 + signum  # SIGTERM's default was -15, no word said
    assert err == f"mockserver: {signal.Signals(signum).name} while starting: nothing was served\n"
    assert "Traceback" not in err  # Ctrl-C printed KeyboardInterrupt's
    assert out == ""


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        pytest.param(
            ["--tls-cert", "nope.pem", "--tls-key", "key.pem"],
            "mockserver: --tls-cert nope.pem: No such file or directory",
            id="cert-missing",  # it said "[Errno 2] No such file or directory", naming no file
        ),
        pytest.param(
            ["--tls-cert", "key.pem", "--tls-key", "key.pem"],
            "mockserver: --tls-cert/--tls-key: key.pem and key.pem are not a PEM certificate "
            "and its key (unreadable)",
            id="not-pem",  # it said "[SSL] PEM lib (_ssl.c:3905)"
        ),
        pytest.param(
            ["--tls", "--tls-cert", "key.pem", "--tls-key", "key.pem"],
            "mockserver: --tls and --tls-cert: --tls makes a throwaway certificate; give one "
            "or the other",
            id="both-kinds",  # --tls was ignored without a word
        ),
        pytest.param(
            ["--crm", "amocrm", "--data", "plain-file"],
            "mockserver: --data: cannot keep records in plain-file: it, or a folder above it, "
            "is a file",
            id="data-is-a-file",  # it said "File exists"
        ),
        pytest.param(
            ["--crm", "amocrm", "--data", "plain-file/records"],
            "mockserver: --data: cannot keep records in plain-file/records: it, or a folder "
            "above it, is a file",
            id="data-below-a-file",
        ),
    ],
)
def test_tls_and_data_files_that_cannot_be_used_are_named(
    tmp_path: Path, argv: list[str], line: str
) -> None:
    (tmp_path / "key.pem").write_text("not a certificate\n")
    (tmp_path / "plain-file").write_text("a file\n")
    done = _run(*argv, "--quiet", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == line + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem", "plain-file"]


def test_a_token_from_the_environment_that_cannot_work_says_where_it_came_from() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "--quiet"],
        capture_output=True,
        text=True,
        timeout=LIVENESS,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "MOCKSERVER_ADMIN_TOKEN": "two words"},
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "mockserver: --admin-token (from $MOCKSERVER_ADMIN_TOKEN): a token without spaces"
    )


def test_sighup_stops_like_sigterm_and_removes_the_throwaway_ca() -> None:
    # The terminal closing: SIGHUP's default killed the server where it stood.
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--tls", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        tls = process.stdout.readline()
        assert tls.startswith("TLS:"), tls
        ca_file = Path(tls.split()[5])
        assert "mockserver listening on https://" in process.stdout.readline()
        assert ca_file.is_file()
        process.send_signal(signal.SIGHUP)
        out, err = process.communicate(timeout=LIVENESS)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "mockserver stopped after 0 request(s)"
    assert not ca_file.parent.exists()


def test_a_host_that_cannot_be_bound_cannot_forge_a_line_either() -> None:
    done = _run("--host", "no-such-host.invalid\nmockserver listening on http://evil", "--quiet")
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()  # was two: the second one forged
    assert line.startswith(
        "mockserver: --host: cannot listen on "
        "[no-such-host.invalid\\x0amockserver listening on http://evil]:0: "
    )


def test_an_ignored_sighup_stays_ignored_as_nohup_asks() -> None:
    # `nohup mockserver &` starts it with SIGHUP ignored, to outlive the terminal: the
    # start-up's handler (and the loop's after it) took SIGHUP over and stopped it.
    from mockserver.cli import _catch_early_signals, _stop_signals

    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    previous: dict[int, object] = {}
    try:
        assert signal.SIGHUP not in _stop_signals()
        previous = _catch_early_signals()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.SIGHUP not in previous
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # still taken over
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        signal.signal(signal.SIGHUP, before)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        assert signal.SIGHUP in _stop_signals()  # a terminal's SIGHUP still stops it
    finally:
        signal.signal(signal.SIGHUP, before)
