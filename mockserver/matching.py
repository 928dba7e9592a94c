"""Matching a recorded request against a stub's pattern, explained (pure).

:meth:`CompiledPattern.difference` returns the list of :class:`Mismatch`
(field, expected, actual), never a bare bool: ``matches()`` is ``not
difference()``. The near-miss report ranks stubs by it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from webhook_core.template import MISSING, format_value, walk

from .forms import field_keys
from .journal import RecordedRequest
from .models import Matcher, RequestPattern
from .regex import Regex, compile_regex, literal_prefix, re2_escape

__all__ = [
    "CompiledPattern",
    "Mismatch",
    "json_differences",
    "json_equal",
    "json_mismatches",
    "json_subset",
]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field that did not match: what was expected and what came."""

    field: str
    expected: str
    actual: str
    #: The pattern's field it belongs to, when one field gives several rows (``json``).
    of: str = ""

    def __str__(self) -> str:
        return f"{self.field}: expected {self.expected}, got {self.actual}"


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` equals ``1.0``, key order does not matter."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and left == right


def json_subset(expected: Any, actual: Any) -> bool:
    """``expected`` is inside ``actual``: extra object fields allowed; lists match item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and json_subset(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(map(json_subset, expected, actual))
        )
    return json_equal(expected, actual)


def json_differences(
    expected: Any, actual: Any, *, subset: bool = False, at: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Any, Any]]:
    """Each place where ``actual`` departs from ``expected``: ``(path, expected, actual)``,
    either side ``MISSING`` where a key is absent. Empty exactly when :func:`json_equal`
    (or, with ``subset``, :func:`json_subset`) holds; extra keys count only without it."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key, value in expected.items():
            if key in actual:
                out += json_differences(value, actual[key], subset=subset, at=(*at, key))
            else:
                out.append(((*at, key), value, MISSING))
        if not subset:
            out += [
                ((*at, key), MISSING, value) for key, value in actual.items() if key not in expected
            ]
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            out += json_differences(left, right, subset=subset, at=(*at, str(index)))
        return out
    same = json_subset(expected, actual) if subset else json_equal(expected, actual)
    return [] if same else [(at, expected, actual)]


_JSON_ROWS = 8  # differences listed per JSON body; the rest are counted


def json_mismatches(
    field: str, expected: Any, actual: Any, *, subset: bool = False
) -> list[Mismatch]:
    """Where a JSON value departs from the expected one, as rows named ``field.path``
    (at most eight, then one that counts the rest)."""
    found = json_differences(expected, actual, subset=subset)
    out = [
        Mismatch(
            ".".join((field, *path)),
            "absent" if want is MISSING else f"equal {show(want)}",
            show(got),
            of=field,
        )
        for path, want, got in found[:_JSON_ROWS]
    ]
    if len(found) > _JSON_ROWS:
        out.append(
            Mismatch(field, f"and {len(found) - _JSON_ROWS} more difference(s)", "", of=field)
        )
    return out


def show(value: Any) -> str:
    """A value as a report prints it."""
    if value is MISSING:
        return "(absent)"
    text = value if isinstance(value, str) else format_value(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text) if isinstance(value, str) else text


class CompiledMatcher:
    """A :class:`Matcher` with its regex compiled, ready to test values."""

    __slots__ = ("kind", "matcher", "regex")

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.kind = matcher.kind
        self.regex = compile_regex(matcher.regex) if matcher.regex is not None else None

    def test(self, actual: Any, *, as_text: bool) -> bool:
        kind = self.kind
        if kind == "equal":
            expected = self.matcher.equal
            kind_of = type(actual)
            if kind_of is type(expected) and kind_of in _PLAIN:
                return bool(actual == expected)
        if kind == "present":
            return actual is not MISSING
        if kind == "absent":
            return actual is MISSING
        if actual is MISSING:
            return False
        if kind == "equal":
            expected = self.matcher.equal
            if as_text and isinstance(actual, str) and not isinstance(expected, str):
                return actual == format_value(expected)
            return json_equal(expected, actual)
        text = actual if isinstance(actual, str) else format_value(actual)
        if kind == "regex":
            assert self.regex is not None
            return self.regex.search(text)
        contains = self.matcher.contains or ""
        if isinstance(actual, list):
            return contains in actual
        return contains in text


_ANY: Final = "ANY"
_TEMPLATE_PART: Final = re.compile(r"(\{\w+\})")
_WHOLE_PARAMETER: Final = re.compile(r"\{\w+\}")
Route = Literal["exact", "template", "regex", "any"]
_PLAIN: Final = (str, int, float)


def _whole_segments(template: str) -> tuple[tuple[str | None, str], ...] | None:
    """A template's segments when each is a literal or one whole ``{name}``:
    ``(name, "")`` or ``(None, literal)``; ``None`` when a segment mixes both."""
    out: list[tuple[str | None, str]] = []
    for segment in template.split("/"):
        if "{" not in segment:
            out.append((None, segment))
        elif _WHOLE_PARAMETER.fullmatch(segment):
            out.append((segment[1:-1], ""))
        else:
            return None
    return tuple(out)


def _dotted(name: str) -> tuple[str, ...]:
    return tuple(name.split("."))


class CompiledPattern:
    """A :class:`RequestPattern` prepared for fast, explained matching."""

    def __init__(self, pattern: RequestPattern) -> None:
        self.pattern = pattern
        self.method = pattern.method
        self.exact_path: str | None = None
        self.path_regex: Regex | None = None
        #: A template whose segments are literals or whole parameters: ``(name, "")``
        #: for ``{name}``, ``(None, text)`` for a literal.
        self.template: tuple[tuple[str | None, str], ...] | None = None
        #: How the stub index files this pattern: by its exact path, its template's
        #: segments, its regex's literal start, or under "any path".
        self.route: Route = "any"
        #: The text every path this pattern takes starts with (near-miss neighbours).
        self.path_prefix = ""
        path = pattern.path
        captures = path is not None and "{" in path and bool(_TEMPLATE_PART.search(path))
        if path is not None and not captures:
            self.exact_path = path
            self.route, self.path_prefix = "exact", path
        elif path is not None:
            self.route, self.path_prefix = "template", path[: path.index("{")]
            self.template = _whole_segments(path)
            if self.template is None:
                source = "".join(
                    f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re2_escape(part)
                    for part in _TEMPLATE_PART.split(path)
                )
                self.path_regex = compile_regex(source)
        elif pattern.path_regex is not None:
            self.path_regex = compile_regex(pattern.path_regex)
            self.route, self.path_prefix = "regex", literal_prefix(self.path_regex)
        self.query = self._split(pattern.query, field_keys)
        self.headers = [(name.lower(), CompiledMatcher(m)) for name, m in pattern.headers.items()]
        self.json_paths = self._split(pattern.json_paths, _dotted)
        self.form = self._split(pattern.form, field_keys)
        self.body = CompiledMatcher(pattern.body) if pattern.body is not None else None
        fields_set = pattern.model_fields_set
        self.has_json = "json_" in fields_set
        self.has_subset = "json_subset" in fields_set
        self.captures = captures or pattern.path_regex is not None
        # Only the method and an exact path to check: ``matches`` needs no more.
        self.simple = (
            self.exact_path is not None
            and not (self.query or self.headers or self.json_paths or self.form or self.body)
            and not (self.has_json or self.has_subset)
        )
        #: The method, an exact path and JSON paths that each equal a text or a number
        #: (a webhook's usual stub): ``(segments, type, value)`` for each, which
        #: ``matches`` reads without a difference list; ``None`` for any other pattern.
        self.json_equals: tuple[tuple[tuple[str, ...], type, Any], ...] | None = None
        if (
            self.exact_path is not None
            and self.json_paths
            and not (self.query or self.headers or self.form or self.body)
            and not (self.has_json or self.has_subset)
        ):
            plain = [
                (path, type(matcher.matcher.equal), matcher.matcher.equal)
                for _, path, matcher in self.json_paths
                if matcher.kind == "equal" and type(matcher.matcher.equal) in _PLAIN
            ]
            if len(plain) == len(self.json_paths):
                self.json_equals = tuple(plain)

    @staticmethod
    def _split(
        matchers: dict[str, Matcher], keys: Callable[[str], tuple[str, ...]]
    ) -> list[tuple[str, tuple[str, ...], CompiledMatcher]]:
        return [(name, keys(name), CompiledMatcher(m)) for name, m in matchers.items()]

    @property
    def field_count(self) -> int:
        """How many fields this pattern checks (for near-miss ranking)."""
        return (
            (self.method != _ANY)
            + (self.pattern.path is not None or self.path_regex is not None)
            + len(self.query)
            + len(self.headers)
            + len(self.json_paths)
            + len(self.form)
            + (self.body is not None)
            + self.has_json
            + self.has_subset
        )

    def path_params(self, path: str) -> dict[str, str] | None:
        """The captured path parameters, or ``None`` when the path does not match."""
        if self.exact_path is not None:
            return {} if path == self.exact_path else None
        if self.template is not None:
            segments = path.split("/")
            if len(segments) != len(self.template):
                return None
            params = {}
            for (name, literal), segment in zip(self.template, segments, strict=True):
                if name is None:
                    if segment != literal:
                        return None
                elif segment:
                    params[name] = segment
                else:
                    return None
            return params
        if self.path_regex is not None:
            return self.path_regex.fullmatch(path)
        return {}

    def matches(self, request: RecordedRequest) -> bool:
        if self.method != _ANY and request.method != self.method:
            return False
        if self.simple:
            return request.path == self.exact_path
        checks = self.json_equals
        if checks is None:
            return not self.difference(request, first_only=True)
        # What ``difference`` decides for these checks, read inline (a third of the cost);
        # anything it reads otherwise (a list on the way, 1 against 1.0) it decides.
        if request.path != self.exact_path:
            return False
        body = request.json
        for path, kind, expected in checks:
            value = body
            for segment in path:
                if type(value) is not dict:
                    if value is MISSING:
                        return False
                    return not self.difference(request, first_only=True)
                value = value.get(segment, MISSING)
            if type(value) is not kind:
                if value is MISSING:
                    return False
                return not self.difference(request, first_only=True)
            if value != expected:
                return False
        return True

    def difference(self, request: RecordedRequest, *, first_only: bool = False) -> list[Mismatch]:
        """Every field of the pattern that ``request`` does not meet (the first only, if asked)."""
        out: list[Mismatch] = []
        if self.method != _ANY and request.method != self.method:
            out.append(Mismatch("method", self.method, request.method))
            if first_only:
                return out
        if (
            request.path != self.exact_path
            if self.exact_path is not None
            else self.path_params(request.path) is None
        ):
            expected = self.pattern.path or f"regex {self.pattern.path_regex!r}"
            out.append(Mismatch("path", expected, request.path))
            if first_only:
                return out
        for name, path, matcher in self.query:
            value = walk(request.query, path)
            if not matcher.test(value, as_text=True):
                out.append(Mismatch(f"query.{name}", matcher.matcher.describe(), show(value)))
                if first_only:
                    return out
        if self.headers:
            headers = request.headers
            for name, matcher in self.headers:
                value = headers.get(name, MISSING)
                if not matcher.test(value, as_text=True):
                    out.append(Mismatch(f"headers.{name}", matcher.matcher.describe(), show(value)))
                    if first_only:
                        return out
        if self.has_json and not json_equal(self.pattern.json_, request.json):
            if first_only:
                return [Mismatch("json", "equal", "differs", of="json")]
            out += json_mismatches("json", self.pattern.json_, request.json, subset=False)
        if self.has_subset and not json_subset(self.pattern.json_subset, request.json):
            if first_only:
                return [Mismatch("json_subset", "contains", "differs", of="json_subset")]
            out += json_mismatches(
                "json_subset", self.pattern.json_subset, request.json, subset=True
            )
        if self.json_paths:
            body = request.json
            for name, path, matcher in self.json_paths:
                value = MISSING if body is MISSING else walk(body, path)
                if not matcher.test(value, as_text=False):
                    out.append(
                        Mismatch(f"json_paths.{name}", matcher.matcher.describe(), show(value))
                    )
                    if first_only:
                        return out
        if self.form:
            form = request.form
            for name, path, matcher in self.form:
                value = MISSING if form is MISSING else walk(form, path)
                if not matcher.test(value, as_text=True):
                    out.append(Mismatch(f"form.{name}", matcher.matcher.describe(), show(value)))
                    if first_only:
                        return out
        if self.body is not None and not self.body.test(request.text, as_text=True):
            out.append(Mismatch("body", self.body.matcher.describe(), show(request.text)))
        return out
