"""Project-wide test settings: Hypothesis profiles and the ``rule`` marker.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) runs the thorough profile; the
default is fast enough to run on every save.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rule(*ids): the rules of docs/semantics.md that this test pins"
    )
