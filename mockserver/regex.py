"""Regular expressions in stubs, run by RE2: linear in the input, whatever the pattern (pure).

Python's ``re`` backtracks: ``(a+)+$`` against 30 ``a`` and a ``!`` takes
seconds, and a stub's matcher runs on the server's event loop, so one request
would hold every client. RE2 (Google's engine, ``google-re2`` on PyPI) runs in
time linear in the input and refuses, when the stub is loaded, what it cannot
run that way: backreferences (``\\1``, ``(?P=name)``), lookaround (``(?=``,
``(?!``, ``(?<=``, ``(?<!``), atomic groups and possessive quantifiers,
``\\Z`` (write ``\\z``), counted repetitions over 1000, and patterns whose
program would take more than 1 MiB. ``\\d``, ``\\w``,
``\\s`` and ``\\b`` are ASCII in RE2; ``\\pL`` or ``\\p{Cyrillic}`` match
letters of any script. docs/matching.md has the whole list.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Final

__all__ = [
    "RE2_SYNTAX",
    "Regex",
    "RegexError",
    "compile_regex",
    "literal_prefix",
    "re2_escape",
    "regex_problem",
]

#: Where a person reads what RE2 accepts (named in every refusal).
RE2_SYNTAX: Final = "https://github.com/google/re2/wiki/Syntax"


#: RE2's memory budget per pattern (program and matching cache), in bytes.
MAX_MEM: Final = 1 << 20


class _Engine:
    """RE2, imported on first use: a server whose stubs hold no regex never loads it
    (the extension and its libraries are 2.7 MiB of resident memory)."""

    __slots__ = ("anchor_both", "make", "options", "unanchored")

    def __init__(self) -> None:
        import re2
        from re2 import _re2

        options = re2.Options()
        # Refusals are reported to the person, with the field; RE2's own log would
        # print them to stderr a second time, as C++ log lines.
        options.log_errors = False
        # A stub's pattern needs far less; a pattern built to be huge is refused
        # ("pattern too large") instead of holding megabytes per stub.
        options.max_mem = MAX_MEM
        self.options: Any = options
        self.make: Any = _re2.RE2
        self.unanchored: Any = _re2.RE2.Anchor.UNANCHORED
        self.anchor_both: Any = _re2.RE2.Anchor.ANCHOR_BOTH


_loaded: list[_Engine] = []


def _engine() -> _Engine:
    if not _loaded:
        _loaded.append(_Engine())
    return _loaded[0]


_NO_SPAN: Final = (-1, -1)


class RegexError(ValueError):
    """A pattern RE2 refuses; the message says why and that RE2's syntax is used."""


class Regex:
    """A pattern compiled by RE2, with the two questions stubs ask of it.

    It talks to the engine (``re2._re2``, the binding's C++ object) directly:
    the package's ``re``-like wrapper maps every offset back to characters and
    builds a match object, 6.5 µs for a short path where the engine takes 0.9.
    Positions are never needed here: a matcher asks yes or no, and a path regex
    its named groups, which are sliced from the UTF-8 bytes (RE2 matches whole
    characters, so each slice decodes).
    """

    __slots__ = ("_both", "_engine", "_names", "_unanchored", "pattern")

    def __init__(self, pattern: str) -> None:
        loaded = _engine()
        engine = loaded.make(pattern.encode("utf-8", "surrogatepass"), loaded.options)
        if not engine.ok():
            reason = engine.error()
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            raise RegexError(_refusal(pattern, str(reason)))
        self.pattern = pattern
        self._engine = engine
        self._unanchored = loaded.unanchored
        self._both = loaded.anchor_both
        self._names: tuple[tuple[str, int], ...] = tuple(
            (name.decode(), index) for name, index in engine.NamedCapturingGroups()
        )

    def __repr__(self) -> str:
        return f"<RE2 {self.pattern!r}>"

    @property
    def program_size(self) -> int:
        """RE2's count of the program's instructions (its size, roughly)."""
        size: int = self._engine.ProgramSize()
        return size

    def search(self, text: str) -> bool:
        """Whether the pattern occurs anywhere in ``text``."""
        data = text.encode("utf-8", "surrogatepass")
        return bool(self._engine.Match(self._unanchored, data, 0, len(data))[0] != _NO_SPAN)

    def fullmatch(self, text: str) -> dict[str, str] | None:
        """The named groups when the whole of ``text`` matches (``None``: it does not);
        a group that took no part is absent."""
        data = text.encode("utf-8", "surrogatepass")
        spans = self._engine.Match(self._both, data, 0, len(data))
        if spans[0] == _NO_SPAN:
            return None
        out = {}
        for name, index in self._names:
            start, end = spans[index]
            if start >= 0:
                out[name] = _decoded(data[start:end])
        return out

    def possiblematchrange(self, maxlen: int) -> tuple[bytes, bytes]:
        """RE2's range of strings an anchored match can be (see :func:`literal_prefix`)."""
        found, low, high = self._engine.PossibleMatchRange(maxlen)
        if not found:
            return b"", b""
        return bytes(low), bytes(high)


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # a lone surrogate in the text, cut by the match
        return data.decode("utf-8", "replace")


#: The cache of compiled patterns: at most this many, and this many bytes (each
#: counted as its text and its RE2 program, about 16 bytes an instruction).
CACHE_ENTRIES: Final = 1024
CACHE_BYTES: Final = 32 << 20

_cache: OrderedDict[str, tuple[Regex, int]] = OrderedDict()
_cache_bytes = 0
_cache_lock = threading.Lock()


def compile_regex(source: str) -> Regex:
    """``source`` compiled by RE2, or :class:`RegexError` saying what RE2 refused.

    A stub's pattern is checked when the model is validated and compiled again for
    matching: the cache (least recently used first out) makes that one compilation.
    """
    global _cache_bytes
    with _cache_lock:
        found = _cache.get(source)
        if found is not None:
            _cache.move_to_end(source)
            return found[0]
    regex = Regex(source)
    size = len(source) + 16 * regex.program_size
    with _cache_lock:
        if source not in _cache and size <= CACHE_BYTES // 8:
            _cache[source] = (regex, size)
            _cache_bytes += size
            while len(_cache) > CACHE_ENTRIES or _cache_bytes > CACHE_BYTES:
                _, (_, freed) = _cache.popitem(last=False)
                _cache_bytes -= freed
    return regex


def cache_size() -> tuple[int, int]:
    """How many patterns the cache holds, and their bytes as counted."""
    with _cache_lock:
        return len(_cache), _cache_bytes


_HINTS: Final = (
    ("invalid perl operator: (?=", "lookahead"),
    ("invalid perl operator: (?!", "lookahead"),
    ("invalid perl operator: (?<", "lookbehind"),
    ("invalid perl operator: (?>", "an atomic group"),
    ("invalid perl operator: (?#", "a comment group"),
    ("bad repetition operator: ++", "a possessive quantifier"),
    ("bad repetition operator: *+", "a possessive quantifier"),
    ("bad repetition operator: ?+", "a possessive quantifier"),
    ("invalid repetition size", "a counted repetition over 1000"),
)


def _refusal(source: str, reason: str) -> str:
    what = next((name for start, name in _HINTS if reason.startswith(start)), None)
    if reason == "invalid perl operator: (?P" and "(?P=" in source:
        what = "a named backreference"
    if what is None and reason.startswith("invalid escape sequence: \\") and reason[-1:].isdigit():
        what = "a backreference"
    if what is None and reason == "invalid escape sequence: \\Z":
        what = "\\Z (RE2 writes the end of the text as \\z)"
    shown = repr(source) if len(source) <= 80 else f"{source[:60]!r}... ({len(source)} characters)"
    if len(reason) > 120:
        reason = reason[:100] + "..."
    if reason.startswith("pattern too large"):
        head = (
            f"regex {shown} cannot be used: compiled, it would take more than "
            f"{MAX_MEM >> 20} MiB ({reason})"
        )
    elif what is None:
        head = f"regex {shown} does not compile (RE2: {reason})"
    else:
        head = f"regex {shown} cannot be used: {what}, which RE2 does not support ({reason})"
    return (
        f"{head}. Regexes run on RE2, which matches in linear time and has no "
        f"backreferences or lookaround; syntax: {RE2_SYNTAX}"
    )


def re2_escape(text: str) -> str:
    """``text`` as a pattern that matches exactly it, in RE2's syntax."""
    import re2

    escaped: str = re2.escape(text)
    return escaped


def regex_problem(source: str) -> str | None:
    """Why RE2 refuses ``source``, or ``None`` when it compiles."""
    try:
        compile_regex(source)
    except RegexError as exc:
        return str(exc)
    return None


#: How far :func:`literal_prefix` looks: a path prefix longer than this is cut here.
PREFIX_LIMIT: Final = 128


def literal_prefix(regex: Regex) -> str:
    """The text every full match of ``regex`` starts with (``''`` when there is none).

    RE2 works out the range of strings an anchored match can be; their common
    start is a prefix every match has. ``(?i)/rx`` gives ``/``, ``/a|/b`` gives
    ``/``, ``.*x`` gives ``''``.
    """
    try:
        low, high = regex.possiblematchrange(PREFIX_LIMIT)
    except Exception:  # RE2 gives no range for some patterns
        return ""
    common = 0
    for left, right in zip(low, high, strict=False):
        if left != right:
            break
        common += 1
    prefix = low[:common]
    while prefix:
        try:
            return prefix.decode("utf-8")
        except UnicodeDecodeError:
            prefix = prefix[:-1]  # a character cut in the middle by the limit
    return ""
