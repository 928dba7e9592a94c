"""The packages' public names: ``__all__`` is sorted and lists exactly what the root exports."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("package", ["webhook_core"])
def test_all_is_sorted_and_complete(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__

    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def group(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    assert exported == sorted(exported, key=group)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert set(exported) - {"__version__"} == public


def test_webhook_core_imports_neither_mockserver_nor_scenarios() -> None:
    import sys

    before = set(sys.modules)
    importlib.import_module("webhook_core")
    loaded = set(sys.modules) - before
    assert not {
        name for name in loaded if name.split(".")[0] in {"mockserver", "scenarios", "pytest"}
    }
