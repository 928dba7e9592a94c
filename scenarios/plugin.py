"""The pytest plugin: collects ``*.scenario.yaml``, one item per scenario (and parameter).

Each worker keeps one event loop, one mock server on a real socket, one
implementation under test and one frozen clock (freezegun, ``real_asyncio=True``)
while scenario items run back to back; the clock is thawed before any other
test runs. Options exist as flags and ini keys: ``--sender`` /
``scenario_sender`` (``module:factory``), ``--sender-cmd`` /
``scenario_sender_cmd`` (a JSON-lines process). A conformance report, rule by
rule, closes the run. Under pytest-xdist each scenario file is parsed by one
worker and read by the others (``scenarios/sharing.py``), and the controller
alone keeps the reports' records.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from .clock import DEFAULT_CLOCK
from .errors import Problem, ScenarioError, ScenarioFailed, ScenarioFileError
from .summary import conformance_summary

if TYPE_CHECKING:
    from mockserver import MockServer

    from .implementations import Implementation
    from .loader import LoadedScenario
    from .results import RunResult
    from .sharing import ParsedFile, Share  # noqa: F401 (Share: a stash key's type)

# The harness's heavy parts (the mock server, the HTTP client, the models) are imported
# when a scenario is collected or run, so processes that never meet one stay light.

__all__ = ["ScenarioFile", "ScenarioItem"]

SUFFIX = ".scenario.yaml"
_REAL_TIME = ["_pytest", "pytest", "pluggy", "xdist", "execnet"]


def pytest_addoption(parser: pytest.Parser) -> None:
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


def _check_ini(config: pytest.Config) -> None:
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


def _check_path_options(config: pytest.Config) -> None:
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


def pytest_configure(config: pytest.Config) -> None:
    _check_ini(config)
    _check_path_options(config)
    _check_implementation_options(config)
    _wanted_rules(config)  # a wrong --rule stops the run before collection
    if not config.getoption("help", False):
        _shard(config)  # and a wrong --shard
    config.addinivalue_line("markers", "rule(*ids): the rules a test or scenario pins")
    config.addinivalue_line("markers", "scenario: a scenario file's item")
    config.stash[_HARNESS] = Harness(config)
    workerinput = getattr(config, "workerinput", None)
    from .wire import WIRE_KEY, wire_format

    pack = workerinput is not None and workerinput.get(WIRE_KEY) == wire_format()
    config.stash[_PACKING] = packing = ReportPacking(pack=pack)
    config.pluginmanager.register(packing, "scenarios-report-packing")
    if workerinput is not None:
        from .sharing import Share

        share = Share.from_workerinput(workerinput)
        if share is not None:
            config.stash[_SHARE] = share
    config.pluginmanager.register(ConformanceReport(config), "scenarios-conformance-report")
    html = config.getoption("--scenario-html") or config.getini("scenario_html")
    if html:
        config.pluginmanager.register(HtmlReport(config, html), "scenarios-html-report")


def _check_implementation_options(config: pytest.Config) -> None:
    """A wrong ``--sender``/``--sender-cmd`` stops the run at once, with one message,
    instead of failing every scenario with it."""
    if config.getoption("help", False) or config.getoption("version", False):
        return
    command, factory = _implementation_options(config)
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


def _wanted_rules(config: pytest.Config) -> frozenset[str]:
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


def _shard(config: pytest.Config) -> tuple[int, int] | None:
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


def _share(nodeid: str, n: int) -> int:
    """Which of ``n`` shares an item falls in: by a hash of its id, so that every machine
    agrees whatever else it collected, and a new scenario does not move the others."""
    import zlib

    return zlib.crc32(nodeid.encode("utf-8")) % n + 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--rule E1``: keep only what pins one of the given rules; ``--shard K/N``: one share."""
    shard = _shard(config)
    if shard is not None:
        k, n = shard
        mine = [item for item in items if _share(item.nodeid, n) == k]
        others = [item for item in items if _share(item.nodeid, n) != k]
        if others:
            config.hook.pytest_deselected(items=others)
            items[:] = mine
    wanted = _wanted_rules(config)
    if not wanted:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        pinned = {rule for mark in item.iter_markers("rule") for rule in mark.args}
        (kept if pinned & wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what collection built out of the garbage collector's sight, if scenarios were found.

    Scenario items keep their parsed files (models and line maps): many
    objects that live to the end of the session. Without this, every full
    collection (and pytest's own at the end) walks them all again; with it,
    a large suite runs measurably faster (``bench/bench_scenarios.py``).
    ``scenario_gc_freeze = false`` in the ini turns it off.
    """
    if session.config.getini("scenario_gc_freeze") and any(
        isinstance(item, ScenarioItem) for item in session.items
    ):
        import gc

        gc.collect()
        gc.freeze()
    # After the collection above, not before: re-enabled first, the collector would
    # walk everything collection built once more, as one huge young generation.
    _resume_gc(session.config)
    share = session.config.stash.get(_SHARE, None)
    if share is not None:
        share.close()  # what the other workers parsed and this one never met is let go


def pytest_sessionfinish(session: pytest.Session) -> None:
    _resume_gc(session.config)  # a collection that ended early (errors, -x, Ctrl-C)


_GC_PAUSED = pytest.StashKey[bool]()


def _pause_gc(config: pytest.Config) -> None:
    """From the first scenario file to the end of collection, no automatic collections.

    What collection builds (parsed files, models, items) lives to the end of the
    session, so the full collections Python would run while it piles up find
    nothing to free; they cost about 0.1 ms per scenario. One collection runs at
    the end instead (see :func:`pytest_collection_finish`).
    """
    import gc

    if config.getini("scenario_gc_freeze") and gc.isenabled() and _GC_PAUSED not in config.stash:
        gc.disable()
        config.stash[_GC_PAUSED] = True


def _resume_gc(config: pytest.Config) -> None:
    if config.stash.get(_GC_PAUSED, False):
        import gc

        gc.enable()
        config.stash[_GC_PAUSED] = False


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> ScenarioFile | None:
    if file_path.name.endswith(SUFFIX):
        _pause_gc(parent.config)
        share = parent.config.stash.get(_SHARE, None)
        if share is not None:
            share.register(file_path)
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


_SHARE = pytest.StashKey["Share"]()  # a worker's side of the run's parsed files


class ReportPacking:
    """Packs scenario items' reports on an xdist worker and unpacks them on the
    controller (:mod:`scenarios.wire`)."""

    def __init__(self, *, pack: bool) -> None:
        self._pack = pack
        self._scenario_ids: set[str] = set()
        self._inside = False

    def track(self, nodeid: str) -> None:
        """``nodeid`` is a scenario item's: its reports are packed."""
        if self._pack:
            self._scenario_ids.add(nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_to_serializable(
        self, config: pytest.Config, report: pytest.CollectReport | pytest.TestReport
    ) -> dict[str, Any] | None:
        if (
            self._inside
            or type(report) is not pytest.TestReport
            or report.nodeid not in self._scenario_ids
        ):
            return None
        from .wire import pack

        self._inside = True  # pytest's own implementation makes the plain form
        try:
            plain: dict[str, Any] | None = config.hook.pytest_report_to_serializable(
                config=config, report=report
            )
        finally:
            self._inside = False
        if plain is None:
            return None
        return pack(plain) or plain

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_from_serializable(
        self, config: pytest.Config, data: dict[str, Any]
    ) -> pytest.CollectReport | pytest.TestReport | None:
        from .wire import unpack

        plain = unpack(data)
        if plain is None:
            return None
        report: pytest.CollectReport | pytest.TestReport | None = (
            config.hook.pytest_report_from_serializable(config=config, data=plain)
        )
        return report


_PACKING = pytest.StashKey[ReportPacking]()  # scenario reports on xdist's wire


def pytest_itemcollected(item: pytest.Item) -> None:
    if isinstance(item, ScenarioItem):
        packing = item.config.stash.get(_PACKING, None)
        if packing is not None:
            packing.track(item.nodeid)


_SHARE_DIRECTORY = pytest.StashKey[Path]()  # the controller's


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Under xdist, on the controller: name the run's directory of parsed files to each
    worker (``scenarios/sharing.py``); it is made once, owner-only, and removed at the end."""
    config = node.config
    from .wire import WIRE_KEY, wire_format

    node.workerinput[WIRE_KEY] = wire_format()  # scenario reports travel packed
    if not config.getini("scenario_xdist_share"):
        return
    directory = config.stash.get(_SHARE_DIRECTORY, None)
    if directory is None:
        import tempfile

        try:
            directory = Path(tempfile.mkdtemp(prefix="scenarios-xdist-"))
        except OSError:
            return  # no temporary directory to write to: each worker parses every file
        config.stash[_SHARE_DIRECTORY] = directory
    from .sharing import WORKERINPUT_KEY

    node.workerinput[WORKERINPUT_KEY] = str(directory)


def _remove_share(config: pytest.Config) -> None:
    directory = config.stash.get(_SHARE_DIRECTORY, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
        del config.stash[_SHARE_DIRECTORY]


class Harness:
    """One worker's loop, mock server, implementation and frozen clock."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._runner: asyncio.Runner | None = None
        self._server: MockServer | None = None
        self._implementation: Implementation | None = None
        self._freezer: Any = None
        self._clock: Any = None
        #: The rules the scenario last run cannot certify for this implementation.
        self.last_unjudged: tuple[str, ...] = ()
        self._declared: dict[str, Any] | None = None
        self._sent = False

    @property
    def server(self) -> MockServer | None:
        """The worker's mock server (``None`` before the first scenario)."""
        return self._server

    def implementation(self) -> Implementation:
        from .implementations import ReferenceImplementation, load_factory
        from .process import CommandImplementation

        if self._implementation is None:
            command, factory = _implementation_options(self.config)  # checked at configure
            if command:
                self._implementation = CommandImplementation(command)
            elif factory:
                self._implementation = load_factory(factory)
            else:
                self._implementation = ReferenceImplementation()
        return self._implementation

    def run(self, loaded: LoadedScenario) -> RunResult:
        from freezegun import freeze_time

        from mockserver import MockServer

        from .runner import run_scenario, unjudged_rules

        if self._runner is None:
            self._runner = asyncio.Runner()
        if self._server is None:
            self._server = MockServer()
            self._runner.run(self._server.start())
        if self._clock is None:
            # pytest, pluggy and xdist keep reading the real clock (durations, reports).
            self._freezer = freeze_time(DEFAULT_CLOCK, real_asyncio=True, ignore=_REAL_TIME)
            self._clock = self._freezer.start()
        implementation = self.implementation()
        self.last_unjudged = ()
        server, clock = self._server, self._clock

        async def judged_run() -> RunResult:  # one turn of the loop per scenario, not two
            self.last_unjudged = await unjudged_rules(loaded.scenario, implementation)
            return await run_scenario(
                loaded, server=server, implementation=implementation, clock=clock
            )

        return self._runner.run(judged_run())

    def capabilities(self) -> dict[str, Any] | None:
        """What the implementation declared, once it has been asked (for the report)."""
        from .implementations import capabilities_of

        if self._declared is not None:
            return self._declared
        if self._runner is None or self._implementation is None:
            return None
        try:
            declared = self._runner.run(capabilities_of(self._implementation)).to_json()
        except ScenarioError:
            return None
        # An implementation declares its capabilities once (docs/sender-protocol.md): asked
        # again for every scenario, the answer would be the same, at an event loop's cost.
        self._declared = declared
        return declared

    def capabilities_once(self) -> dict[str, Any] | None:
        """The capabilities the first time they are known, then ``None``: the report of
        one scenario per process carries them to the conformance report."""
        if self._sent:
            return None
        declared = self.capabilities()
        self._sent = declared is not None
        return declared

    def thaw(self) -> None:
        """Stop the frozen clock (before a test that is not a scenario runs)."""
        if self._freezer is not None:
            self._freezer.stop()
            self._freezer = self._clock = None

    def close(self) -> None:
        self.thaw()
        if self._runner is not None:
            if self._server is not None:
                self._runner.run(self._server.stop())
            if self._implementation is not None:
                from .implementations import bounded_call

                try:
                    self._runner.run(bounded_call(self._implementation.aclose, "aclose()"))
                except ScenarioError as exc:  # the run is over: said, not raised
                    sys.stderr.write(f"scenarios: {exc}\n")
            self._runner.close()
            self._runner = None


_HARNESS = pytest.StashKey[Harness]()


def harness(config: pytest.Config) -> Harness | None:
    """The worker's harness (``None`` before configure)."""
    return config.stash.get(_HARNESS, None)


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if isinstance(item, ScenarioItem) and not isinstance(nextitem, ScenarioItem):
        item.config.stash[_HARNESS].thaw()


def pytest_unconfigure(config: pytest.Config) -> None:
    _remove_share(config)
    harness = config.stash.get(_HARNESS, None)
    if harness is not None:
        harness.close()


class ScenarioFile(pytest.File):
    """A ``*.scenario.yaml`` file: every problem is reported at collection, all at once."""

    def collect(self) -> Iterator[ScenarioItem]:
        import warnings

        from .errors import SlowScenarioWarning
        from .sharing import parse_file

        share = self.config.stash.get(_SHARE, None)
        parsed = share.parsed(self.path) if share is not None else parse_file(self.path)
        if parsed.error is not None:
            raise self.CollectError(parsed.error)
        marked: list[tuple[int, list[pytest.MarkDecorator]]] = []
        problems: list[Problem] = []
        for index, entry in enumerate(parsed.entries):
            try:
                marks = [_mark(spec) for spec in entry.marks]
            except pytest.fail.Exception as exc:  # --strict-markers and an unknown mark
                problems.append(Problem(entry.marks_where, entry.marks_field, exc.msg or str(exc)))
                continue
            problems += [
                Problem(entry.marks_where, entry.marks_field, message)
                for message in map(_mark_problem, marks)
                if message
            ]
            marked.append((index, marks))
        if problems:
            raise self.CollectError(str(ScenarioFileError(problems, source=str(self.path))))
        for warning in parsed.warnings:
            warnings.warn_explicit(
                warning.message,
                SlowScenarioWarning,
                filename=warning.filename,
                lineno=warning.lineno,
            )
        for index, marks in marked:
            yield ScenarioItem.from_parent(
                self, name=parsed.entries[index].id, parsed=parsed, index=index, marks=marks
            )


def _mark_problem(mark: pytest.MarkDecorator) -> str | None:
    """What is wrong with a mark pytest takes from a Python test but a scenario cannot use,
    or whose argument pytest would only refuse once a test ran (ending the whole run)."""
    name = mark.name
    if name == "parametrize":
        return "parametrize is a key of the scenario (parametrize: {name: [values]}), not a mark"
    if name == "usefixtures":
        return "a scenario takes no fixtures; usefixtures would do nothing here"
    if name == "xfail":
        if "raises" in mark.kwargs:
            # pytest compares the failure with isinstance(): text there is a TypeError
            # once the scenario fails. A scenario fails with ScenarioFailed (an
            # AssertionError), so xfail without raises says what is meant.
            return (
                "xfail: raises takes an exception class, which a scenario file cannot name "
                f"(got {mark.kwargs['raises']!r}); leave it out: a scenario fails with an "
                "AssertionError"
            )
        for key in ("strict", "run"):
            if key in mark.kwargs and not isinstance(mark.kwargs[key], bool):
                # `strict: "no"` is a non-empty text, which pytest takes as true, and
                # `strict: 0` a number it takes by its truth: only true or false say it.
                value = mark.kwargs[key]
                kind = (
                    " (text, being quoted)"
                    if isinstance(value, str)
                    else " (a number)"
                    if isinstance(value, int | float)
                    else ""
                )
                return f"xfail: {key}: true or false; got {value!r}{kind}"
    if name == "filterwarnings":
        from _pytest.config import parse_warning_filter

        for argument in mark.args:
            try:
                parse_warning_filter(str(argument), escape=False)
            except pytest.UsageError as exc:  # its last line says what is wrong
                reason = str(exc).strip().splitlines()[-1].strip()
                return (
                    "filterwarnings: a warning filter like 'ignore::DeprecationWarning'; "
                    f"got {argument!r} ({reason})"
                )
    return None


def _mark(spec: str | Mapping[str, Any]) -> pytest.MarkDecorator:
    """A mark of a scenario file: ``smoke``, ``{xfail: reason}``, ``{name: [args]}`` or
    ``{name: {keyword: value}}`` (``{skipif: {condition: "...", reason: "..."}}``)."""
    if isinstance(spec, str):
        decorator: pytest.MarkDecorator = getattr(pytest.mark, spec)
        return decorator
    ((name, argument),) = spec.items()
    decorator = getattr(pytest.mark, name)
    if isinstance(argument, dict):
        # xfail's `strict: no` is false already (the model reads it as `mock.strict: no`).
        return decorator.with_args(**argument)
    if isinstance(argument, list):
        return decorator.with_args(*argument)
    if name in ("skip", "xfail", "skipif"):
        return decorator.with_args(reason=str(argument))
    return decorator.with_args(argument)


class ScenarioItem(pytest.Item):
    """One scenario (or one parameter set of it)."""

    def __init__(
        self,
        *,
        parsed: ParsedFile,
        index: int,
        marks: Iterable[pytest.MarkDecorator] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._parsed = parsed
        self._index = index
        #: What collection knows of the scenario (the scenario itself: :attr:`loaded`).
        self.entry = entry = parsed.entries[index]
        #: What the run did, once it ran (a failed run's is on its ScenarioFailed).
        self.result: RunResult | None = None
        self.add_marker(pytest.mark.scenario)
        if entry.rules:
            self.add_marker(pytest.mark.rule(*entry.rules))
            # `-k E1` selects the scenarios that pin E1 (as --rule E1 does, exactly).
            self.extra_keyword_matches.update(entry.rules)
        for mark in marks:
            self.add_marker(mark)
        self.user_properties.append(("rules", ",".join(entry.rules)))
        self.user_properties.append(("conformance", _in_suite(self.path)))

    @property
    def loaded(self) -> LoadedScenario:
        """The scenario (under xdist, read from another worker's parse when first needed)."""
        return self._parsed.scenario(self._index)

    def runtest(self) -> None:
        from .runner import NotApplicable

        harness = self.config.stash[_HARNESS]
        try:
            self.result = harness.run(self.loaded)
        except NotApplicable as exc:
            self.user_properties.append(("applicability", "not applicable"))
            # Reported at the scenario's own line, not at this one.
            raise pytest.skip.Exception(exc.reason, _use_item_location=True) from None
        finally:
            if harness.last_unjudged:
                self.user_properties.append(("not_judged", ",".join(harness.last_unjudged)))

    def teardown(self) -> None:
        # The call's report (and the HTML report's data) is made: what the run did (every
        # request and saved value) would otherwise live as long as the session.
        self.result = None

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.entry.line - 1, f"scenario: {self.entry.id}"

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return excinfo.value.report
        if isinstance(excinfo.value, ScenarioError):
            return f"{self.loaded.source}:{self.loaded.line_of('name')}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)


def _in_suite(path: Path) -> bool:
    """A file of the conformance suite: in a ``conformance`` package (``scenarios/conformance``,
    installed or copied), not a QA engineer's own scenario."""
    return path.parent.name == "conformance" and (path.parent / "__init__.py").is_file()


def _report_mode(config: pytest.Config) -> str:
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
    if mode == "auto" and _wanted_rules(config):
        return "on"
    return str(mode)


class ConformanceReport:
    """Collects each scenario's outcome by rule and prints the report at the end.

    Which scenarios judge the implementation: those of the conformance suite
    (``auto``), or every scenario that names rules (``on``, and ``--rule``). A QA
    engineer's own scenario failing its own expectation is a failed scenario,
    not a verdict on the implementation.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, tuple[list[str], str]] = {}
        self.unjudged: dict[str, list[str]] = {}  # per scenario: rules it cannot certify
        #: What the implementation declared: each process sends it once, on the first
        #: scenario report that knows it (``report.scenario_capabilities``).
        self.declared: dict[str, Any] | None = None
        self.json_note = ""
        # Under xdist the controller judges; a worker's reports are only sent on.
        self.judges = not hasattr(config, "workerinput")

    @property
    def capabilities(self) -> dict[str, Any] | None:
        """The implementation's capabilities, once a judged scenario has run."""
        return self.declared if self.results else None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if isinstance(item, ScenarioItem) and call.when != "setup":
            declared = item.config.stash[_HARNESS].capabilities_once()
            if declared is not None:
                report.scenario_capabilities = declared  # type: ignore[attr-defined]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.judges:
            return
        declared = getattr(report, "scenario_capabilities", None)
        if isinstance(declared, dict):
            self.declared = declared
        properties = dict(report.user_properties)
        if "rules" not in properties:
            return
        mode = _report_mode(self.config)
        if mode == "auto" and not properties.get("conformance"):
            return
        if report.when == "call" or report.outcome != "passed":
            outcome: str = report.outcome
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            elif report.skipped and properties.get("applicability"):
                outcome = str(properties["applicability"])
            rules = str(properties["rules"])
            self.results[report.nodeid] = (rules.split(",") if rules else [], outcome)
            unjudged = str(properties.get("not_judged", ""))
            if unjudged:
                self.unjudged[report.nodeid] = unjudged.split(",")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = self.config.getoption("--conformance-json") or self.config.getini(
            "scenario_conformance_json"
        )
        if not path or hasattr(self.config, "workerinput"):  # the controller's, under xdist
            return
        import json

        from .summary import conformance_data

        data = conformance_data(
            self.results,
            _implementation_name(self.config),
            _wanted_rules(self.config),
            self.capabilities,
            self.unjudged,
        )
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
        except OSError as exc:
            self.json_note = f"cannot write {target}: {exc.strerror or exc}"
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        else:
            self.json_note = f"written to {target}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.results and _report_mode(self.config) != "off":
            terminalreporter.section("conformance report")
            lines = conformance_summary(
                self.results,
                _implementation_name(self.config),
                _wanted_rules(self.config),
                self.capabilities,
                self.unjudged,
            )
            for line in lines:
                terminalreporter.write_line(line)
        if self.json_note:
            terminalreporter.write_line(f"conformance report (JSON): {self.json_note}")


#: The most page data (characters of JSON) ``--scenario-html`` holds for one run; the
#: scenarios after it keep their name, place, rules, outcome and failures only.
HTML_TOTAL_LIMIT = 128 * 1024 * 1024


class HtmlReport:
    """``--scenario-html``: each worker puts its scenario's data on the report
    (``scenario_html``, which xdist carries); the controller writes one page."""

    def __init__(self, config: pytest.Config, path: str) -> None:
        self.config = config
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        self.size = 0  # characters of JSON held in records
        self.slimmed = 0  # records cut down to stay within HTML_TOTAL_LIMIT
        self.note = ""
        self.writes = not hasattr(config, "workerinput")  # under xdist, the controller

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        first_failure = report.when == "setup" and report.outcome != "passed"
        if isinstance(item, ScenarioItem) and (report.when == "call" or first_failure):
            from .htmlreport import scenario_record

            running = harness(item.config)
            report.scenario_html = scenario_record(  # type: ignore[attr-defined]
                item.loaded,
                result=item.result,
                error=call.excinfo.value if call.excinfo else None,
                server=running.server if running is not None else None,
            )
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "scenario_html", None)
        if not self.writes or not isinstance(data, dict):
            return
        outcome: str = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        elif report.when == "setup" and report.failed:
            outcome = "error"
        properties = dict(report.user_properties)
        if report.skipped and properties.get("applicability"):
            outcome = str(properties["applicability"])  # judges nothing, as in the summary
        if report.skipped and isinstance(report.longrepr, tuple):
            data["skip_reason"] = str(report.longrepr[2])
        unjudged = str(properties.get("not_judged", ""))
        if unjudged:  # rules this scenario cannot certify for this implementation
            data["not_judged"] = unjudged.split(",")
        record = data | {"outcome": outcome}
        size = len(json.dumps(record, ensure_ascii=False, default=str))
        if self.size + size > HTML_TOTAL_LIMIT:
            from .htmlreport import slim_record

            record = slim_record(
                record, f"the page's data went past {HTML_TOTAL_LIMIT:,} characters"
            )
            record["outcome"] = outcome
            size = len(json.dumps(record, ensure_ascii=False, default=str))
            self.slimmed += 1
        self.size += size
        self.records[report.nodeid] = record

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):  # the controller writes it, under xdist
            return
        from .htmlreport import write_report

        try:
            target = write_report(
                self.path,
                self.records,
                implementation=_implementation_name(self.config),
                selected=_wanted_rules(self.config),
            )
        except OSError as exc:
            self.note = f"cannot write {self.path}: {exc.strerror or exc}"
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        else:
            self.note = f"written to {target} ({len(self.records)} scenario(s))"
            if self.slimmed:
                self.note += (
                    f"; page data past {HTML_TOTAL_LIMIT:,} characters: {self.slimmed} "
                    "scenario(s) show only their failures, without requests and attempts"
                )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.note:
            terminalreporter.write_line(f"scenario report (HTML): {self.note}")


def _implementation_options(config: pytest.Config) -> tuple[str, str]:
    """``--sender-cmd`` and ``--sender``, each from the command line or the ini file."""
    command = config.getoption("--sender-cmd") or config.getini("scenario_sender_cmd")
    factory = config.getoption("--sender") or config.getini("scenario_sender")
    return command, factory


def _implementation_name(config: pytest.Config) -> str:
    command, factory = _implementation_options(config)
    if command:
        return f"process {command!r}"
    if factory:
        return f"factory {factory}"
    return "webhook_core (reference)"


# --- fixtures for Python tests -------------------------------------------------


@pytest.fixture
def frozen_clock() -> Iterator[Any]:
    """A frozen clock at the scenarios' default start (move it with ``move_to`` / ``tick``)."""
    from freezegun import freeze_time

    with freeze_time(DEFAULT_CLOCK, real_asyncio=True) as clock:
        yield clock


@pytest.fixture
def scenario_runner() -> Callable[..., list[RunResult]]:
    """Run a scenario given as a dict or a path: ``scenario_runner({...})`` → results.

    A scenario that fails (or cannot be read) raises its report from the test's own
    line, without the harness's and asyncio's frames in between.
    """
    from .runner import run

    def run_scenarios(
        source: Any, *, implementation: Implementation | None = None
    ) -> list[RunResult]:
        __tracebackhide__ = True
        try:
            return run(source, implementation=implementation)
        except ScenarioError as exc:
            raise exc.with_traceback(None) from None

    return run_scenarios
