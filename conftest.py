"""Project-wide test settings: Hypothesis profiles, the ``rule`` marker and the
``scenario_env`` and ``http`` fixtures.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) runs the thorough profile; the
default is fast enough to run on every save; ``deep`` is a long bug hunt, by hand.

Hypothesis is imported only when a Python test file is about to be collected
(its ``@settings`` read the loaded profile at import), so a run of scenario
files alone, such as the conformance suite, does not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

pytest_plugins = ["pytester"]

_profiles = pytest.StashKey[bool]()
_ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One HTTP client for tests that send many requests, such as a fuzz test's examples:
    ``httpx.post()`` makes a client each time, and a client loads the CA bundle (about
    20 ms of CPU, ten times the request to a local server). It keeps no connection open
    between requests, so every request is on a connection of its own, as before."""
    import httpx

    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(timeout=30, limits=limits) as client:
        yield client


@pytest.fixture
def scenario_env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs import this checkout's packages (also in a subprocess), with
    the ini every run of scenario files through the real plugin wants."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def _load_hypothesis_profiles() -> None:
    from hypothesis import HealthCheck, settings

    settings.register_profile("default", max_examples=100, deadline=None)
    settings.register_profile(
        "ci",
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )
    # A long hunt, run by hand now and then: HYPOTHESIS_PROFILE=deep pytest tests/test_*fuzz*.py
    settings.register_profile(
        "deep",
        max_examples=5000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rule(*ids): the rules of docs/semantics.md that this test pins"
    )
    config.addinivalue_line(
        "markers",
        "pytester: the test runs pytest itself, in a subprocess (set for every test that "
        "uses the pytester or scenario_env fixture; tasks.py lowest leaves these out)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pytester" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pytester)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> None:
    config = parent.config
    if config.stash.get(_profiles, False) or file_path.suffix != ".py":
        return
    if any(fnmatch(file_path.name, pattern) for pattern in config.getini("python_files")):
        config.stash[_profiles] = True
        _load_hypothesis_profiles()
