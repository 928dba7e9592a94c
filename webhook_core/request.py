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
from .errors import ConfigurationError, LimitExceeded
from .nesting import nest
from .paths import MISSING
from .template import (
    MAX_RENDERED_BYTES,
    Part,
    Reference,
    evaluate_parts,
    format_value,
    parse_template,
    render_parts,
    resolve,
)

__all__ = [
    "MAX_REQUEST_BYTES",
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

#: One request as sent (its URL, header values and body) is at most this many bytes:
#: twice what one rendered text may hold (``MAX_RENDERED_BYTES``), and, even with every
#: byte JSON-escaped six times over, within the 64 MiB a mock server or a
#: ``--sender-cmd`` answer line takes. Past it the action fails with
#: :class:`LimitExceeded` naming ``request``, before anything is built that large.
MAX_REQUEST_BYTES: Final = 2 * MAX_RENDERED_BYTES

# An unpaired surrogate (half an emoji a messenger cut, JSON's "\ud83d") has no UTF-8
# form: it is sent as U+FFFD, as rule D3 reads an invalid byte of an answer.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")

# C8: CR and LF (and the other controls that no HTTP/1.1 peer accepts) become spaces;
# C1 too (U+0085 NEL is a line break to a reader that decodes the header as Latin-1 and
# splits lines as Python's str.splitlines does).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: A URL template's literal start up to its authority: ``https://``.
_SCHEME: Final = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://")
#: What ends an authority (``\\`` too: httpx reads it as ``/``), or moves its host (``@``).
_AUTHORITY_END: Final = re.compile(r"[/?#\\]")
_AUTHORITY_MOVE: Final = re.compile(r"[/?#\\@]")


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


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8, an unpaired surrogate as U+FFFD (it has no UTF-8 form)."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode()


#: URLs up to this many characters are checked once and remembered (1 024 of them);
#: a longer one (a GET carrying a saved answer) is checked each time, not kept.
_CACHED_URL_CHARS: Final = 4096


def _check_url(text: str) -> httpx.URL:
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    if len(text) <= _CACHED_URL_CHARS:
        return _check_url_cached(text)
    return _parse_url(text)


def _parse_url(text: str) -> httpx.URL:
    expected = "an absolute http:// or https:// URL with a host after rendering"
    try:
        url = httpx.URL(text)
        host = url.host  # IDNAError for a label like "xn--" that decodes to nothing
        _check_host(url.raw_host, url.port)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise ConfigurationError(field="url", value=text, expected=f"{expected} ({exc})") from exc
    if url.scheme not in ("http", "https") or not host:
        raise ConfigurationError(field="url", value=text, expected=expected)
    return url


def _check_host(raw_host: bytes, port: int | None) -> None:
    """What httpx lets through and the connection then fails on with an exception of its
    own: a port past 65535, a name with an empty label or one over 63 characters."""
    if port is not None and not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 0-65535")
    if raw_host and not raw_host.startswith(b"[") and not raw_host[-1:].isdigit():
        raw_host.decode("ascii").encode("idna")  # as the resolver will: UnicodeError


_check_url_cached = lru_cache(maxsize=1024)(_parse_url)


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
    authority: tuple[Reference, ...]  # references written in the URL's authority
    params: tuple[tuple[str, tuple[Part, ...]], ...]
    flat: bool  # no dotted names: the data is a plain mapping
    headers: tuple[tuple[bytes, tuple[Part, ...]], ...]
    user_agent: bool  # send the default User-Agent
    content_type: bool  # send the default Content-Type (when there is a body)
    name_chars: int  # the most a query's names can take: 18 per character, and "=&"


@lru_cache(maxsize=512)
def _plan(action: WebhookAction) -> _Plan:
    names = {name.lower() for name, _ in action.headers}
    return _Plan(
        url=parse_template(action.url),
        authority=_authority_references(parse_template(action.url)),
        params=tuple((name, parse_template(value)) for name, value in action.params),
        flat=not any("." in name for name, _ in action.params),
        headers=tuple(
            (name.encode("ascii"), parse_template(value)) for name, value in action.headers
        ),
        user_agent="user-agent" not in names,
        content_type="content-type" not in names,
        name_chars=sum(18 * len(name) + 2 for name, _ in action.params),
    )


def _authority_references(parts: tuple[Part, ...]) -> tuple[Reference, ...]:
    """The references between a literal ``scheme://`` and the first ``/``, ``?`` or ``#``:
    their values are the host, port or user info the template has them stand for."""
    if not parts or type(parts[0]) is not str:
        return ()  # the URL starts with a reference: the scheme and host are its value
    scheme = _SCHEME.match(parts[0])
    if scheme is None or _AUTHORITY_END.search(parts[0], scheme.end()):
        return ()
    found: list[Reference] = []
    for part in parts[1:]:
        if type(part) is str:
            if _AUTHORITY_END.search(part):
                break
        else:
            found.append(part)  # type: ignore[arg-type]
    return tuple(found)


def _check_authority(plan: _Plan, variables: Mapping[str, Any], template: str) -> None:
    """A value rendered inside the authority may not end it or add user info: a
    subscriber's ``@evil.com`` never sends the request to another host."""
    for reference in plan.authority:
        value = resolve(reference, variables)
        if value is MISSING:
            continue
        found = _AUTHORITY_MOVE.search(format_value(value))
        if found is not None:
            raise ConfigurationError(
                field="url",
                value=template,
                expected=f"a value of {reference.source} that stays in the URL's host, port "
                f"or user info; it holds {found.group()!r}, which would change the host "
                "(percent-encode it, or put the value in the path or the query)",
            )


def _data(plan: _Plan, pairs: list[tuple[str, Any]]) -> dict[str, Any] | list[Any]:
    if not plan.flat:
        return nest(pairs)
    data = dict(pairs)
    if data and all(key == str(index) for index, key in enumerate(data)):
        return list(data.values())  # C3 holds at the root too
    return data


def _not_json(typed: list[tuple[str, Any]], action: Any) -> ConfigurationError:
    """A JSON POST parameter holding NaN or an infinity, which JSON cannot carry (PHP's
    ``json_encode`` refuses them too): named, not sent as a body no parser reads."""
    for index, (_, value) in enumerate(typed):
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            return ConfigurationError(
                field=f"params[{index}].value",
                value=action.params[index][1],
                expected="a value JSON can carry (NaN and infinities cannot be sent as JSON)",
            )
    return ConfigurationError(field="params", value=None, expected="values JSON can carry")


def _too_large(size: int) -> LimitExceeded:
    return LimitExceeded(field="request", value=size, limit=MAX_REQUEST_BYTES, what="request")


def _shared_size(pairs: list[tuple[str, Any]]) -> int:
    """The characters of JSON that the parameters' objects and lists take, each counted as
    often as it is referenced and written once: a saved answer in a thousand parameters
    would make a body of gigabytes."""
    size = 0
    sizes: dict[int, int] = {}
    for _, value in pairs:
        if isinstance(value, dict | list):
            key = id(value)
            if key not in sizes:
                sizes[key] = len(format_value(value))
            size += sizes[key]
            if size > MAX_REQUEST_BYTES:
                break
    return size


def prepare_request(
    action: WebhookAction,
    variables: Mapping[str, Any],
    *,
    user_agent: str = USER_AGENT,
) -> PreparedRequest:
    """Render ``action`` with ``variables`` into the request to send, and report missing references.

    Raises :class:`ConfigurationError` when the rendered URL is not http(s), and
    :class:`LimitExceeded` when one rendered value passes ``MAX_RENDERED_BYTES`` or the
    whole request ``MAX_REQUEST_BYTES``.
    """
    plan = _plan(action)
    missing: list[str] = []
    try:
        url = render_parts(plan.url, variables, missing).strip()
    except LimitExceeded as exc:
        raise exc.at("url", action.url) from None
    if plan.authority:
        _check_authority(plan, variables, action.url)
    method = action.method
    body: bytes | None = None
    content_type: bytes | None = None
    if method is Method.JSON_POST:
        typed: list[tuple[str, Any]] = []
        spent = len(url)
        shared = 0  # values that are objects or lists (taken from variables, rule C6)
        for index, (name, parts) in enumerate(plan.params):
            try:
                value = evaluate_parts(parts, variables, missing)
            except LimitExceeded as exc:
                raise exc.at(f"params[{index}].value", action.params[index][1]) from None
            if type(value) is str:
                spent += len(value)
            elif isinstance(value, dict | list):
                shared += 1
            typed.append((name, value))
        if shared > 1:
            spent += _shared_size(typed)
        if spent > MAX_REQUEST_BYTES:
            raise _too_large(spent)
        try:
            text = json.dumps(
                _data(plan, typed), ensure_ascii=False, separators=(",", ":"), allow_nan=False
            )
        except ValueError:  # NaN or an infinity, from a Python caller's variables
            raise _not_json(typed, action) from None
        if len(text) > MAX_REQUEST_BYTES:  # JSON-escaped: up to six times the values
            raise _too_large(len(url) + len(text))
        body = _utf8(text)
        content_type = _JSON_BYTES
    else:
        pairs: list[tuple[str, str]] = []
        spent = len(url)
        for index, (name, parts) in enumerate(plan.params):
            try:
                text = render_parts(parts, variables, missing)
            except LimitExceeded as exc:
                raise exc.at(f"params[{index}].value", action.params[index][1]) from None
            spent += len(text)
            pairs.append((name, text))
        if spent > MAX_REQUEST_BYTES:
            raise _too_large(spent)
        query = ""
        if pairs:
            # Percent-encoding writes a character as up to twelve (%F0%9F%98%80), and a
            # name's segments gain brackets: bounded only when it could pass the limit.
            most = 12 * (spent - len(url)) + plan.name_chars
            limit = None if len(url) + most <= MAX_REQUEST_BYTES else MAX_REQUEST_BYTES - len(url)
            query = _encoded_query(plan, pairs, limit)
        if method is Method.GET:
            url = _append_query(url, query)
        elif pairs or method is Method.POST:
            body = query.encode("ascii")
            content_type = _FORM_BYTES
    headers: list[tuple[bytes, bytes]] = []
    if plan.user_agent:
        headers.append((b"User-Agent", _encoded(user_agent)))
    if content_type is not None and plan.content_type:
        headers.append((b"Content-Type", content_type))
    size = len(url) + (len(body) if body is not None else 0)
    for index, (header, parts) in enumerate(plan.headers):
        try:
            rendered = render_parts(parts, variables, missing)
        except LimitExceeded as exc:
            raise exc.at(f"headers[{index}].value", action.headers[index][1]) from None
        value = _utf8(clean_header_value(rendered))
        size += len(header) + len(value)
        if size > MAX_REQUEST_BYTES:
            raise _too_large(size)
        headers.append((header, value))
    checked = _check_url(url)
    if len(url) > _CACHED_URL_CHARS:  # what goes on the wire: the URL as encoded
        size += len(str(checked)) - len(url)
        if size > MAX_REQUEST_BYTES:
            raise _too_large(size)

    return PreparedRequest(method.http_method, checked, headers, body, tuple(missing))


def _encoded_query(plan: _Plan, pairs: list[tuple[str, str]], limit: int | None) -> str:
    """C4/C5: the pairs as PHP writes a query, at most ``limit`` characters."""
    try:
        try:
            return encode_query(_data(plan, pairs), limit=limit)
        except UnicodeEncodeError:  # an unpaired surrogate: sent as U+FFFD
            clean = [
                (_SURROGATE.sub("\ufffd", name), _SURROGATE.sub("\ufffd", value))
                for name, value in pairs
            ]
            return encode_query(_data(plan, clean), limit=limit)
    except LimitExceeded as exc:
        raise _too_large(MAX_REQUEST_BYTES - (limit or 0) + exc.value) from None


@lru_cache(maxsize=16)
def _encoded(text: str) -> bytes:
    return text.encode()


def build_request(
    action: WebhookAction, variables: Mapping[str, Any], *, user_agent: str = USER_AGENT
) -> httpx.Request:
    """The ``httpx.Request`` that ``action`` sends with ``variables`` (see ``prepare_request``)."""
    return prepare_request(action, variables, user_agent=user_agent).request
