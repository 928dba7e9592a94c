"""Requests per second of the mock server against a bare aiohttp app, measured with wrk.

    python bench/bench_mockserver.py [--seconds 5] [--peers] [--rounds 3 --no-matching]

Each server runs in its own process pinned to core 1, wrk (one thread, 32
connections) to core 0, on 127.0.0.1 only. Two requests, as in
``perf-anchors.md``: ``GET /ping`` answering a small JSON, and ``POST /echo``
with ``{"name": "bench", "value": 42}`` matched on its body and echoed.

- The mock server has 100 other stubs registered and its journal on.
- Matching cost: 10, 100, 1 000 and 10 000 stubs, with exact paths, path
  templates and regex paths (all indexed: see docs/matching.md);
  ``--matching-only`` measures just that (``bench/bench_scale.py`` measures the
  same without HTTP in the way).
- Memory: resident size idle, and after the load. A second bare aiohttp app that
  has imported pydantic and built one model shows the floor for any server that
  validates with pydantic.
- The project is byte-compiled first, as ``pip install`` leaves a package: with
  ``PYTHONDONTWRITEBYTECODE`` set (some images set it) every start would
  otherwise compile our modules from source, which costs time and about 1 MiB
  of the resident size that an installed server never pays.
- ``--peers`` also measures pytest-httpserver (installed from PyPI into
  ``bench/.peers``), WireMock and mountebank (from the npm registry, into the
  same folder; WireMock needs Java).

Prints requests per second and each figure's ratio to bare aiohttp in the same run.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from _yardstick import yardstick

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
BODY = json.dumps({"name": "bench", "value": 42})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(command: list[str], core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *command]
    return command


def wait_for(url: str, seconds: float = 60, process: subprocess.Popen[bytes] | None = None) -> None:
    """Until ``url`` answers; a server ``process`` that ends first is reported with what it
    wrote on stderr (a port taken meanwhile, a stub file refused), not waited on."""
    end = time.time() + seconds
    while time.time() < end:
        if process is not None and process.poll() is not None:
            said = ""
            if process.stderr is not None:
                process.stderr.seek(0)
                said = process.stderr.read().decode(errors="replace")
            raise SystemExit(f"the server for {url} ended ({process.returncode}): {said[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url} within {seconds} s")


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(found.group(1)) if found else 0
    return total / 1024


def wrk(url: str, seconds: float, *, post: bool) -> float:
    command = ["wrk", "-t1", "-c32", f"-d{max(1, round(seconds))}s", "--latency"]
    script = None
    if post:
        script = Path(tempfile.mkdtemp()) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(BODY)}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        command += ["-s", str(script)]
    output = subprocess.run(
        pinned([*command, url], 0), capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert found, output
    assert total, output
    if non2xx:
        # Only successful answers count; a server that fails under load is not faster.
        good = 1 - int(non2xx.group(1)) / max(int(total.group(1)), 1)
        print(
            f"  note: {url}: {non2xx.group(1)} of {total.group(1)} answers were not 2xx",
            file=sys.stderr,
        )
        return float(found.group(1)) * good
    return float(found.group(1))


class Server:
    def __init__(
        self,
        name: str,
        command: list[str],
        base: str,
        ready: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.command, self.base, self.ready = name, command, base, ready
        self.env, self.cwd = env, cwd
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            pinned(self.command, 1),
            stdout=subprocess.DEVNULL,
            # A file, not a pipe (a chatty peer would fill a pipe nobody reads); read only
            # if the server ends before it answers.
            stderr=tempfile.TemporaryFile(),
            env={**os.environ, **(self.env or {})},
            cwd=self.cwd,
            start_new_session=True,
        )
        wait_for(self.base + self.ready, process=self.process)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def stub_file(extra: int, *, regex: bool, directory: Path, template: bool = False) -> Path:
    stubs: list[dict[str, object]] = []
    for number in range(extra):
        request: dict[str, object] = {"method": "GET"}
        if regex:
            request["path_regex"] = f"/other/{number}/[a-z]+"
        elif template:
            request["path"] = f"/other/{number}/{{name}}"
        else:
            request["path"] = f"/other/{number}"
        stubs.append({"request": request, "response": {"json": {"n": number}}, "priority": 5})
    ping: dict[str, object] = {"method": "GET"}
    if regex:
        ping["path_regex"] = "/pin[g]"
    else:
        ping["path"] = "/ping"
    stubs.append(
        {"request": ping, "response": {"json": {"pong": True, "server": "bench"}}, "priority": 9}
    )
    stubs.append(
        {
            "request": {
                "method": "POST",
                "path": "/echo",
                "json_paths": {"name": "bench", "value": 42},
            },
            "response": {"json": {"echo": "{request.json}"}},
        }
    )
    kind = "regex" if regex else "template" if template else "exact"
    path = directory / f"stubs-{extra}-{kind}.json"
    path.write_text(json.dumps(stubs))
    return path


def mockserver(stubs: Path, port: int) -> Server:
    return Server(
        "mockserver",
        [sys.executable, "-m", "mockserver", "--stubs", str(stubs), "--port", str(port), "--quiet"],
        f"http://127.0.0.1:{port}",
        "/__admin/health",
    )


def bare(port: int, kind: str = "bare") -> Server:
    return Server(
        "bare aiohttp",
        [sys.executable, str(HERE / "_servers.py"), kind, str(port)],
        f"http://127.0.0.1:{port}",
        "/ping",
    )


def install_peers() -> None:
    PEERS.mkdir(exist_ok=True)
    if not (PEERS / "venv").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS / "venv")], check=True)
        subprocess.run(
            [str(PEERS / "venv" / "bin" / "pip"), "install", "-q", "pytest-httpserver", "aiohttp"],
            check=True,
        )
    if not (PEERS / "node_modules" / "wiremock").exists():
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(PEERS), "wiremock", "mountebank"],
            check=True,
        )


def httpserver(port: int) -> Server:
    return Server(
        "pytest-httpserver",
        [
            str(PEERS / "venv" / "bin" / "python"),
            str(HERE / "_servers.py"),
            "httpserver",
            str(port),
        ],
        f"http://127.0.0.1:{port}",
        "/ping",
    )


def wiremock(port: int) -> Server:
    root = Path(tempfile.mkdtemp())
    (root / "mappings").mkdir()
    (root / "mappings" / "stubs.json").write_text(
        json.dumps(
            {
                "mappings": [
                    {
                        "request": {"method": "GET", "url": "/ping"},
                        "response": {"status": 200, "jsonBody": {"pong": True, "server": "bench"}},
                    },
                    {
                        "request": {
                            "method": "POST",
                            "url": "/echo",
                            "bodyPatterns": [{"equalToJson": BODY}],
                        },
                        "response": {
                            "status": 200,
                            # A space before the closing brace: Handlebars reads "}}}}" as an error.
                            "body": '{"echo": {{{request.body}}} }',
                            "transformers": ["response-template"],
                        },
                    },
                ]
            }
        )
    )
    jar = next((PEERS / "node_modules" / "wiremock").rglob("wiremock*.jar"))
    return Server(
        "WireMock",
        [
            "java",
            "-jar",
            str(jar),
            "--port",
            str(port),
            "--root-dir",
            str(root),
            "--disable-banner",
        ],
        f"http://127.0.0.1:{port}",
        "/__admin/health",
    )


def mountebank(port: int, admin: int) -> Server:
    config = Path(tempfile.mkdtemp()) / "imposters.json"
    config.write_text(
        json.dumps(
            {
                "imposters": [
                    {
                        "protocol": "http",
                        "port": port,
                        "stubs": [
                            {
                                "predicates": [{"equals": {"method": "GET", "path": "/ping"}}],
                                "responses": [
                                    {
                                        "is": {
                                            "statusCode": 200,
                                            "headers": {"Connection": "keep-alive"},
                                            "body": {"pong": True, "server": "bench"},
                                        }
                                    }
                                ],
                            },
                            {
                                "predicates": [
                                    {"deepEquals": {"method": "POST", "path": "/echo"}},
                                    {"equals": {"body": {"name": "bench", "value": 42}}},
                                ],
                                "responses": [
                                    {
                                        "is": {
                                            "statusCode": 200,
                                            "headers": {"Connection": "keep-alive"},
                                            "body": BODY,
                                        }
                                    }
                                ],
                            },
                        ],
                    }
                ]
            }
        )
    )
    mb = PEERS / "node_modules" / ".bin" / "mb"
    return Server(
        "mountebank",
        [
            str(mb),
            "--port",
            str(admin),
            "--configfile",
            str(config),
            "--loglevel",
            "warn",
            # Its log would otherwise land in the working directory (the checkout).
            "--logfile",
            str(config.parent / "mb.log"),
        ],
        f"http://127.0.0.1:{port}",
        "/ping",
    )


def check_answers(server: Server) -> None:
    """Both requests answered 2xx with the right echo, or the figures would mean nothing."""
    with urllib.request.urlopen(server.base + "/ping", timeout=5) as response:
        assert response.status == 200, f"{server.name}: GET /ping answered {response.status}"
    request = urllib.request.Request(
        server.base + "/echo",
        data=BODY.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{server.name}: POST /echo answered {exc.code}") from exc
    if answer != {"echo": json.loads(BODY)} and answer != json.loads(BODY):
        raise SystemExit(f"{server.name}: POST /echo answered {answer!r}")


def measure(
    make: Callable[[int], Server], seconds: float, warmup: float
) -> tuple[float, float, float, float]:
    port = free_port()
    with make(port) as server:
        assert server.process is not None
        check_answers(server)
        idle = rss_mib(server.process.pid)
        wrk(server.base + "/ping", warmup, post=False)
        get = wrk(server.base + "/ping", seconds, post=False)
        post = wrk(server.base + "/echo", seconds, post=True)
        loaded = rss_mib(server.process.pid)
    return get, post, idle, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--peers", action="store_true")
    parser.add_argument("--matching-only", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure bare aiohttp and the mock server this many times, alternating",
    )
    parser.add_argument("--no-matching", action="store_true", help="skip the matching cost")
    args = parser.parse_args()
    print(yardstick(), flush=True)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    for package in ("webhook_core", "mockserver"):
        compileall.compile_dir(HERE.parent / package, quiet=1)
    directory = Path(tempfile.mkdtemp())
    if not args.matching_only:
        for _ in range(max(1, args.rounds)):
            overall(args, directory)
    if args.no_matching:
        return
    print("matching cost: GET /ping with N other stubs (mockserver)")
    print(f"{'stubs':>7}{'exact GET/s':>14}{'template GET/s':>16}{'regex GET/s':>14}")
    first: list[float] = []
    for count in (10, 100, 1000, 10000):
        figures = []
        for options in ({}, {"template": True}, {"regex": True}):
            path = stub_file(count, directory=directory, **{"regex": False, **options})
            figures.append(
                measure(lambda port, f=path: mockserver(f, port), args.seconds / 2, 1)[0]
            )
        first = first or figures
        print(f"{count:>7}{figures[0]:>14.0f}{figures[1]:>16.0f}{figures[2]:>14.0f}")
    print(
        "  (10 000 over 10: "
        + ", ".join(f"{f / b:.2f}x" for f, b in zip(figures, first, strict=True))
        + ")"
    )


def overall(args: argparse.Namespace, directory: Path) -> None:
    rows: list[tuple[str, float, float, float, float]] = []
    rows.append(("bare aiohttp", *measure(bare, args.seconds, args.warmup)))
    # Any server that validates with pydantic holds this much more (the memory floor).
    rows.append(
        (
            "bare aiohttp + pydantic, one model",
            *measure(lambda port: bare(port, "bare-pydantic"), args.seconds, args.warmup),
        )
    )
    hundred = stub_file(100, regex=False, directory=directory)
    rows.append(
        (
            "mockserver, 100 stubs, journal on",
            *measure(lambda port: mockserver(hundred, port), args.seconds, args.warmup),
        )
    )
    if args.peers:
        install_peers()
        rows.append(("pytest-httpserver", *measure(httpserver, args.seconds, args.warmup)))
        rows.append(
            ("WireMock (warm-up as given)", *measure(wiremock, args.seconds, max(args.warmup, 30)))
        )
        rows.append(
            (
                "mountebank",
                *measure(lambda port: mountebank(port, free_port()), args.seconds, args.warmup),
            )
        )
    base_get, base_post, base_idle = rows[0][1], rows[0][2], rows[0][3]
    print(f"wrk -t1 -c32, {args.seconds:g} s per figure, server on core 1, wrk on core 0")
    print(
        f"{'server':<36}{'GET/s':>9}{'ratio':>7}{'POST/s':>9}{'ratio':>7}"
        f"{'idle MiB':>10}{'ratio':>7}{'loaded MiB':>12}"
    )
    for name, get, post, idle, loaded in rows:
        print(
            f"{name:<36}{get:>9.0f}{get / base_get:>6.2f}x{post:>9.0f}{post / base_post:>6.2f}x"
            f"{idle:>10.1f}{idle / base_idle:>6.2f}x{loaded:>12.1f}"
        )
    print()


if __name__ == "__main__":
    main()
