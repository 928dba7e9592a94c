"""The scenarios plugin's options and ini keys: declared, then checked at configure, so
that a wrong one stops the run with one line naming it (``scenarios/plugin.py`` calls
these from its hooks)."""

from __future__ import annotations

import itertools
import re
import shlex
import shutil
from pathlib import Path
from typing import Final

import pytest

from .errors import ScenarioError


def add_options(parser: pytest.Parser) -> None:
    """The options and ini keys (``pytest_addoption``)."""
    group = parser.getgroup("scenarios", "webhook scenario files")
    group.addoption(
        "--sender",
        default=None,
        metavar="MODULE:FACTORY",
        help="the implementation under test: a Python factory (default: webhook_core)",
    )
    group.addoption(
        "--sender-cmd",
        default=None,
        metavar="COMMAND",
        help="the implementation under test: a process speaking JSON lines "
        "(docs/sender-protocol.md)",
    )
    group.addoption(
        "--rule",
        action="append",
        default=[],
        metavar="ID",
        help="run only the scenarios (and tests marked rule(...)) that pin this rule, "
        "such as E1; repeat it or give several: --rule E1,E2",
    )
    group.addoption(
        "--conformance-json",
        default=None,
        metavar="PATH",
        help="also write the conformance report as JSON (for CI): the implementation, "
        "each rule's verdict, each scenario's outcome",
    )
    group.addoption(
        "--shard",
        default=None,
        metavar="K/N",
        help="run only the K-th of N shares of the items (1 <= K <= N), the same share on "
        "every machine: split a suite across CI machines, then merge their "
        "--conformance-json reports with python -m scenarios.merge",
    )
    group.addoption(
        "--conformance-report",
        choices=("auto", "on", "off"),
        default=None,
        help="the rule-by-rule conformance report: auto (default: when the conformance "
        "suite or --rule runs, judging the suite's scenarios), on (every scenario that "
        "names rules counts), off",
    )
    parser.addini("scenario_conformance_json", "default for --conformance-json", default="")
    parser.addini("scenario_conformance_report", "default for --conformance-report", default="auto")
    group.addoption(
        "--scenario-html",
        default=None,
        metavar="PATH",
        help="also write one self-contained HTML file of the run: the conformance matrix, "
        "each scenario's flow, requests, attempts as a timeline, failures with near misses",
    )
    parser.addini("scenario_html", "default for --scenario-html", default="")
    parser.addini("scenario_sender", "default for --sender", default="")
    parser.addini("scenario_sender_cmd", "default for --sender-cmd", default="")
    parser.addini(
        "scenario_xdist_share",
        "under pytest-xdist, parse each scenario file in one worker and let the others "
        "read the result from a directory of the run (removed at its end)",
        type="bool",
        default=True,
    )
    parser.addini(
        "scenario_gc_freeze",
        "pause automatic garbage collection while scenario files are collected, then "
        "freeze the objects built so far out of the collector's sight (faster large runs)",
        type="bool",
        default=True,
    )


#: The plugin's ini keys of type bool, checked at configure: pytest reads one only when
#: it is first needed (under xdist, on the controller only), and names neither the key
#: nor what it takes.
_BOOL_INI: Final = ("scenario_xdist_share", "scenario_gc_freeze")


def check_ini(config: pytest.Config) -> None:
    for key in _BOOL_INI:
        try:
            config.getini(key)
        except (ValueError, pytest.UsageError) as exc:  # pytest 9 wraps it in the latter
            raise pytest.UsageError(
                f"{key}: expected true or false (also yes/no, on/off, 1/0); {exc}"
            ) from None


#: The options that take a path. Written as two arguments (``--scenario-html out.html``),
#: the path is read by pytest as a test path when it finds its rootdir, which it does
#: before plugins load: an existing path outside the project becomes the rootdir.
_PATH_OPTIONS: Final = ("--conformance-json", "--scenario-html")


def check_path_options(config: pytest.Config) -> None:
    """A report path that moved the rootdir out of the project (so its ini file and cache
    were not used) stops the run, saying to write ``--option=PATH``."""
    args = [str(arg) for arg in config.invocation_params.args]
    here = config.invocation_params.dir
    for option, value in itertools.pairwise(args):
        if option not in _PATH_OPTIONS:
            continue
        path = Path(here, value).resolve()
        if not path.exists() or here == path or here in path.parents:
            continue  # pytest only takes paths that exist; one in here changes nothing
        ini = config.inipath
        if ini is not None and (ini.parent == here or ini.parent in here.parents):
            continue  # the ini file of the directory the run started in was found
        raise pytest.UsageError(
            f"{option} {value}: pytest read that path as a test path when it looked for "
            f"its rootdir (it made {config.rootpath} the rootdir), so the ini file and "
            f"cache of {here} were not used; write {option}={value}"
        )


def check_implementation_options(config: pytest.Config) -> None:
    """A wrong ``--sender``/``--sender-cmd`` stops the run at once, with one message,
    instead of failing every scenario with it."""
    if config.getoption("help", False) or config.getoption("version", False):
        return
    command, factory = implementation_options(config)
    if command and factory:
        raise pytest.UsageError("give --sender or --sender-cmd, not both")
    if command:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise pytest.UsageError(f"--sender-cmd {command!r}: {exc}") from None
        if not argv:
            raise pytest.UsageError("--sender-cmd: the command is empty")
        if shutil.which(argv[0]) is None:
            raise pytest.UsageError(
                f"--sender-cmd {command!r}: {argv[0]!r} is not an executable program "
                "(give a path, or a name on PATH)"
            )
    if factory:
        from .implementations import resolve_factory

        try:
            resolve_factory(factory)
        except ScenarioError as exc:
            raise pytest.UsageError(str(exc)) from None


_WANTED = pytest.StashKey[frozenset[str]]()
_MODE = pytest.StashKey[str]()


def wanted_rules(config: pytest.Config) -> frozenset[str]:
    """The rules of ``--rule`` (checked once, then remembered: every report asks)."""
    known = config.stash.get(_WANTED, None)
    if known is not None:
        return known
    from .summary import RULES

    options: list[str] = config.getoption("--rule")
    wanted = {
        part.strip().upper() for option in options for part in option.split(",") if part.strip()
    }
    if options and not wanted:  # ``--rule "$RULES"`` with nothing in it must not run all
        raise pytest.UsageError(
            f"--rule: expected rule ids such as E1 or E1,E2; got {', '.join(map(repr, options))}"
        )
    unknown = sorted(wanted - set(RULES))
    if unknown:
        raise pytest.UsageError(
            f"--rule: {', '.join(unknown)} is not a rule of the contract; "
            f"the rules are {RULES[0]}..{RULES[-1]} (docs/semantics.md)"
        )
    config.stash[_WANTED] = frozenset(wanted)
    return config.stash[_WANTED]


def shard_of(config: pytest.Config) -> tuple[int, int] | None:
    text = config.getoption("--shard")
    if text is None:
        return None
    try:
        if not re.fullmatch(r"\s*[0-9]+\s*/\s*[0-9]+\s*", text):  # int() reads '١' (Arabic) as 1
            raise ValueError(text)
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        k = n = 0
    if not 1 <= k <= n:
        raise pytest.UsageError(
            f"--shard: expected K/N with 1 <= K <= N, such as 2/4; got {text!r}"
        )
    return k, n


def share_of(nodeid: str, n: int) -> int:
    """Which of ``n`` shares an item falls in: by a hash of its id, so that every machine
    agrees whatever else it collected, and a new scenario does not move the others."""
    import zlib

    return zlib.crc32(nodeid.encode("utf-8")) % n + 1


def report_mode(config: pytest.Config) -> str:
    known = config.stash.get(_MODE, None)
    if known is not None:
        return known
    config.stash[_MODE] = _read_report_mode(config)
    return config.stash[_MODE]


def _read_report_mode(config: pytest.Config) -> str:
    mode = config.getoption("--conformance-report") or config.getini("scenario_conformance_report")
    if mode not in ("auto", "on", "off"):
        raise pytest.UsageError(
            f"scenario_conformance_report: expected auto, on or off, got {mode!r}"
        )
    if mode == "auto" and wanted_rules(config):
        return "on"
    return str(mode)


def implementation_options(config: pytest.Config) -> tuple[str, str]:
    """``--sender-cmd`` and ``--sender``, each from the command line or the ini file."""
    command = config.getoption("--sender-cmd") or config.getini("scenario_sender_cmd")
    factory = config.getoption("--sender") or config.getini("scenario_sender")
    return command, factory


def implementation_name(config: pytest.Config) -> str:
    command, factory = implementation_options(config)
    if command:
        return f"process {command!r}"
    if factory:
        return f"factory {factory}"
    return "webhook_core (reference)"
