"""The ``mockserver`` command when nobody reads its output: a harness that starts it
with ``stdout=PIPE``, reads the banner and never reads again."""

from __future__ import annotations

import io
import signal
import socket
import threading

from tests.cli import spawn_mockserver

LIVENESS = 30.0  # seconds: how long "eventually" may take on a loaded machine


def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=LIVENESS) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_a_log_nobody_reads_never_freezes_the_server() -> None:
    process = spawn_mockserver("--port", "0")
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        port = int(banner.split()[3].rpartition(":")[2])
        # 2 000 log lines of a kilobyte each: more than any pipe holds. Each answer
        # comes (a blocked print on the event loop froze the server at the pipe's size).
        for number in range(2_000):
            answer = _get(port, f"/{number}/" + "p" * 1_000)
            assert answer.startswith(b"HTTP/1.1 404"), (number, answer[:100])
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=LIVENESS)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert out.splitlines()[0].startswith("#1 GET /0/ppp")
    assert out.splitlines()[-1] == "mockserver stopped after 2000 request(s)"


class _StuckReader(io.StringIO):
    """An output whose reader stops after the first write, until released."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.released = threading.Event()

    def write(self, text: str) -> int:
        self.writing.set()
        assert self.released.wait(LIVENESS)
        return super().write(text)


def test_lines_past_the_queue_are_dropped_and_counted() -> None:
    from mockserver.cli import _QueuedOutput

    stuck = _StuckReader()
    queued = _QueuedOutput(stuck, max_pending=2)
    queued.write("banner\n")
    assert stuck.writing.wait(LIVENESS)  # the thread is held in the first write
    for number in range(5):
        queued.write(f"line {number}\n")
    stuck.released.set()
    queued.close()
    assert stuck.getvalue().splitlines() == [
        "banner",
        "mockserver: 3 log line(s) dropped: the output was not being read",
        "line 0",
        "line 1",
    ]
