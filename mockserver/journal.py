"""What the server received: :class:`RecordedRequest` and the bounded :class:`Journal`.

A recorded request keeps the raw facts (method, path, query text, headers,
body bytes, when it arrived by ``datetime.now``) and derives the parsed views
(JSON, PHP-decoded form and query, headers by lower-case name) on first use,
so recording stays cheap on the server's hot path.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Generic, TypeVar, overload
from urllib.parse import unquote

from webhook_core.template import MISSING

from .forms import has_undecodable, parse_php_form
from .jsoncodec import loads_body

__all__ = ["NO_PARAMS", "Journal", "RecordedRequest", "escape_text", "origin_form", "path_tail"]

#: The most pairs a form body is read as a form: a 64 MiB body of ``a=1&`` pairs would
#: hold the event loop for about two minutes; 100 000 pairs take under a second.
MAX_FORM_PAIRS = 100_000

#: What a journal entry costs beyond its body and headers (the object, its fields, the
#: parsed views it may grow), counted against the journal's byte budget.
ENTRY_OVERHEAD: Final = 1024
#: Parsed views that may cost up to this are kept between reads (see ``forget_views``).
_VIEWS_KEPT_UP_TO: Final = 64 * 1024
#: The bytes that start a container or an item in JSON or a form (``{ [ , : & =``): each
#: parsed may take a Python object (an empty dict is 64 bytes, for the 3 of ``{},``).
_PER_ITEM: Final = 72
_ITEM_BYTES: Final = b"{[,:&="
_KEPT_BODY: Final = _VIEWS_KEPT_UP_TO // 2

_flat = itertools.chain.from_iterable
_new = object.__new__

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def escape_bytes(text: str) -> str:
    """``text`` with the bytes that were not UTF-8 (kept by aiohttp as lone surrogates)
    written as ``\\xNN``; any other lone surrogate as ``\\udXXX``. Valid text comes
    back as it is (the common case costs one ``isascii`` scan)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if _escapable(text):
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def escape_text(text: str) -> str:
    """``text`` safe to print on one line of a log or report: undecodable bytes as
    :func:`escape_bytes` writes them, control characters (CR, LF, ESC, DEL, C1 and the
    Unicode line separators) as ``\\xNN`` / ``\\uNNNN``, so nothing in a request can
    start a line of its own or drive the terminal."""
    text = escape_bytes(text)
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escape_char, text)


def _escape_char(found: re.Match[str]) -> str:
    number = ord(found.group())
    return f"\\x{number:02x}" if number < 0x100 else f"\\u{number:04x}"


def _escapable(text: str) -> bool:
    """Every surrogate in ``text`` stands for one undecodable byte (``surrogateescape``)."""
    return all(not "\ud800" <= c <= "\udfff" or "\udc80" <= c <= "\udcff" for c in text)


def _utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def views_cost(body: bytes) -> int:
    """What the parsed views of ``body`` (its text, JSON and form) may take when kept
    between reads, an estimate from above: twice its bytes, and 72 for each byte that
    starts a container or an item (``{``, ``[``, ``,``, ``:``, ``&``, ``=``); ``0`` when
    that is over 64 KiB, and such views are not kept (``[{},{},…]`` of 63 KB parses to
    1.5 MB). One pass over the body, in C."""
    if len(body) > _VIEWS_KEPT_UP_TO // 2:
        return 0
    # Deleting the six bytes, not keeping them: a table of 6 to mark, not 250.
    cost = 2 * len(body) + _PER_ITEM * (len(body) - len(body.translate(None, _ITEM_BYTES)))
    return cost if cost <= _VIEWS_KEPT_UP_TO else 0


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
        # setattr, not ``instance.__dict__[...]``: reading ``__dict__`` would give the
        # instance a dict object of its own (its attributes live inline until then),
        # one more object for each journal entry to hold and, once dropped, to free.
        setattr(instance, self.name, value)
        return value


@dataclass(eq=False)
class RecordedRequest:
    """One request as it arrived, and what became of it.

    Text fields are safe to show: a byte that was not UTF-8 in the path or a
    header value is written ``\\xNN`` (``undecodable`` names where; the header's
    raw bytes are kept in ``raw_header_bytes``). ``body`` is the raw bytes, cut at
    the journal's per-entry cap: then ``body_length`` is the full length and
    ``body_sha256`` the digest of the whole body.
    """

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
    #: The body did not all arrive (the client closed, or went quiet past the body timeout).
    incomplete: bool = False
    #: A fake CRM is still working on it: journaled as it came, its status not known yet
    #: (``status`` None then is "not yet", not "no answer"); False once it is answered.
    answering: bool = False
    #: Which parts held bytes that are not UTF-8 (``path``, ``header X-Name``; the admin
    #: view adds ``body``, worked out when shown).
    undecodable: tuple[str, ...] = ()
    #: The raw header values as bytes, kept only when one of them was not UTF-8.
    raw_header_bytes: tuple[tuple[str, bytes], ...] | None = None
    #: The whole body's length and SHA-256 when the journal kept only its start.
    body_length: int | None = None
    body_sha256: str | None = None

    @classmethod
    def received(
        cls,
        seq: int,
        method: str,
        path: str,
        query_string: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        received_at: datetime,
    ) -> RecordedRequest:
        """A request as aiohttp gave it: header values that were not UTF-8 (lone
        surrogates) are written escaped and their raw bytes kept."""
        pairs = tuple(headers)
        if path.isascii() and query_string.isascii():
            size = ENTRY_OVERHEAD + len(body) + 2 * (len(path) + len(query_string))
            views = 0
            length = len(body)
            if length and length <= _KEPT_BODY:  # views_cost(body), inline: the hot path
                views = 2 * length + _PER_ITEM * (length - len(body.translate(None, _ITEM_BYTES)))
                if views > _VIEWS_KEPT_UP_TO:
                    views = 0
            # Names and values in one string: one test in C whether all are ASCII, and
            # their length (a loop over the pairs cost three times as much).
            joined = "".join(_flat(pairs))
            if joined.isascii():
                # Made without __init__: the fields not set here read their defaults
                # from the class (a test keeps this equal to the dataclass's own).
                made = _new(cls)
                made.seq = seq
                made.method = method
                made.path = path
                made.query_string = query_string
                made.raw_headers = pairs
                made.body = body
                made.received_at = received_at
                made.path_params = NO_PARAMS
                made.size = size + views + len(joined)  # counted on the way (see size)
                made.views_size = views
                return made
        undecodable: list[str] = []
        raw: tuple[tuple[str, bytes], ...] | None = None
        if not all(_utf8(value) for _, value in pairs):
            raw = tuple((name, value.encode("utf-8", "surrogateescape")) for name, value in pairs)
            undecodable += [f"header {name}" for name, value in pairs if not _utf8(value)]
            pairs = tuple((name, escape_bytes(value)) for name, value in pairs)
        if not _utf8(path):
            undecodable.insert(0, "path")
            path = escape_bytes(path)
        return cls(
            seq=seq,
            method=method,
            path=path,
            query_string=escape_bytes(query_string),
            raw_headers=pairs,
            body=body,
            received_at=received_at,
            undecodable=tuple(undecodable),
            raw_header_bytes=raw,
        )

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
        """The body as text; bytes that are not UTF-8 written ``\\xNN``."""
        return self.body.decode("utf-8", errors="backslashreplace")

    @_lazy
    def json(self) -> Any:
        """The body parsed as JSON, or ``MISSING`` when it is not JSON."""
        body = self.body
        length = self.body_length  # ``truncated``, inline: the hot path reads this view
        if not body or (length is not None and length > len(body)):
            return MISSING
        return loads_body(body)

    @_lazy
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @_lazy
    def form(self) -> Any:
        """A urlencoded body decoded as PHP's ``$_POST``, or ``MISSING`` for other bodies."""
        if self.content_type != "application/x-www-form-urlencoded" or self.truncated:
            return MISSING
        text = self.text
        if text.count("&") >= MAX_FORM_PAIRS:  # counted in C; parsing is about 7 µs a pair
            return MISSING  # not read as a form, as a truncated body is not (hardening.md)
        return parse_php_form(text)

    @_lazy
    def query(self) -> Any:
        """The query string decoded as PHP's ``$_GET``."""
        return parse_php_form(self.query_string)

    def forget_views(self) -> None:
        """Drop the parsed views (text, JSON, form) of a body whose views may cost more
        than 64 KiB (:func:`views_cost`): parsed, a body can take twenty times its
        bytes, and the journal's budget counts bytes. They are worked out again when
        read. Cheaper views are kept, and counted in :attr:`size`."""
        if self.body and not self.views_size:
            for name in ("text", "json", "form"):
                self.__dict__.pop(name, None)

    @property
    def truncated(self) -> bool:
        """The journal kept only the start of the body."""
        return self.body_length is not None and self.body_length > len(self.body)

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    @_lazy
    def views_size(self) -> int:
        """What the body's parsed views may take when kept (:func:`views_cost`); ``0``
        when they are not kept between reads."""
        return views_cost(self.body) if self.body else 0

    @_lazy
    def size(self) -> int:
        """What this entry costs the journal's byte budget, an estimate from above: its
        body as kept, the body's parsed views when they are kept (:func:`views_cost`),
        headers (twice when their raw bytes are kept), path and query (decoded and
        parsed), and :data:`ENTRY_OVERHEAD` for the rest (a note among it).
        Worked out once (``received`` counts it on the way)."""
        size = ENTRY_OVERHEAD + len(self.body) + 2 * (len(self.path) + len(self.query_string))
        size += self.views_size
        for name, value in self.raw_headers:
            size += len(name) + len(value)
        if self.raw_header_bytes is not None:
            size += sum(len(value) for _, value in self.raw_header_bytes)
        return size

    def template_context(self) -> Mapping[str, Any]:
        """What response templates see as ``request``; each part is worked out when used."""
        return _RequestView(self)

    def to_json(self) -> dict[str, Any]:
        """The admin API's view of this request: text safe to show, bytes recoverable."""
        body_json = self.json
        form = self.form
        out: dict[str, Any] = {
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
            "incomplete": self.incomplete,
            "undecodable": list(self.undecodable),
            "body_length": len(self.body) if self.body_length is None else self.body_length,
            "body_truncated": self.truncated,
        }
        if self.body_sha256 is not None:
            out["body_sha256"] = self.body_sha256
        try:
            self.body.decode("utf-8")
        except UnicodeDecodeError:
            out["undecodable"].append("body")
            out["body_base64"] = base64.b64encode(self.body).decode("ascii")
        # A percent-escape that is not UTF-8 reads \xNN in the parsed views (forms.py).
        if has_undecodable(self.query_string):
            out["undecodable"].append("query")
        if form is not MISSING and has_undecodable(self.text):
            out["undecodable"].append("form")
        self.forget_views()
        if self.raw_header_bytes is not None:
            out["headers_base64"] = [
                [name, base64.b64encode(value).decode("ascii")]
                for name, value in self.raw_header_bytes
            ]
        return out

    def __repr__(self) -> str:
        answer = f" -> {self.status}" if self.status else ""
        return f"<RecordedRequest #{self.seq} {self.method} {self.url}{answer}>"


def _json_view(request: RecordedRequest) -> Any:
    value = request.json
    return None if value is MISSING else value


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


def origin_form(target: str) -> str:
    """The path of an absolute-form target (``http://host/path``, what a client sends a
    server it takes for its proxy): RFC 9112 says a server must accept it, and the path
    names the resource."""
    _, _, rest = target.partition("://")
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def path_tail(raw_target: str, prefix: str) -> str | None:
    """What follows ``prefix`` in a request's raw target, percent-decoded once (``%2F`` a
    slash inside it, ``%ED%A0%80`` a lone surrogate): a stub id in an admin URL. ``None``
    when the target is not under ``prefix``."""
    raw = raw_target.partition("#")[0].partition("?")[0]
    if raw[:1] != "/" and "://" in raw:
        raw = origin_form(raw)
    if not raw.startswith(prefix):
        return None
    tail = raw[len(prefix) :]
    try:
        return unquote(tail, errors="surrogatepass")
    except UnicodeDecodeError:  # not UTF-8 at all: each odd byte kept as a surrogate
        return unquote(tail, errors="surrogateescape")


class Journal:
    """Every request, in order, within a count and a byte budget; what falls out is
    counted, never silent.

    ``cap`` bounds the entries (``None``: no count limit), ``max_bytes`` what they
    hold (bodies, headers, a fixed overhead each; ``None``: no byte limit): the
    oldest entries go first. ``body_cap`` bounds one entry's body: beyond it the
    body is counted and hashed (``body_length``, ``body_sha256``), not kept.
    Matching always sees the whole body; the cap is for storage only.
    ``dropped`` counts entries pushed out; reports and the admin API say so.
    """

    def __init__(
        self,
        cap: int | None = 10_000,
        *,
        max_bytes: int | None = 128 * 1024 * 1024,
        body_cap: int | None = 1024 * 1024,
    ) -> None:
        self.cap = cap
        self.max_bytes = max_bytes
        self.body_cap = body_cap
        # The bounds as plain numbers, so that add() compares without a None test.
        self._count_limit = sys.maxsize if cap is None else cap
        self._byte_limit = sys.maxsize if max_bytes is None else max_bytes
        self._entries: deque[RecordedRequest] = deque(maxlen=cap)
        self._seq = itertools.count(1)
        #: The next request's number: the counter's own ``__next__`` (a C call; a method
        #: calling ``next`` cost a Python frame a request).
        self.next_seq: Callable[[], int] = self._seq.__next__
        self._lock = threading.Lock()
        self.dropped = 0
        #: How many times :meth:`clear` ran: a request numbered before a reset (a fake
        #: CRM's, answered after it) tells by this that the journal forgot it.
        self.resets = 0
        #: How many bytes the entries now hold (by :attr:`RecordedRequest.size`).
        self.bytes = 0

    def stored(self, entry: RecordedRequest) -> RecordedRequest:
        """``entry`` as the journal keeps it: a body over ``body_cap`` cut, with the whole
        body's length and digest (a copy: the request being answered keeps its body)."""
        cap = self.body_cap
        if cap is None or len(entry.body) <= cap:
            return entry
        body = entry.body
        return replace(
            entry,
            body=body[:cap],
            body_length=len(body),
            body_sha256=hashlib.sha256(body).hexdigest(),
        )

    def add(self, entry: RecordedRequest) -> RecordedRequest:
        """Keep ``entry`` (its body cut at ``body_cap``); return what was kept."""
        cap = self.body_cap
        if cap is not None and len(entry.body) > cap:
            entry = self.stored(entry)
        size = entry.size
        entries = self._entries
        lock = self._lock
        lock.acquire()  # not ``with``: its __exit__ call cost twice the lock itself
        try:
            if len(entries) == self._count_limit:
                # The deque's maxlen drops the oldest as this one goes in: count it out.
                total = self.bytes + size - entries[0].size
                self.dropped += 1
            else:
                total = self.bytes + size
            entries.append(entry)
            if total > self._byte_limit:
                total = self._trim(total)
            self.bytes = total
        finally:
            lock.release()
        return entry

    def _trim(self, total: int) -> int:
        """Drop the oldest entries until the bytes fit (the newest always stays)."""
        entries = self._entries
        while len(entries) > 1 and total > self._byte_limit:
            total -= entries.popleft().size  # as counted when it was added
            self.dropped += 1
        return total

    def entries(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def newest(self, count: int) -> list[RecordedRequest]:
        """The newest ``count`` entries, oldest first: O(count), where :meth:`entries`
        copies the whole journal (the live feed asks twice a second per watcher)."""
        with self._lock:
            taken = list(itertools.islice(reversed(self._entries), max(count, 0)))
        taken.reverse()
        return taken

    def unmatched(self) -> list[RecordedRequest]:
        return [entry for entry in self.entries() if entry.stub_id is None]

    def clear(self) -> None:
        """Forget every entry; numbering starts again at #1 (each scenario reads from #1)."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0
            self._seq = itertools.count(1)
            self.next_seq = self._seq.__next__
            self.dropped = 0
            self.resets += 1

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.entries())

    def limits(self) -> str:
        """The bounds in words: ``10000 requests and 128 MiB``."""
        parts = []
        if self.cap is not None:
            parts.append(f"{self.cap} requests")
        if self.max_bytes is not None:
            parts.append(_size(self.max_bytes))
        return " and ".join(parts) or "no limit"

    def overflow_note(self) -> str | None:
        """A line for reports when the bounds pushed entries out."""
        if not self.dropped:
            return None
        return (
            f"note: the journal holds at most {self.limits()}; "
            f"{self.dropped} earlier request(s) were dropped"
        )


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
