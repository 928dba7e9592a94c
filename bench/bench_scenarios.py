"""The scenario harness's own cost: per-scenario overhead against Tavern's, the full retry
schedule's wall time, and the suite under ``-n 2`` against ``-n 0``.

    python bench/bench_scenarios.py [--repeats 5] [--no-tavern]

- Per-test overhead, as ``perf-anchors.md`` measures it: the wall time of a
  pytest run of 101 one-request tests minus that of 1, divided by 100, median of
  the repeats. Our side: 101 scenarios, each one GET checked against the mock
  server. Tavern's side: 101 one-stage tests against a local aiohttp server.
  Tavern 3.7 needs pytest 9.1, so it is installed into ``bench/.peers/tavern``.
- A scenario that runs the whole six-attempt schedule (2 h 31 min 35 s of
  frozen time): its wall time, median of 20 runs in one process.
- The conformance suite (copied, one to five times, and run with the project's
  pytest settings): wall time under ``-n 0`` and ``-n 2``.
- A directory of many one-scenario files (``--files 2000``, issue 10): the
  collection's wall and CPU time at a quarter, half and all of them
  (``--collect-only``, for its growth), and the whole run under ``-n 0`` and
  ``-n 2`` (and again without Hypothesis's pytest plugin, and ``-n 2`` with the
  workers' sharing of parsed files turned off, for what it buys). Every run is
  cold: nothing is cached from one run to the next. ``--files-only`` measures
  just that; with ``--requests K`` each scenario sends K requests (heavier
  scenarios: only the ``-n 0`` / ``-n 2`` pair is run). With ``--user-env`` those
  runs use a virtual environment holding only the harness (installed from this
  checkout, editable) and pytest-xdist, as a user who runs ``pytest -n 2`` has
  it (``bench/.peers/user``): the project's own test tools (respx, Hypothesis,
  pytest-asyncio, Selenium and the trio it brings) load in every pytest process
  of the development environment, workers included, and are not the harness's.

pytest runs with Python's bytecode cache on, as ``tasks.py`` runs it and as a
developer's machine has it (some images set ``PYTHONDONTWRITEBYTECODE``; then
every process, every xdist worker included, compiles and rewrites every module
again).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _yardstick import yardstick

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".peers"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def wall(command: list[str], cwd: Path) -> float:
    return timed(command, cwd)[0]


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system, of the command and the processes it waited
    for: xdist's workers too) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def scenario_file(count: int, requests: int = 1) -> str:
    """``count`` scenarios, each ``requests`` GETs checked against the mock server."""
    lines = ["scenarios:"]
    for number in range(count):
        lines += [f"  - name: ping {number}", "    flow:"]
        lines += [
            '      - webhook: {url: "{mock.url}/ping", method: GET, save_to: result}'
        ] * requests
        lines += [
            "    mock:",
            "      stubs:",
            "        - request: {method: GET, path: /ping}",
            "          response: {json: {pong: true}}",
            "    expect:",
            "      variables: {result.pong: true}",
        ]
    return "\n".join(lines) + "\n"


def tavern_file(count: int, port: int) -> str:
    documents = []
    for number in range(count):
        documents.append(
            f"test_name: ping {number}\n"
            "stages:\n"
            f"  - name: ping\n"
            f"    request:\n"
            f"      url: http://127.0.0.1:{port}/ping\n"
            f"      method: GET\n"
            f"    response:\n"
            f"      status_code: 200\n"
            f"      json:\n"
            f"        pong: true\n"
            f"        server: bench\n"
        )
    return "---\n".join(documents)


def overhead(run_with: dict[int, Path], command: list[str], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        one = wall([*command, str(run_with[1])], run_with[1].parent)
        fifty = wall([*command, str(run_with[101])], run_with[101].parent)
        samples.append((fifty - one) / 100)
    return statistics.median(samples)


def ours(repeats: int) -> float:
    folder = Path(tempfile.mkdtemp())
    files = {}
    for count in (1, 101):
        path = folder / f"run{count}" / f"ping{count}.scenario.yaml"
        path.parent.mkdir()
        path.write_text(scenario_file(count))
        files[count] = path
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"]
    return overhead(files, command, repeats)


def tavern(repeats: int) -> float:
    venv = PEERS / "tavern"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "tavern==3.7.1",
                "pytest==9.1.1",
                "aiohttp",
            ],
            check=True,
        )
    port = free_port()
    server = subprocess.Popen(
        [str(python), str(HERE / "_servers.py"), "bare", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        folder = Path(tempfile.mkdtemp())
        files = {}
        for count in (1, 101):
            path = folder / f"run{count}" / f"test_ping{count}.tavern.yaml"
            path.parent.mkdir()
            path.write_text(tavern_file(count, port))
            files[count] = path
        command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        return overhead(files, command, repeats)
    finally:
        server.terminate()


def schedule_wall_time(runs: int = 20) -> float:
    import asyncio

    from freezegun import freeze_time

    from mockserver import MockServer
    from scenarios import ReferenceImplementation, load_scenario_text, run_scenario

    text = """\
name: six attempts
flow:
  - webhook: {url: "{mock.url}/down", method: POST, params: [{a: "1"}]}
mock:
  stubs:
    - request: {path: /down}
      response: {status: 503}
expect:
  state: paused
  attempts: [0s, 5s, 35s, 1m35s, 31m35s, 2h31m35s]
"""
    (loaded,) = load_scenario_text(text, "bench")

    async def main() -> list[float]:
        implementation = ReferenceImplementation()
        times = []
        real = time.perf_counter  # taken before freezing: a frozen clock stops perf_counter
        async with MockServer() as server:
            with freeze_time("2026-01-01", real_asyncio=True) as clock:
                for _ in range(runs + 3):
                    start = real()
                    await run_scenario(
                        loaded, server=server, implementation=implementation, clock=clock
                    )
                    times.append(real() - start)
        await implementation.aclose()
        return times[3:]

    return statistics.median(asyncio.run(main()))


def suite(workers: str, copies: int) -> float:
    folder = Path(tempfile.mkdtemp())
    for copy in range(copies):
        shutil.copytree(ROOT / "scenarios" / "conformance", folder / f"copy{copy}")
    shutil.copytree(ROOT / "scenarios" / "schema", folder / "schema")
    return wall(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            # The project's pytest settings, as `python3 tasks.py conformance` runs the suite.
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(folder),
            "-n",
            workers,
            str(folder),
        ],
        ROOT,
    )


def many_files(count: int, requests: int = 1) -> Path:
    folder = Path(tempfile.mkdtemp()) / f"files{count}"
    folder.mkdir()
    for number in range(count):
        text = scenario_file(1, requests).replace("ping 0", f"ping {number}")
        (folder / f"s{number:05}.scenario.yaml").write_text(text)
    return folder


#: The Python the many-files runs use (``--user-env`` sets another).
PYTHON = [sys.executable]


def user_environment() -> str:
    """A virtual environment with only the harness and pytest-xdist; its Python."""
    venv = PEERS / "user"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*install, "-e", str(ROOT), "pytest-xdist"], check=True)
    return str(python)


def pytest_timed(folder: Path, workers: str, *extra: str) -> tuple[float, float]:
    return timed(
        [
            PYTHON[0],
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(folder),
            "-n",
            workers,
            *extra,
            str(folder),
        ],
        ROOT,
    )


def median_timed(repeats: int, folder: Path, workers: str, *extra: str) -> tuple[float, float]:
    """The medians of the wall and of the CPU times of ``repeats`` runs."""
    runs = [pytest_timed(folder, workers, *extra) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


#: Hypothesis's pytest plugin (installed with the project's test extras, not with the
#: harness) imports Hypothesis at the end of every process: under -n 2, of each worker too.
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")


def files(count: int, repeats: int, requests: int = 1) -> None:
    """Every run is a cold one: each is a fresh pytest process (and fresh workers), and the
    directory xdist's workers share their parsed files through lives only for one run."""
    print(
        f"a directory of {count} one-scenario files, {requests} request(s) a scenario "
        "(wall time, and CPU: user + system of pytest and its workers)"
    )
    if requests != 1:
        folder = many_files(count, requests)
        serial, serial_cpu = median_timed(repeats, folder, "0")
        parallel, parallel_cpu = median_timed(repeats, folder, "2")
        print(
            f"  whole run: -n 0 {serial:.2f} s (CPU {serial_cpu:.2f} s), "
            f"-n 2 {parallel:.2f} s (CPU {parallel_cpu:.2f} s); "
            f"ratio {parallel / serial:.2f}x (goal: at most 0.7x)"
        )
        return
    for share in (count // 4, count // 2, count):
        folder = many_files(share)
        took, cpu = median_timed(repeats, folder, "0", "--collect-only")
        print(
            f"  collection of {share:>5} files (-n 0 --collect-only): {took:.2f} s, CPU {cpu:.2f} s"
        )
    folder = many_files(count)
    for label, extra in (("", ()), (" without Hypothesis's plugin", NO_HYPOTHESIS)):
        serial, serial_cpu = median_timed(repeats, folder, "0", *extra)
        parallel, parallel_cpu = median_timed(repeats, folder, "2", *extra)
        print(
            f"  whole run{label}: -n 0 {serial:.2f} s (CPU {serial_cpu:.2f} s), "
            f"-n 2 {parallel:.2f} s (CPU {parallel_cpu:.2f} s); "
            f"ratio {parallel / serial:.2f}x (goal: at most 0.7x)"
        )
    unshared, unshared_cpu = median_timed(repeats, folder, "2", "-o", "scenario_xdist_share=false")
    print(
        f"  -n 2 with each worker parsing every file (scenario_xdist_share = false): "
        f"{unshared:.2f} s (CPU {unshared_cpu:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-tavern", action="store_true")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--files-only", action="store_true")
    parser.add_argument(
        "--user-env",
        action="store_true",
        help="the many-files runs in a venv with only the harness and pytest-xdist",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=1,
        help="with --files-only: requests per scenario (heavier scenarios, the -n 2 run alone)",
    )
    args = parser.parse_args()
    print(yardstick(), flush=True)
    if args.user_env:
        PYTHON[0] = user_environment()
        print(f"many-files runs with {PYTHON[0]} (the harness and pytest-xdist only)")
    if args.files_only:
        files(args.files, max(1, min(args.repeats, 3)), args.requests)
        return
    our_overhead = ours(args.repeats)
    print(f"per-scenario overhead (101 vs 1 one-request scenarios): {our_overhead * 1000:.1f} ms")
    if not args.no_tavern:
        theirs = tavern(args.repeats)
        print(f"Tavern 3.7.1 per-test overhead (same method):          {theirs * 1000:.1f} ms")
        print(f"ratio ours / Tavern: {our_overhead / theirs:.2f}x (goal: at most 0.25x)")
    schedule = schedule_wall_time()
    print(
        f"whole six-attempt schedule, wall time (median of 20): {schedule * 1000:.1f} ms "
        "(goal: under 50 ms)"
    )
    for copies in (1, 5):
        serial = statistics.median(suite("0", copies) for _ in range(3))
        parallel = statistics.median(suite("2", copies) for _ in range(3))
        print(
            f"conformance suite x{copies}: -n 0 {serial:.2f} s, -n 2 {parallel:.2f} s "
            f"(ratio {parallel / serial:.2f}x)"
        )
    files(args.files, max(1, min(args.repeats, 3)))


if __name__ == "__main__":
    main()
