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
from .template import Part, evaluate_parts, parse_template, render_parts

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
_FORM_BYTES: Final = FORM.encode()
_JSON_BYTES: Final = JSON.encode()

# C8: CR and LF (and the other controls that no HTTP/1.1 peer accepts) become spaces.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class PreparedRequest:
    """A built request, as its parts, and the template references that found no value (B3).

    ``request`` is the ``httpx.Request``, made on first use: the reference
    sender sends the parts as they are and never needs it.
    """

    __slots__ = ("_request", "body", "headers", "method", "missing", "url")

    def __init__(
        self,
        method: str,
        url: httpx.URL,
        headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        missing: tuple[str, ...] = (),
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.missing = missing
        self._request: httpx.Request | None = None

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            self._request = httpx.Request(
                self.method, self.url, headers=self.headers, content=self.body
            )
        return self._request

    def __repr__(self) -> str:
        return f"<PreparedRequest {self.method} {self.url}>"


def clean_header_value(text: str) -> str:
    """Rule C8: no subscriber input can end a header line; controls become spaces."""
    return _CONTROL.sub(" ", text).strip(" \t")


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


@dataclass(frozen=True, slots=True)
class _Plan:
    """What can be worked out of an action once: parsed templates, header bytes, defaults."""

    url: tuple[Part, ...]
    params: tuple[tuple[str, tuple[Part, ...]], ...]
    flat: bool  # no dotted names: the data is a plain mapping
    headers: tuple[tuple[bytes, tuple[Part, ...]], ...]
    user_agent: bool  # send the default User-Agent
    content_type: bool  # send the default Content-Type (when there is a body)


@lru_cache(maxsize=512)
def _plan(action: WebhookAction) -> _Plan:
    names = {name.lower() for name, _ in action.headers}
    return _Plan(
        url=parse_template(action.url),
        params=tuple((name, parse_template(value)) for name, value in action.params),
        flat=not any("." in name for name, _ in action.params),
        headers=tuple(
            (name.encode("ascii"), parse_template(value)) for name, value in action.headers
        ),
        user_agent="user-agent" not in names,
        content_type="content-type" not in names,
    )


def _data(plan: _Plan, pairs: list[tuple[str, Any]]) -> dict[str, Any] | list[Any]:
    if not plan.flat:
        return nest(pairs)
    data = dict(pairs)
    if data and all(key == str(index) for index, key in enumerate(data)):
        return list(data.values())  # C3 holds at the root too
    return data


def prepare_request(
    action: WebhookAction,
    variables: Mapping[str, Any],
    *,
    user_agent: str = USER_AGENT,
) -> PreparedRequest:
    """Render ``action`` with ``variables`` into the request to send, and report missing references.

    Raises :class:`ConfigurationError` when the rendered URL is not http(s).
    """
    plan = _plan(action)
    missing: list[str] = []
    url = render_parts(plan.url, variables, missing).strip()
    method = action.method
    body: bytes | None = None
    content_type: bytes | None = None
    if method is Method.JSON_POST:
        typed = [(name, evaluate_parts(parts, variables, missing)) for name, parts in plan.params]
        data = _data(plan, typed)
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        content_type = _JSON_BYTES
    else:
        pairs = [(name, render_parts(parts, variables, missing)) for name, parts in plan.params]
        query = encode_query(_data(plan, pairs)) if pairs else ""
        if method is Method.GET:
            url = _append_query(url, query)
        elif pairs or method is Method.POST:
            body = query.encode("ascii")
            content_type = _FORM_BYTES
    checked = _check_url(url)

    headers: list[tuple[bytes, bytes]] = []
    if plan.user_agent:
        headers.append((b"User-Agent", _encoded(user_agent)))
    if content_type is not None and plan.content_type:
        headers.append((b"Content-Type", content_type))
    for name, parts in plan.headers:
        text = render_parts(parts, variables, missing)
        headers.append((name, clean_header_value(text).encode()))

    return PreparedRequest(method.http_method, checked, headers, body, tuple(missing))


@lru_cache(maxsize=16)
def _encoded(text: str) -> bytes:
    return text.encode()


def build_request(
    action: WebhookAction, variables: Mapping[str, Any], *, user_agent: str = USER_AGENT
) -> httpx.Request:
    """The ``httpx.Request`` that ``action`` sends with ``variables`` (see ``prepare_request``)."""
    return prepare_request(action, variables, user_agent=user_agent).request
