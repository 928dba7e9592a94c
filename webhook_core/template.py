"""Templates: ``{name}``, ``{ name }``, ``{result.promo.code}``, ``{ignore}…{/ignore}`` (B1–B7).

A template is parsed once into literal text and references, then rendered in a
single pass: a value is inserted as it is and never scanned again (B7). Braces
that do not form a reference are text (B6), so JSON typed into a message
survives. The module does no I/O and knows no clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from .errors import LimitExceeded
from .paths import MISSING, step

__all__ = [
    "MAX_RENDERED_BYTES",
    "MISSING",
    "Reference",
    "Rendering",
    "evaluate",
    "evaluate_parts",
    "format_value",
    "parse_template",
    "references",
    "render",
    "render_parts",
    "render_report",
    "resolve",
    "single_reference",
    "walk",
]

# A name is a run of Unicode word characters (Cyrillic included); dots join segments, and
# a segment after the first may also hold hyphens, as JSON keys and header names do.
_TOKEN: Final = re.compile(
    r"(?P<ignore>\{\s*ignore\s*\})|\{\s*(?P<path>\w+(?:\.[\w-]+)*)\s*\}",
)
_END_IGNORE: Final = re.compile(r"\{\s*/ignore\s*\}")


@dataclass(frozen=True, slots=True)
class Reference:
    """A ``{a.b.c}`` reference: ``path`` is ``("a", "b", "c")``, ``source`` the text as written."""

    path: tuple[str, ...]
    source: str

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Rendering:
    """The result of rendering: the ``text`` and the references that found no value."""

    text: str
    missing: tuple[str, ...] = ()


Part = str | Reference

#: One rendered text (a URL, a header or parameter value, a message, a set value) is at
#: most this many bytes of UTF-8: four answers of the 1 MiB that rule D3 reads. A saved
#: value referenced many times (``{result}`` a thousand times) would otherwise build
#: gigabytes; rendering stops as soon as the text passes it (:class:`LimitExceeded`).
MAX_RENDERED_BYTES: Final = 4 * 1024 * 1024


#: Templates up to this many characters are parsed once and remembered (at most
#: 8192 of them): the cache stays within 8192 x 4 KiB however long the templates are
#: that pass through (a stub's registered over the admin API, a file's built by aliases).
CACHED_TEMPLATE_CHARS: Final = 4096


def parse_template(template: str) -> tuple[Part, ...]:
    """Split ``template`` into literal strings and :class:`Reference` parts (cached when
    short: see :data:`CACHED_TEMPLATE_CHARS`)."""
    if len(template) <= CACHED_TEMPLATE_CHARS:
        return _parse_cached(template)
    return _parse(template)


def _parse(template: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    literal: list[str] = []
    position = 0
    length = len(template)
    while position < length:
        match = _TOKEN.search(template, position)
        if match is None:
            break
        literal.append(template[position : match.start()])
        if match.group("ignore") is not None:
            # B5: the content is literal; an unclosed {ignore} runs to the end.
            end = _END_IGNORE.search(template, match.end())
            if end is None:
                literal.append(template[match.end() :])
                position = length
            else:
                literal.append(template[match.end() : end.start()])
                position = end.end()
            continue
        text = "".join(literal)
        if text:
            parts.append(text)
        literal = []
        parts.append(Reference(tuple(match.group("path").split(".")), match.group(0)))
        position = match.end()
    literal.append(template[position:])
    text = "".join(literal)
    if text:
        parts.append(text)
    return tuple(parts)


_parse_cached = lru_cache(maxsize=8192)(_parse)


def references(template: str) -> tuple[Reference, ...]:
    """The references a template makes, in order (``{ignore}`` content excluded)."""
    return tuple(part for part in parse_template(template) if isinstance(part, Reference))


def single_reference(template: str) -> Reference | None:
    """The reference when ``template`` is exactly one ``{x}`` and nothing else (rule C6)."""
    parts = parse_template(template)
    if len(parts) == 1 and isinstance(parts[0], Reference):
        return parts[0]
    return None


def walk(value: Any, path: tuple[str, ...] | list[str]) -> Any:
    """Follow path segments into ``value`` (rule B2); ``MISSING`` when they lead nowhere."""
    for segment in path:
        value = step(value, segment)
        if value is MISSING:
            return MISSING
    return value


def resolve(reference: Reference, variables: Mapping[str, Any]) -> Any:
    """The value a reference points at, or ``MISSING`` (rule B2: walk from the root)."""
    return walk(variables, reference.path)


def format_value(value: Any) -> str:
    """Text for a value (rule B4): JSON numbers, ``true``/``false``, null as ``""``, else JSON."""
    if isinstance(value, str):
        return value
    if value is None or value is MISSING:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


_TYPED: Final = (bool, int, float, dict, list)


def render_parts(
    parts: tuple[Part, ...],
    variables: Mapping[str, Any],
    missing: list[str],
    *,
    limit: int = MAX_RENDERED_BYTES,
) -> str:
    """Render parsed parts, adding the dotted paths of missing references to ``missing``.

    Raises :class:`LimitExceeded` (``field`` ``"template"``: callers name the setting)
    when the text would pass ``limit`` bytes of UTF-8; it stops there, before building it.
    """
    if len(parts) == 1:
        part = parts[0]
        if type(part) is str and len(part) <= limit >> 2:
            return part
    out: list[str] = []
    size = 0  # characters of values so far: the literals are as long as the template
    for part in parts:
        if type(part) is str:
            out.append(part)
            continue
        value = resolve(part, variables)  # type: ignore[arg-type]
        if value is MISSING:
            missing.append(part.dotted)  # type: ignore[union-attr]
            continue
        text = format_value(value)
        size += len(text)
        if size > limit:
            raise _too_large(parts, limit)
        out.append(text)
    text = "".join(out)
    # A character is one to four bytes: the exact count only when it could matter.
    if len(text) > limit >> 2 and utf8_size(text) > limit:
        raise _too_large(parts, limit)
    return text


def utf8_size(text: str) -> int:
    """The length of ``text`` in UTF-8 (an unpaired surrogate counts its three bytes)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def template_text(parts: tuple[Part, ...]) -> str:
    """The parts written back as a template (``{ignore}`` tags aside), for messages."""
    return "".join(part if type(part) is str else part.source for part in parts)  # type: ignore[union-attr]


def _too_large(parts: tuple[Part, ...], limit: int) -> LimitExceeded:
    return LimitExceeded(field="template", value=template_text(parts), limit=limit)


def evaluate_parts(
    parts: tuple[Part, ...], variables: Mapping[str, Any], missing: list[str]
) -> Any:
    """:func:`evaluate` for parsed parts."""
    if len(parts) == 1 and type(parts[0]) is Reference:
        reference = parts[0]
        value = resolve(reference, variables)
        if value is MISSING:
            missing.append(reference.dotted)
            return ""
        if isinstance(value, _TYPED):
            return value
    return render_parts(parts, variables, missing)


def render_report(template: str, variables: Mapping[str, Any]) -> Rendering:
    """Render ``template`` and report the references that were missing (rule B3).

    Raises :class:`LimitExceeded` past :data:`MAX_RENDERED_BYTES`.
    """
    missing: list[str] = []
    try:
        text = render_parts(parse_template(template), variables, missing)
    except LimitExceeded as exc:
        raise exc.at("template", template) from None
    return Rendering(text, tuple(missing))


def evaluate(template: str, variables: Mapping[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """A value for a JSON POST parameter or a set-variable block (rules C6, F1).

    A template that is exactly one reference to a number, boolean, object or
    list gives that value with its type; anything else renders to text. Also
    returns the references that were missing. Raises :class:`LimitExceeded` past
    :data:`MAX_RENDERED_BYTES`.
    """
    missing: list[str] = []
    try:
        value = evaluate_parts(parse_template(template), variables, missing)
    except LimitExceeded as exc:
        raise exc.at("template", template) from None
    return value, tuple(missing)


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Render ``template`` with ``variables``; a missing reference renders as ``""``.

    Raises :class:`LimitExceeded` past :data:`MAX_RENDERED_BYTES`.
    """
    try:
        return render_parts(parse_template(template), variables, [])
    except LimitExceeded as exc:
        raise exc.at("template", template) from None
