"""CPU per request of the mock server against a bare aiohttp app, without sockets or a client.

    python bench/bench_mockserver_cpu.py [--requests 3000] [--callgrind] [--batch 32 1]

Each server's own aiohttp protocol is fed the same requests (``GET /ping`` and
``POST /echo`` as in ``bench_mockserver.py``) over an in-memory transport, 32
pipelined in one read, and one request a read (``--batch``: a keep-alive client
that waits for each answer, as wrk, curl and the HTTP client libraries do), so
the figure is the server's work alone: no socket, no wrk sharing the machine.
12 000 requests go first, so the mock server's journal is full (each new entry
pushes one out, as in a long run); then ``--requests`` are counted.

Without ``--callgrind``: CPU microseconds per request (``time.process_time``),
the median of five runs; on a busy machine these still vary. With
``--callgrind``: each server runs under ``valgrind --tool=callgrind`` and the
figure is instructions per request, which the machine's load does not change
(each run takes a minute or two). The mock server has the same 100 other stubs
as in ``bench_mockserver.py`` and its journal on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _servers import bare_app  # noqa: E402
from bench_mockserver import BODY, stub_file  # noqa: E402

_POST = (
    b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)
) + BODY.encode()
_GET = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
REQUESTS = {"GET": _GET, "POST": _POST}
FILL = 12_000


class _Transport(asyncio.Transport):
    """Takes what the server writes and counts the answers."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = 0

    def write(self, data: Any) -> None:
        self.answers += bytes(data).count(b"HTTP/1.1 200 ")

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def _feed(server: web.Server, raw: bytes, count: int, batch: int) -> None:
    """``count`` requests through one connection, ``batch`` a read; every answer a 200."""
    transport = _Transport()
    protocol = server()
    protocol.connection_made(transport)
    chunk = raw * batch
    sent = 0
    spins = 0
    while sent < count:
        protocol.data_received(chunk)
        sent += batch
        while transport.answers < sent:
            await asyncio.sleep(0)
            spins += 1
            if spins > 1000 * count:
                raise SystemExit(f"only {transport.answers} of {sent} requests answered 200")
    protocol.connection_lost(None)


async def _bare() -> web.Server:
    runner = web.AppRunner(bare_app(), access_log=None)
    await runner.setup()
    assert runner.server is not None
    return runner.server


async def _mockserver(stubs: Path) -> web.Server:
    from mockserver.files import load_stub_files
    from mockserver.server import MockServer

    return MockServer(load_stub_files([str(stubs)]))._make_server()


async def _measure(
    kind: str, method: str, count: int, batch: int, stubs: Path, callgrind: bool
) -> None:
    server = await (_bare() if kind == "bare" else _mockserver(stubs))
    raw = REQUESTS[method]
    await _feed(server, raw, FILL, batch)
    if callgrind:
        subprocess.run(["callgrind_control", "-z", str(os.getpid())], capture_output=True)
        await _feed(server, raw, count, batch)
        subprocess.run(["callgrind_control", "-d", str(os.getpid())], capture_output=True)
        return
    figures = []
    for _ in range(5):
        start = time.process_time()
        await _feed(server, raw, count, batch)
        figures.append((time.process_time() - start) / count * 1e6)
    print(json.dumps(statistics.median(figures)))


def _one(kind: str, method: str, count: int, batch: int, stubs: Path, callgrind: bool) -> float:
    """Run one measurement in a fresh process; CPU µs or instructions per request."""
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        method,
        str(count),
        str(batch),
        str(stubs),
    ]
    if not callgrind:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return float(out.strip().splitlines()[-1])
    folder = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    try:
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={folder}/out",
                "--dump-instr=no",
                *command,
                "--callgrind",
            ],
            capture_output=True,
            check=True,
        )
        counted = (folder / "out.1").read_text().splitlines()
        (summary,) = (line for line in counted if line.startswith("summary:"))
        return int(summary.split()[1]) / count
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 1])
    parser.add_argument("--child", nargs=5, metavar=("KIND", "METHOD", "COUNT", "BATCH", "STUBS"))
    args = parser.parse_args()
    if args.child:
        kind, method, count, batch, stubs = args.child
        asyncio.run(_measure(kind, method, int(count), int(batch), Path(stubs), args.callgrind))
        return
    if args.callgrind and not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed (Debian: apt-get install valgrind)")
    stubs = stub_file(100, regex=False, directory=Path(tempfile.mkdtemp()))
    unit = "instructions" if args.callgrind else "CPU µs"
    print(f"{unit} per request, {args.requests} counted after {FILL} (journal full)")
    for batch in args.batch:
        for method in ("GET", "POST"):
            bare = _one("bare", method, args.requests, batch, stubs, args.callgrind)
            ours = _one("mockserver", method, args.requests, batch, stubs, args.callgrind)
            print(
                f"{method:<5} {batch:>2} a read  bare aiohttp {bare:>10.1f}  "
                f"mockserver {ours:>10.1f}  ratio {bare / ours:.2f}x"
            )


if __name__ == "__main__":
    main()
