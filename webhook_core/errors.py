"""Exceptions of ``webhook_core``.

The tree::

    WebhookError                      root: catch this to catch everything below
    ├── ConfigurationError(ValueError)  a setting that cannot work (rule A4); never retried
    │   └── LimitExceeded               a template renders past a size limit (a text, a request)
    └── PathNotFound(KeyError)          ``lookup()`` found nothing at a path and had no default

Context travels as keyword-only attributes; messages are rendered from them, so
reports read the attributes instead of parsing text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigurationError", "LimitExceeded", "PathNotFound", "WebhookError"]


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


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


class LimitExceeded(ConfigurationError):
    """A template renders to more than a size limit allows (see ``docs/semantics.md``).

    ``field`` names the template (``params[0].value``, ``headers[1].value``, ``url``,
    a flow's ``blocks[2].text``) or ``request`` for one whole request; ``value`` is the
    template as written (for ``request``: the bytes counted when rendering stopped);
    ``limit`` is the limit in bytes of UTF-8. Rendering stops as soon as the limit is
    passed, so nothing of that size is ever built. Like any configuration error it is
    raised before anything is sent, and never retried: a retry sends the same request.
    """

    def __init__(self, *, field: str, value: Any, limit: int, what: str = "text") -> None:
        self.limit = limit
        self.what = what
        super().__init__(
            field=field,
            value=value,
            expected=f"a {what} of at most {_size(limit)} ({limit} bytes of UTF-8) once "
            "rendered; this one renders to more",
        )

    def at(self, field: str, value: Any) -> LimitExceeded:
        """The same error, said of ``field`` holding ``value`` (a caller knows the setting)."""
        return LimitExceeded(field=field, value=value, limit=self.limit, what=self.what)


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
