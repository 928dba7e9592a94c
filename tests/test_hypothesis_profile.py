"""The root conftest loads the project's Hypothesis profile before test modules import."""

from __future__ import annotations

import os

from hypothesis import settings


def test_the_profile_is_loaded() -> None:
    profile = os.environ.get("HYPOTHESIS_PROFILE", "default")
    assert settings.get_current_profile_name() == profile
    # Hypothesis's own default has a 200 ms deadline; both project profiles drop it.
    assert settings.default.deadline is None
    assert settings.default.max_examples == {"ci": 400, "deep": 5000}.get(profile, 100)
