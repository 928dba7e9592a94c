"""What the server received: :class:`RecordedRequest` and the bounded :class:`Journal`.

A recorded request keeps the raw facts (method, path, query text, headers,
body bytes, when it arrived by ``datetime.now``) and derives the parsed views
(JSON, PHP-decoded form and query, headers by lower-case name) on first use,
so recording stays cheap on the server's hot path.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Generic, TypeVar, overload

from webhook_core.template import MISSING

from .forms import parse_php_form
from .jsoncodec import loads_body

__all__ = ["NO_PARAMS", "Journal", "RecordedRequest"]

#: The path parameters of a request whose stub captured none (one shared, read-only value).
NO_PARAMS: Final[Mapping[str, str]] = MappingProxyType({})

_T = TypeVar("_T")


class _lazy(Generic[_T]):
    """A value worked out on first read and then kept in the instance.

    ``functools.cached_property`` does the same but, on Python 3.11, takes a
    lock on every first read; the server reads these on its hot path.
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _lazy[_T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> _T | _lazy[_T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


@dataclass(eq=False)
class RecordedRequest:
    """One request as it arrived, and what became of it."""

    seq: int
    method: str
    path: str
    query_string: str
    raw_headers: tuple[tuple[str, str], ...]
    body: bytes
    received_at: datetime
    stub_id: str | None = None
    status: int | None = None
    fault: str | None = None
    path_params: Mapping[str, str] = field(default_factory=lambda: NO_PARAMS)
    note: str | None = None
    #: The HTTP parser refused it (a bad request line or header): no method, path or headers.
    refused: bool = False

    @_lazy
    def headers(self) -> dict[str, str]:
        """Headers by lower-case name; repeated headers joined with ``", "``."""
        joined: dict[str, str] = {}
        for name, value in self.raw_headers:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        return joined

    @_lazy
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @_lazy
    def json(self) -> Any:
        """The body parsed as JSON, or ``MISSING`` when it is not JSON."""
        if not self.body:
            return MISSING
        return loads_body(self.body)

    @_lazy
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @_lazy
    def form(self) -> Any:
        """A urlencoded body decoded as PHP's ``$_POST``, or ``MISSING`` for other bodies."""
        if self.content_type != "application/x-www-form-urlencoded":
            return MISSING
        return parse_php_form(self.text)

    @_lazy
    def query(self) -> Any:
        """The query string decoded as PHP's ``$_GET``."""
        return parse_php_form(self.query_string)

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    def template_context(self) -> Mapping[str, Any]:
        """What response templates see as ``request``; each part is worked out when used."""
        return _RequestView(self)

    def to_json(self) -> dict[str, Any]:
        """The admin API's view of this request."""
        body_json = self.json
        form = self.form
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query_string,
            "headers": [list(pair) for pair in self.raw_headers],
            "body": self.text,
            "json": None if body_json is MISSING else body_json,
            "form": None if form is MISSING else form,
            "received_at": self.received_at.isoformat(),
            "stub_id": self.stub_id,
            "status": self.status,
            "fault": self.fault,
            "note": self.note,
            "refused": self.refused,
        }

    def __repr__(self) -> str:
        answer = f" -> {self.status}" if self.status else ""
        return f"<RecordedRequest #{self.seq} {self.method} {self.url}{answer}>"


def _json_view(request: RecordedRequest) -> Any:
    return None if request.json is MISSING else request.json


def _form_view(request: RecordedRequest) -> Any:
    return {} if request.form is MISSING else request.form


# What each name of ``request`` reads; a table, so a template's lookup is one dict hit.
_VIEW: dict[str, Callable[[RecordedRequest], Any]] = {
    "method": lambda request: request.method,
    "path": lambda request: request.path_params or {},  # JSON wants a dict, not the proxy
    "url": lambda request: request.url,
    "query": lambda request: request.query,
    "headers": lambda request: request.headers,
    "json": _json_view,
    "form": _form_view,
    "body": lambda request: request.text,
}


class _RequestView(Mapping[str, Any]):
    """``request`` in templates: method, path (captured), url, query, headers, json, form, body."""

    __slots__ = ("_request",)

    def __init__(self, request: RecordedRequest) -> None:
        self._request = request

    def __getitem__(self, key: str) -> Any:
        return _VIEW[key](self._request)

    def get(self, key: str, default: Any = None) -> Any:
        read = _VIEW.get(key)
        return default if read is None else read(self._request)

    def __iter__(self) -> Iterator[str]:
        return iter(_VIEW)

    def __len__(self) -> int:
        return len(_VIEW)


class Journal:
    """Every request, in order, up to ``cap`` entries; what falls out is counted, never silent.

    ``dropped`` counts entries pushed out by the cap; reports and the admin API
    say so. ``cap=None`` keeps everything.
    """

    def __init__(self, cap: int | None = 10_000) -> None:
        self.cap = cap
        self._entries: deque[RecordedRequest] = deque(maxlen=cap)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0

    def next_seq(self) -> int:
        return next(self._seq)

    def add(self, entry: RecordedRequest) -> None:
        with self._lock:
            if self.cap is not None and len(self._entries) == self.cap:
                self.dropped += 1
            self._entries.append(entry)

    def entries(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def unmatched(self) -> list[RecordedRequest]:
        return [entry for entry in self.entries() if entry.stub_id is None]

    def clear(self) -> None:
        """Forget every entry; numbering starts again at #1 (each scenario reads from #1)."""
        with self._lock:
            self._entries.clear()
            self._seq = itertools.count(1)
            self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.entries())

    def overflow_note(self) -> str | None:
        """A line for reports when the cap pushed entries out."""
        if not self.dropped:
            return None
        return (
            f"note: the journal holds the last {self.cap} requests; "
            f"{self.dropped} earlier one(s) were dropped"
        )
