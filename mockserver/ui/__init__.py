"""The mock server's dashboard at ``/__admin/ui/``: the journal live, near misses, stubs,
states and fake CRMs in a browser, from files shipped in this package (no build step)."""

from __future__ import annotations

from .guard import refusal
from .handlers import UI_PREFIX, UiRouter

__all__ = ["UI_PREFIX", "UiRouter", "refusal"]
