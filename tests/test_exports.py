"""The packages' public names and boundaries.

``__all__`` is sorted and every name in it resolves; imports go one way only:
``scenarios`` → ``webhook_core`` and ``mockserver``; ``mockserver`` →
``webhook_core.template``; nothing imports pytest outside a ``plugin.py``.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package", ["webhook_core", "mockserver", "scenarios"])
def test_all_is_sorted_and_resolves(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__

    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def group(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    assert exported == sorted(exported, key=group)
    for name in exported:
        assert getattr(module, name) is not None, name


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden", "allowed"),
    [
        ("webhook_core", {"mockserver", "scenarios", "pytest"}, set()),
        ("mockserver", {"scenarios", "webhook_core", "pytest"}, {"webhook_core.template"}),
        ("scenarios", {"pytest"}, set()),
    ],
)
def test_imports_go_one_way(package: str, forbidden: set[str], allowed: set[str]) -> None:
    wrong = []
    for path in (ROOT / package).rglob("*.py"):
        if path.name == "plugin.py" or path.name.startswith("plugin_"):  # the plugin's parts
            continue
        for name in imports_of(path):
            if name in allowed:
                continue
            if name.split(".")[0] in forbidden:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_the_template_module_alone_does_not_load_the_http_client() -> None:
    code = "import webhook_core.template, sys; print('httpx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
