"""From an action and variables to the exact HTTP request (rules C1–C9).

Rendering, nesting and encoding are pure; the result is an ``httpx.Request``
that any httpx client (a real one, or respx in unit tests) can send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import httpx

from . import __version__
from .action import Method, WebhookAction
from .encoding import encode_query
from .errors import ConfigurationError
from .nesting import nest
from .template import evaluate, render_report

__all__ = [
    "USER_AGENT",
    "PreparedRequest",
    "build_request",
    "clean_header_value",
    "prepare_request",
]

USER_AGENT: Final = f"webhook-core/{__version__} (LeadConverter send-via-webhook)"
FORM: Final = "application/x-www-form-urlencoded"
JSON: Final = "application/json"

# C8: CR and LF (and the other controls that no HTTP/1.1 peer accepts) become spaces.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A built request and the template references that found no value (rule B3)."""

    request: httpx.Request
    missing: tuple[str, ...]


def clean_header_value(text: str) -> str:
    """Rule C8: no subscriber input can end a header line; controls become spaces."""
    return _CONTROL.sub(" ", text).strip(" \t")


def _url(template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
    rendering = render_report(template, variables)
    missing.extend(rendering.missing)
    return rendering.text.strip()


@lru_cache(maxsize=1024)
def _check_url(text: str) -> httpx.URL:
    expected = "an absolute http:// or https:// URL with a host after rendering"
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ConfigurationError(field="url", value=text, expected=f"{expected} ({exc})") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(field="url", value=text, expected=expected)
    return url


def _append_query(url: str, query: str) -> str:
    """C4: parameters follow any query already in the URL; a fragment is never sent."""
    url = url.split("#", 1)[0]
    if not query:
        return url
    if "?" not in url:
        return f"{url}?{query}"
    if url.endswith(("?", "&")):
        return url + query
    return f"{url}&{query}"


def prepare_request(
    action: WebhookAction,
    variables: Mapping[str, Any],
    *,
    user_agent: str = USER_AGENT,
) -> PreparedRequest:
    """Render ``action`` with ``variables`` into the request to send, and report missing references.

    Raises :class:`ConfigurationError` when the rendered URL is not http(s).
    """
    missing: list[str] = []
    url = _url(action.url, variables, missing)
    method = action.method
    body: bytes | None = None
    content_type: str | None = None
    if method is Method.JSON_POST:
        typed = []
        for name, value in action.params:
            item, absent = evaluate(value, variables)
            missing.extend(absent)
            typed.append((name, item))
        data = nest(typed)
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        content_type = JSON
    else:
        pairs = []
        for name, value in action.params:
            rendering = render_report(value, variables)
            missing.extend(rendering.missing)
            pairs.append((name, rendering.text))
        query = encode_query(nest(pairs)) if pairs else ""
        if method is Method.GET:
            url = _append_query(url, query)
        elif pairs or method is Method.POST:
            body = query.encode("ascii")
            content_type = FORM
    checked = _check_url(url)

    headers: list[tuple[bytes, bytes]] = []
    user_names = {name.lower() for name, _ in action.headers}
    if "user-agent" not in user_names:
        headers.append((b"User-Agent", user_agent.encode()))
    if content_type is not None and "content-type" not in user_names:
        headers.append((b"Content-Type", content_type.encode()))
    for name, value in action.headers:
        rendering = render_report(value, variables)
        missing.extend(rendering.missing)
        headers.append((name.encode("ascii"), clean_header_value(rendering.text).encode()))

    request = httpx.Request(method.http_method, checked, headers=headers, content=body)
    return PreparedRequest(request, tuple(missing))


def build_request(
    action: WebhookAction, variables: Mapping[str, Any], *, user_agent: str = USER_AGENT
) -> httpx.Request:
    """The ``httpx.Request`` that ``action`` sends with ``variables`` (see ``prepare_request``)."""
    return prepare_request(action, variables, user_agent=user_agent).request
