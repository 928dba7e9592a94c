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

The plugin (``ReportPacking`` in :mod:`scenarios.plugin_reports`) does this through
pytest's public hooks ``pytest_report_to_serializable`` and
``pytest_report_from_serializable``, which exist for exactly this. A worker
packs only when the controller asked it to with the same marshal format (a
remote worker on another Python sends plain reports), and only the reports of
scenario items; a report holding anything marshal cannot write goes plain.
"""

from __future__ import annotations

import marshal
import sys
from typing import Any, Final

__all__ = ["WIRE_KEY", "pack", "unpack", "wire_format"]

#: The ``workerinput`` key by which the controller asks for packed reports.
WIRE_KEY: Final = "scenario_report_wire"
#: The key of a packed report's bytes in the dict that travels.
PACKED: Final = "$scenario_report"


def wire_format() -> str:
    """What both ends must share for a packed report to read back the same."""
    return f"marshal {marshal.version} {sys.implementation.cache_tag}"


def pack(plain: dict[str, Any]) -> dict[str, Any] | None:
    """The report's plain form as one bytes object, or ``None`` when marshal cannot
    write something in it (then it travels plain)."""
    try:
        return {PACKED: marshal.dumps(plain)}
    except ValueError:
        return None


def unpack(data: dict[str, Any]) -> dict[str, Any] | None:
    """The plain form of a packed report (with what xdist added beside it, such as
    ``worker_id``), or ``None`` when ``data`` is not packed."""
    packed = data.get(PACKED)
    if not isinstance(packed, bytes):
        return None
    plain: dict[str, Any] = marshal.loads(packed)
    plain.update((key, value) for key, value in data.items() if key != PACKED)
    return plain
