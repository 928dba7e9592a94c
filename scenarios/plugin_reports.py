"""The reports the scenarios plugin writes: the rule-by-rule conformance report (and its
JSON), the ``--scenario-html`` page, and the packing of scenario reports on xdist's wire.
They are registered as plugins by ``scenarios/plugin.py`` at configure."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import pytest

from .plugin_harness import HARNESS_KEY, harness
from .plugin_options import implementation_name, report_mode, wanted_rules
from .summary import conformance_summary

if TYPE_CHECKING:
    from .plugin import ScenarioItem


def _is_scenario(item: pytest.Item) -> TypeGuard[ScenarioItem]:
    from .plugin import ScenarioItem  # the plugin imports this module

    return isinstance(item, ScenarioItem)


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
        if _is_scenario(item) and call.when != "setup":
            declared = item.config.stash[HARNESS_KEY].capabilities_once()
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
        mode = report_mode(self.config)
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
            implementation_name(self.config),
            wanted_rules(self.config),
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
        if self.results and report_mode(self.config) != "off":
            terminalreporter.section("conformance report")
            lines = conformance_summary(
                self.results,
                implementation_name(self.config),
                wanted_rules(self.config),
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
        if _is_scenario(item) and (report.when == "call" or first_failure):
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
                implementation=implementation_name(self.config),
                selected=wanted_rules(self.config),
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
