"""Response templates: the ``webhook_core`` syntax, over the request (pure).

Only references whose first segment is a context name (``request``, ``state``,
``stub``) are replaced; any other ``{…}`` is left exactly as written, so a
response body that happens to contain braces is served unchanged. In JSON
bodies a string that is exactly one reference keeps the value's JSON type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webhook_core.template import (
    MISSING,
    Reference,
    format_value,
    parse_template,
    resolve,
    single_reference,
)

__all__ = ["render_json", "render_text"]


def render_text(template: str, context: Mapping[str, Any]) -> str:
    """Replace the references into ``context``; keep every other brace text as it is."""
    parts = parse_template(template)
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    out: list[str] = []
    for part in parts:
        if isinstance(part, Reference):
            if part.path[0] in context:
                out.append(format_value(resolve(part, context)))
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
            found = resolve(reference, context)
            return None if found is MISSING else found
        return render_text(value, context)
    if isinstance(value, dict):
        return {
            render_text(key, context): render_json(item, context) for key, item in value.items()
        }
    if isinstance(value, list):
        return [render_json(item, context) for item in value]
    return value
