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

This module holds the hooks and the collectors (``ScenarioFile``, ``ScenarioItem``,
their marks); the options and their checks are in ``plugin_options``, the worker's
harness in ``plugin_harness``, the conformance and HTML reports in ``plugin_reports``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from .clock import DEFAULT_CLOCK
from .errors import Problem, ScenarioError, ScenarioFailed, ScenarioFileError
from .plugin_harness import HARNESS_KEY, Harness, harness
from .plugin_options import (
    add_options,
    check_implementation_options,
    check_ini,
    check_path_options,
    shard_of,
    share_of,
    wanted_rules,
)
from .plugin_reports import HTML_TOTAL_LIMIT, ConformanceReport, HtmlReport, ReportPacking

if TYPE_CHECKING:
    from .implementations import Implementation
    from .loader import LoadedScenario
    from .results import RunResult
    from .sharing import ParsedFile, Share  # noqa: F401 (Share: a stash key's type)

# The harness's heavy parts (the mock server, the HTTP client, the models) are imported
# when a scenario is collected or run, so processes that never meet one stay light.

# Harness, harness, ReportPacking, ConformanceReport, HtmlReport and HTML_TOTAL_LIMIT
# live in plugin_harness and plugin_reports; they are importable from here as before.
__all__ = [
    "HTML_TOTAL_LIMIT",
    "ConformanceReport",
    "Harness",
    "HtmlReport",
    "ReportPacking",
    "ScenarioFile",
    "ScenarioItem",
    "harness",
]

SUFFIX = ".scenario.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    check_ini(config)
    check_path_options(config)
    check_implementation_options(config)
    wanted_rules(config)  # a wrong --rule stops the run before collection
    if not config.getoption("help", False):
        shard_of(config)  # and a wrong --shard
    config.addinivalue_line("markers", "rule(*ids): the rules a test or scenario pins")
    config.addinivalue_line("markers", "scenario: a scenario file's item")
    config.stash[HARNESS_KEY] = Harness(config)
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--rule E1``: keep only what pins one of the given rules; ``--shard K/N``: one share."""
    shard = shard_of(config)
    if shard is not None:
        k, n = shard
        mine = [item for item in items if share_of(item.nodeid, n) == k]
        others = [item for item in items if share_of(item.nodeid, n) != k]
        if others:
            config.hook.pytest_deselected(items=others)
            items[:] = mine
    wanted = wanted_rules(config)
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


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if isinstance(item, ScenarioItem) and not isinstance(nextitem, ScenarioItem):
        item.config.stash[HARNESS_KEY].thaw()


def pytest_unconfigure(config: pytest.Config) -> None:
    _remove_share(config)
    harness = config.stash.get(HARNESS_KEY, None)
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


#: The keywords pytest reads from its own marks (``_pytest.skipping``).
_MARK_KEYWORDS: Final = {
    "skip": ("reason",),
    "skipif": ("condition", "reason"),
    "xfail": ("condition", "reason", "run", "strict"),  # and raises, refused below
}


def _mark_problem(mark: pytest.MarkDecorator) -> str | None:
    """What is wrong with a mark pytest takes from a Python test but a scenario cannot use,
    or whose argument pytest would only refuse once a test ran (ending the whole run)."""
    name = mark.name
    if name == "parametrize":
        return "parametrize is a key of the scenario (parametrize: {name: [values]}), not a mark"
    if name == "usefixtures":
        return "a scenario takes no fixtures; usefixtures would do nothing here"
    known = (*_MARK_KEYWORDS.get(name, mark.kwargs), *(("raises",) if name == "xfail" else ()))
    unknown = sorted(set(mark.kwargs) - set(known))
    if unknown:
        # pytest reads the keywords it knows: xfail and skipif ignore others (`stirct:
        # true` was not strict), skip raises a TypeError once the scenario runs.
        import difflib

        close = difflib.get_close_matches(unknown[0], _MARK_KEYWORDS[name], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return (
            f"{name}: {unknown[0]!r} is not a keyword of {name}; {hint}it takes "
            f"{', '.join(_MARK_KEYWORDS[name])}"
        )
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

        harness = self.config.stash[HARNESS_KEY]
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
