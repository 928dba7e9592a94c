"""Response templates: the ``webhook_core`` syntax, over the request (pure).

Only references whose first segment is a context name (``request``, ``state``,
``stub``) are replaced; any other ``{…}`` is left exactly as written, so a
response body that happens to contain braces is served unchanged. In JSON
bodies a string that is exactly one reference keeps the value's JSON type.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from webhook_core.template import (
    MISSING,
    Reference,
    format_value,
    parse_template,
    resolve,
    single_reference,
    walk,
)

from .jsoncodec import dumps_compact

__all__ = [
    "CONTEXT_KEYS",
    "MAX_RENDERED",
    "RenderedTooLarge",
    "compile_json",
    "count_references",
    "reference_problem",
    "render_json",
    "render_text",
    "rendered_size",
]

#: The most bytes one answer's templates may render, headers and body together: a stub
#: of a few bytes repeating ``{request.body}`` a thousand times over a 64 MiB body would
#: otherwise build 64 GB.
MAX_RENDERED = 64 * 1024 * 1024
#: A reference renders at most this many bytes for each byte of what it reads (JSON
#: escapes: a NUL byte is ``\u0000``, six; ``\xNN`` for an undecodable byte, five).
GROWTH = 8


class RenderedTooLarge(Exception):
    """The templates of an answer would render more than :data:`MAX_RENDERED` bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"the response's templates would render {size:,} bytes, more than the "
            f"{MAX_RENDERED:,} an answer may take (references repeat parts of the request)"
        )
        self.size = size


#: What each context a response template sees holds (``request`` is
#: :class:`~mockserver.journal.RecordedRequest`'s template view; a test keeps them equal).
CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "request": ("method", "path", "url", "query", "headers", "json", "form", "body"),
    "stub": ("id", "calls"),
}


def reference_problem(value: Any) -> str | None:
    """Why a template (a string, or the strings anywhere in a JSON value) names a part of
    ``request`` or ``stub`` that no request has (``{request.jsn.a}``); ``None`` when it
    names none. Such a reference would render empty on every request, silently."""
    if isinstance(value, str):
        if "{" not in value:
            return None
        for part in parse_template(value):
            if not isinstance(part, Reference) or len(part.path) < 2:
                continue
            keys = CONTEXT_KEYS.get(part.path[0])
            # Python reads no list index of over 4300 digits: walking to it was a 500.
            long = next((key for key in part.path if len(key) > 4000 and key.isdigit()), None)
            if keys is not None and long is not None:
                shown = part.source if len(part.source) <= 60 else part.source[:57] + "..."
                return (
                    f"{shown}: a key of {len(long):,} digits, which no list index can be "
                    "(at most 4000 digits)"
                )
            if keys is None or part.path[1] in keys:
                continue
            close = difflib.get_close_matches(part.path[1], keys, n=1, cutoff=0.6)
            hint = f"; did you mean {part.path[0]}.{close[0]}?" if close else ""
            return (
                f"{part.source}: {part.path[0]} has no {part.path[1]!r} "
                f"(expected one of {', '.join(keys)}){hint}"
            )
        return None
    if isinstance(value, dict):
        items: Any = (item for pair in value.items() for item in pair)
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        if (problem := reference_problem(item)) is not None:
            return problem
    return None


def count_references(value: Any, counts: dict[Reference, int]) -> int:
    """Add the references of a template (a string, or the strings anywhere in a JSON
    value, keys included) to ``counts``, each as often as it is written; return the
    length of the template text (a bound of its static part)."""
    if isinstance(value, str):
        if "{" in value:
            for part in parse_template(value):
                if isinstance(part, Reference):
                    counts[part] = counts.get(part, 0) + 1
        return len(value)
    if isinstance(value, dict):
        return sum(
            count_references(key, counts) + count_references(item, counts)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return sum(count_references(item, counts) for item in value)
    return 24  # a number, true, false or null


def rendered_size(references: Mapping[Reference, int], context: Mapping[str, Any]) -> int:
    """How many bytes these references (with how often each is written) render in
    ``context``, at most: each distinct one is rendered once, as JSON (what a JSON body
    writes; text is never longer)."""
    total = 0
    for reference, count in references.items():
        if reference.path[0] in context:
            text = _dumps(_plain(_resolve(reference, context)))
        else:
            text = reference.source
        total += count * len(text.encode("utf-8", "backslashreplace"))
    return total


def _resolve(reference: Reference, context: Mapping[str, Any]) -> Any:
    """``resolve``, with header names in any case: the request's headers are kept by
    lower-case name, and ``{request.headers.X-Request-Id}`` means the same header."""
    path = reference.path
    if len(path) > 2 and path[0] == "request" and path[1] == "headers":
        return walk(context, (*path[:2], path[2].lower(), *path[3:]))
    return resolve(reference, context)


_JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None)})


def _plain(found: Any) -> Any:
    """A resolved value as JSON data: ``{request}`` (a view over the request, not a dict)
    becomes the dict of its parts, and a missing value ``None``."""
    if type(found) in _JSON_TYPES:
        return found
    if found is MISSING:
        return None
    if isinstance(found, Mapping) and not isinstance(found, dict):
        return {key: _plain(item) for key, item in found.items()}
    return found


def render_text(template: str, context: Mapping[str, Any]) -> str:
    """Replace the references into ``context``; keep every other brace text as it is."""
    parts = parse_template(template)
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    out: list[str] = []
    for part in parts:
        if isinstance(part, Reference):
            if part.path[0] in context:
                out.append(format_value(_plain(_resolve(part, context))))
            else:
                out.append(part.source)
        else:
            out.append(part)
    return "".join(out)


def render_json(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string in a JSON value; a lone reference keeps its type."""
    if isinstance(value, str):
        reference = single_reference(value)
        if reference is not None and reference.path[0] in context:
            return _plain(_resolve(reference, context))
        return render_text(value, context)
    if isinstance(value, dict):
        return {
            render_text(key, context): render_json(item, context) for key, item in value.items()
        }
    if isinstance(value, list):
        return [render_json(item, context) for item in value]
    return value


Context = Mapping[str, Any]
_Fragment = str | Callable[[Context], str]


_dumps = dumps_compact


def compile_json(value: Any) -> Callable[[Context], bytes]:
    """``render_json`` then compact JSON bytes, with everything static serialised once.

    The result equals ``json.dumps(render_json(value, context))`` (compact, not
    ASCII-escaped) for every context; only the strings holding references are
    worked out per request.
    """
    fragments: list[_Fragment] = []
    _compile(value, fragments)
    merged: list[_Fragment] = []
    for fragment in fragments:
        if isinstance(fragment, str) and merged and isinstance(merged[-1], str):
            merged[-1] += fragment
        else:
            merged.append(fragment)
    if len(merged) == 1 and isinstance(merged[0], str):
        constant = merged[0].encode()
        return lambda context: constant
    parts = tuple(merged)

    def render(context: Context) -> bytes:
        # A lone surrogate from the request's JSON ("\ud800") goes back as that escape.
        return "".join([part if isinstance(part, str) else part(context) for part in parts]).encode(
            "utf-8", "backslashreplace"
        )

    return render


def _static(text: str) -> str | None:
    """What a string renders to in any context, or ``None`` when it holds a reference."""
    parts = parse_template(text)
    if any(isinstance(part, Reference) for part in parts):
        return None
    return "".join(part for part in parts if isinstance(part, str))


def _typed(reference: Reference, source: str, context: Context) -> str:
    if reference.path[0] in context:
        return _dumps(_plain(_resolve(reference, context)))
    return _dumps(render_text(source, context))


def _dynamic(value: Any, context: Context) -> str:
    return _dumps(render_json(value, context))


def _compile(value: Any, out: list[_Fragment]) -> None:
    if isinstance(value, str):
        static = _static(value)
        if static is not None:
            out.append(_dumps(static))
            return
        reference = single_reference(value)
        if reference is not None:
            out.append(partial(_typed, reference, value))
        else:
            out.append(partial(_dynamic, value))
        return
    if isinstance(value, dict):
        keys = [_static(key) if isinstance(key, str) else None for key in value]
        if None in keys or len(set(keys)) != len(keys):
            # Templated, non-text or colliding keys: render this object whole.
            out.append(partial(_dynamic, value))
            return
        out.append("{")
        for number, (key, item) in enumerate(zip(keys, value.values(), strict=True)):
            out.append(("," if number else "") + _dumps(key) + ":")
            _compile(item, out)
        out.append("}")
        return
    if isinstance(value, list):
        out.append("[")
        for number, item in enumerate(value):
            if number:
                out.append(",")
            _compile(item, out)
        out.append("]")
        return
    out.append(_dumps(value))
