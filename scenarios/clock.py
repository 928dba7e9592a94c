"""Where the frozen clock starts when a scenario does not say."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["DEFAULT_CLOCK"]

DEFAULT_CLOCK = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
