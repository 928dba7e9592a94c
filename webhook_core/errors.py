"""Exceptions of ``webhook_core``.

The tree::

    WebhookError                      root: catch this to catch everything below
    ├── ConfigurationError(ValueError)  a setting that cannot work (rule A4); never retried
    └── PathNotFound(KeyError)          ``lookup()`` found nothing at a path and had no default

Context travels as keyword-only attributes; messages are rendered from them, so
reports read the attributes instead of parsing text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigurationError", "PathNotFound", "WebhookError"]


class WebhookError(Exception):
    """Root of every error raised by ``webhook_core``."""


class ConfigurationError(WebhookError, ValueError):
    """A webhook setting that cannot work, raised before anything is sent (rule A4).

    ``field`` names the setting (``"method"``, ``"params[2].name"``, …), ``value``
    is what was given and ``expected`` says what would have been accepted.
    """

    def __init__(self, *, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > 200:
            shown = f"{shown[:150]}... ({len(shown)} characters)"
        super().__init__(f"{field}: got {shown}, expected {expected}")


class PathNotFound(WebhookError, KeyError):
    """``lookup(value, path)`` could not walk ``path``.

    ``path`` is the whole path, ``at`` the segment that failed and ``reason``
    what was found there instead.
    """

    def __init__(self, *, path: str, at: str, reason: str) -> None:
        self.path = path
        self.at = at
        self.reason = reason
        super().__init__(f"path {path!r}: no value at segment {at!r} ({reason})")

    def __str__(self) -> str:
        # KeyError would quote the message; this one is a sentence.
        return str(self.args[0])
