"""Scenario items' test reports, packed for pytest-xdist's wire.

Under xdist a worker sends every test report to the controller as a dict,
which execnet's pure-Python serialiser writes object by object and reads back
the same way: about 75 µs each way for a passing scenario's report on the
machine ``docs/performance.md`` names, three reports per item, on the worker
and again on the controller: as much as the scenario itself costs. A
scenario's reports are plain data, so a worker packs each one with
:mod:`marshal` (C, exact for dicts, lists, tuples, strings, numbers and
``None``) into one bytes object, and the controller unpacks it before
pytest's own hook turns it back into a report: the report the controller's
hooks see is the one they would have seen without packing.

Both sides use pytest's public hooks (``pytest_report_to_serializable`` and
``pytest_report_from_serializable``, which exist for exactly this). A worker
packs only when the controller asked it to with the same marshal format (a
remote worker on another Python sends plain reports), and only the reports of
scenario items; a report holding anything marshal cannot write goes plain.
"""

from __future__ import annotations

import marshal
import sys
from typing import Any, Final

import pytest

__all__ = ["WIRE_KEY", "ReportPacking", "wire_format"]

#: The ``workerinput`` key by which the controller asks for packed reports.
WIRE_KEY: Final = "scenario_report_wire"
#: The key of a packed report's bytes in the dict that travels.
_PACKED: Final = "$scenario_report"


def wire_format() -> str:
    """What both ends must share for a packed report to read back the same."""
    return f"marshal {marshal.version} {sys.implementation.cache_tag}"


class ReportPacking:
    """Packs scenario items' reports on a worker and unpacks them on the controller."""

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
        self._inside = True  # pytest's own implementation makes the plain form
        try:
            data: dict[str, Any] | None = config.hook.pytest_report_to_serializable(
                config=config, report=report
            )
        finally:
            self._inside = False
        if data is None:
            return None
        try:
            return {_PACKED: marshal.dumps(data)}
        except ValueError:  # something in it marshal cannot write: it travels plain
            return data

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_from_serializable(
        self, config: pytest.Config, data: dict[str, Any]
    ) -> pytest.CollectReport | pytest.TestReport | None:
        packed = data.get(_PACKED)
        if not isinstance(packed, bytes):
            return None
        plain: dict[str, Any] = marshal.loads(packed)
        # What xdist added beside the packed bytes (worker_id, testrun_uid) stays on it.
        plain.update((key, value) for key, value in data.items() if key != _PACKED)
        report: pytest.CollectReport | pytest.TestReport | None = (
            config.hook.pytest_report_from_serializable(config=config, data=plain)
        )
        return report
