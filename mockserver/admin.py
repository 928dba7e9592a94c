"""The admin HTTP API under ``/__admin/``: JSON in and out, with the same models as Python.

Errors are ``application/problem+json`` (RFC 9457) with ``errors``: one
``{field, message}`` per problem. Admin requests are never journaled.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .bulk import (
    HOLD_FROM_BYTES,
    PIECE,
    add_in_pieces,
    breathe,
    collector_held,
    dumps_in_pieces,
    list_in_pieces,
    release_in_pieces,
    remove_in_pieces,
)
from .journal import path_tail
from .models import RequestPattern, Stub
from .validation import explain
from .written import WrittenFloat

if TYPE_CHECKING:
    from .journal import RecordedRequest
    from .server import MockServer

__all__ = [
    "PARAMS",
    "AdminRouter",
    "Handler",
    "admin_router",
    "json_body",
    "problem",
    "read_admin_body",
    "reply",
    "request_model",
    "validation_problems",
]

#: What comes from requests is data: a browser must never sniff it into markup.
_NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None
) -> web.Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return web.Response(
        status=status,
        body=_encoded(body),
        content_type="application/problem+json",
        charset="utf-8",
        headers=_NOSNIFF,
    )


def _store_refused(exc: Exception) -> web.Response | None:
    """A fake CRM's ``--data`` file that refused a write made by an admin call (a full
    disk, a read-only file): a 507 saying so, as the CRM's own calls answer, not a 500
    with a traceback. (No store, no ``sqlite3`` loaded, no such error.)"""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or not isinstance(exc, sqlite3.Error):
        return None
    return problem(
        507,
        "Insufficient storage",
        f"the fake CRM could not write its --data file ({exc}); what this call changed "
        "is not on disk, and a restart finds the file as it was before it",
    )


_YES = ("1", "true", "yes")
_NO = ("0", "false", "no")


def validation_problems(
    error: ValidationError, prefix: str = "", model: type[BaseModel] | None = None
) -> list[dict[str, str]]:
    """Pydantic's errors as ``{field, message}``, the field as a dotted path; with the
    validated ``model``, an unknown field's message names the closest known one."""
    out = []
    for loc, message in explain(error, model):
        path = ".".join(str(part) for part in loc)
        field = f"{prefix}.{path}" if prefix and path else prefix or path
        out.append({"field": field, "message": message})
    return out


class _Unreadable:
    """A number in an admin body that JSON allows but Python should not take."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Twice(_Unreadable):
    """A key given twice in one JSON object (``json`` would keep the last silently)."""

    def __init__(self) -> None:
        super().__init__("given twice in the same object; only one is allowed")


def _parse_int(text: str) -> int | _Unreadable:
    digits = len(text.lstrip("-"))
    if digits > _MAX_DIGITS:
        return _Unreadable(f"an integer of {digits} digits (at most {_MAX_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float | _Unreadable:
    value = WrittenFloat(text)  # a message shows it as written: 1e-999, not 0.0
    if value in (float("inf"), float("-inf")):
        return _Unreadable(f"{text[:40]!r}, a number too large for a float")
    return value


def _parse_constant(name: str) -> _Unreadable:
    return _Unreadable(f"{name}, which is not JSON (JSON has no NaN or Infinity)")


def _unreadable(
    value: Any, path: str = "", kind: type[_Unreadable] = _Unreadable
) -> list[dict[str, str]]:
    """Where the parsed body holds a ``kind`` of refused value, as ``{field, message}``."""
    if isinstance(value, kind):
        return [{"field": path or "(body)", "message": value.text}]
    found: list[dict[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _unreadable(item, f"{path}.{key}" if path else str(key), kind)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _unreadable(item, f"{path}[{index}]", kind)
    return found


def _bad_body(title: str, detail: str, errors: list[dict[str, str]] | None = None) -> NoReturn:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": 400, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    # text, not body (deprecated for HTTP exceptions); ASCII escapes cannot fail to encode.
    raise web.HTTPBadRequest(text=json.dumps(body), content_type="application/problem+json")


def json_body(raw: bytes) -> Any:
    """The admin body as JSON; a 400 names what is wrong (syntax, bytes, a number that
    cannot be read: 5000 digits, NaN, Infinity, 1e999; a key given twice, which the
    ``json`` module would read as its last value, as stub files refuse it)."""
    seen: list[bool] = []
    twice: list[bool] = []

    def mark(value: Any) -> Any:
        if isinstance(value, _Unreadable):
            seen.append(True)
        return value

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        made = dict(pairs)
        if len(made) != len(pairs):
            twice.append(True)
            keys: set[str] = set()
            for key, _ in pairs:
                if key in keys:
                    made[key] = _Twice()
                keys.add(key)
        return made

    try:
        data = json.loads(
            raw,
            parse_int=lambda text: mark(_parse_int(text)),
            parse_float=lambda text: mark(_parse_float(text)),
            parse_constant=lambda name: mark(_parse_constant(name)),
            object_pairs_hook=unique,
        )
    except json.JSONDecodeError as exc:
        _bad_body("Body is not JSON", f"line {exc.lineno} column {exc.colno}: {exc.msg}")
    except UnicodeDecodeError as exc:
        _bad_body("Body is not JSON", f"byte {exc.start}: not UTF-8")
    except RecursionError:
        _bad_body("Body is not JSON", "the JSON nests too deeply to read")
    if twice:
        errors = _unreadable(data, kind=_Twice)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        _bad_body("Body has a key given twice", detail, errors)
    if seen:
        errors = _unreadable(data)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        _bad_body("Body holds a number that cannot be used", detail, errors)
    return data


async def read_admin_body(request: web.BaseRequest) -> bytes:
    """An admin request's body, read as stub traffic is (size limit, body timeout)."""
    read = await _SERVER.get().read_body(request)
    if read.note is None:
        return read.body
    status, detail = read.status, read.note
    text = json.dumps(
        {"type": "about:blank", "title": "Body not read", "status": status or 400}
        | {"detail": detail}
    )
    refusal: web.HTTPException
    if read.status == 413:
        refusal = web.HTTPRequestEntityTooLarge(
            0, text=text, content_type="application/problem+json"
        )
    elif read.status == 408:
        refusal = web.HTTPRequestTimeout(text=text, content_type="application/problem+json")
    else:
        refusal = web.HTTPBadRequest(text=text, content_type="application/problem+json")
    refusal.force_close()  # the rest of the body was never read
    raise refusal


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _encoded(value: Any) -> bytes:
    """``value`` as UTF-8 JSON; text that cannot be UTF-8 (a lone surrogate from a
    ``\\ud800`` in some body) is written as a JSON escape instead of failing."""
    text = _dumps(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, default=str).encode("ascii")


def reply(data: Any, *, status: int = 200) -> web.Response:
    """A JSON answer, UTF-8 as written (an operator reads Анна, not \\u0410\\u043d...)."""
    return web.Response(
        status=status,
        body=_encoded(data),
        content_type="application/json",
        charset="utf-8",
        headers=_NOSNIFF,
    )


def _listing(listing: str, *, status: int = 200) -> web.Response:
    """``{"stubs": listing}``; a lone surrogate in a stub (``"\\ud800"`` in its id, name or
    JSON) stands only in a JSON string, so it is written as that string's escape."""
    return web.Response(
        status=status,
        body=f'{{"stubs":{listing}}}'.encode("utf-8", "backslashreplace"),
        content_type="application/json",
        charset="utf-8",
    )


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _entry_json(entry: RecordedRequest) -> dict[str, Any]:
    """A journal entry for the admin API; one that cannot be shown says why and leaves
    the rest of the view alone."""
    try:
        view = entry.to_json()
    except Exception as exc:
        return {"seq": entry.seq, "error": f"this entry cannot be shown: {_failure(exc)}"}
    return view


async def _stream(
    request: web.BaseRequest,
    head: dict[str, Any],
    name: str,
    items: Iterable[Any],
    *,
    every: int = PIECE,
) -> web.StreamResponse:
    """``{**head, name: [items...]}`` written item by item, so a large journal is never
    all in memory as JSON at once (chunked transfer; HEAD gets the headers only).
    After every ``every`` items, and every 64 KiB written, the event loop answers
    others: the items are worked out as they are written (a near-miss entry scores up
    to 64 stubs, an entry of 1 MiB parses its body), and a write only waits when the
    client reads slowly."""
    response = web.StreamResponse(status=200, headers=_NOSNIFF)
    response.content_type = "application/json"
    response.charset = "utf-8"
    await response.prepare(request)
    if request.method == "HEAD":
        await response.write_eof()
        return response
    opening = _encoded(head)[:-1] + (b", " if head else b"") + _encoded(name) + b": ["
    try:
        await response.write(opening)
        buffer: list[bytes] = []
        pending = 0
        for index, item in enumerate(items):
            if index % every == every - 1 and not await _others_served(request):
                return response
            chunk = (b", " if index else b"") + _encoded(item)
            buffer.append(chunk)
            pending += len(chunk)
            if pending >= 64 * 1024:
                await response.write(b"".join(buffer))
                buffer, pending = [], 0
                # A write waits only for a slow reader: let others in.
                if not await _others_served(request):
                    return response
        buffer.append(b"]}")
        await response.write(b"".join(buffer))
        await response.write_eof()
    except ConnectionError:  # the client left mid-answer: nothing to tell anyone
        pass
    return response


async def _others_served(request: web.BaseRequest) -> bool:
    """Let the event loop answer others; ``False`` when the client has left meanwhile
    (the rest of a long view is not worked out for nobody)."""
    await asyncio.sleep(0)
    transport = request.transport
    return transport is not None and not transport.is_closing()


def _dump_stub(stub: Stub) -> dict[str, Any]:
    return stub.model_dump(mode="json", by_alias=True, exclude_unset=True) | {"id": stub.id}


# The path parameters of the admin call being answered (set per call, in its own task).
PARAMS: ContextVar[dict[str, str]] = ContextVar("mockserver_admin_params")
# The server whose admin API answers the call (set per call, as the parameters are).
_SERVER: ContextVar[MockServer] = ContextVar("mockserver_admin_server")
#: The longest integer an admin body may hold (Python reads at most 4300 digits).
_MAX_DIGITS = 4000
#: The most stubs the admin API lets a server hold: a stub takes about 4 KB, and a
#: 64 MiB body of ``{}`` items would be 22 million of them (90 GB).
MAX_STUBS = 100_000
#: The bytes of stub definitions the admin API holds at most (as sent: JSON, in all);
#: built, a stub takes several times its JSON, so this bounds the server's memory.
MAX_STUB_BYTES = 256 * 1024 * 1024
M = TypeVar("M", bound=BaseModel)


class _StateRequest(BaseModel):
    """``PUT /__admin/state``: put a stub scenario (or one key of it) in a state."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1)
    state: str = Field(min_length=1)
    key: str = ""


class _RemoveRequest(BaseModel):
    """``POST /__admin/stubs/remove``: remove these stubs, all or none."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1)


async def request_model(request: web.BaseRequest, model: type[M], title: str) -> M | web.Response:
    """An optional JSON body as ``model`` (an empty body takes the defaults), or a 400
    naming every field that is wrong."""
    raw = await read_admin_body(request)
    data = json_body(raw) if raw.strip() else {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_problems(exc, model=model)
        return problem(400, title, f"{len(errors)} problem(s)", errors)


Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class AdminRouter:
    """The admin API's routes: a short table, tried in order.

    The server answers stub traffic from a low-level aiohttp server, without an
    application's router in the way; requests under ``/__admin/`` come here.
    Captured path parameters reach the handlers through a context variable.
    """

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._queried: set[Handler] = set()

    def add(self, method: str, path: str, handler: Handler, *, query: bool = False) -> None:
        """Route ``method path`` to ``handler``; only a ``query`` handler (one that checks
        its own query parameters) is given a query string, the others refuse one."""
        # {name} is one segment; {name+} the rest of the path (a stub id may hold '/').
        parts = re.split(r"(\{\w+\+?\})", path)
        source = "".join(
            (f"(?P<{part[1:-2]}>.+)" if part.endswith("+}") else f"(?P<{part[1:-1]}>[^/]+)")
            if part.startswith("{")
            else re.escape(part)
            for part in parts
        )
        self._routes.append((method, re.compile(source), handler))
        if query:
            self._queried.add(handler)

    async def dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        # HEAD is answered as GET without the body, as aiohttp's router does.
        wanted = "GET" if request.method == "HEAD" else request.method
        allowed: list[str] = []
        for method, pattern, handler in self._routes:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            if method != wanted:
                allowed.append(method)
                continue
            if request.query and handler not in self._queried:
                return _no_query(request)
            PARAMS.set(found.groupdict())
            _SERVER.set(self.server)
            try:
                return await handler(request)
            except Exception as exc:
                if (refused := _store_refused(exc)) is not None:
                    return refused
                raise
        if allowed:
            methods = ", ".join(sorted(set(allowed)))
            response = problem(405, "Method not allowed", f"{path} takes {methods}")
            response.headers["Allow"] = methods
            return response
        return problem(404, "No such admin endpoint", f"{request.method} {path}")


def _no_query(request: web.BaseRequest) -> web.Response:
    """A query string where the endpoint reads none (``near-misses?limit=1`` would have
    answered everything, silently)."""
    errors = [
        {"field": name, "message": f"{request.path} takes no query parameters"}
        for name in dict.fromkeys(request.query)
    ]
    detail = f"{request.method} {request.path} takes no query parameters"
    return problem(400, "Invalid query", detail, errors)


def admin_router(server: MockServer) -> AdminRouter:
    """The admin API of ``server``."""
    from .admin_crm import crm_routes  # it builds on this module's helpers

    async def list_stubs(request: web.BaseRequest) -> web.Response:
        # Written in pieces: 10 000 stubs take 0.1-0.2 s to list.
        listing = await dumps_in_pieces(
            server.registry.entries(), lambda entry: _dump_stub(entry.stub) | {"calls": entry.calls}
        )
        return _listing(listing)

    # The stubs and bytes of adds under way (checked against the bounds, filed in
    # pieces, not yet live): each check counts them, or two adds at once each found
    # room for itself and both went in, past MAX_STUBS.
    underway = [0, 0]

    async def add_stubs(request: web.BaseRequest) -> web.Response:
        raw = await read_admin_body(request)
        with collector_held(len(raw) >= HOLD_FROM_BYTES):
            return await _add_stubs(request, raw)

    async def _add_stubs(request: web.BaseRequest, raw: bytes) -> web.Response:
        data: Any = await list_in_pieces(raw)
        if data is None:  # not a plain JSON array of readable numbers: parsed whole, and told
            data = json_body(raw)
        # {"stubs": [...]}, a list of stubs (as a stub file holds them), or one stub.
        listed = isinstance(data, list) or (isinstance(data, dict) and "stubs" in data)
        if isinstance(data, dict) and listed and set(data) - {"stubs", "$schema"}:
            extra = sorted(set(data) - {"stubs", "$schema"})
            return problem(
                400,
                "Invalid stubs",
                f"unknown key(s) beside stubs: {', '.join(extra)}",
                [{"field": name, "message": "unknown key beside stubs"} for name in extra],
            )
        items = data if isinstance(data, list) else data["stubs"] if listed else [data]
        if not isinstance(items, list):
            return problem(
                400,
                "Invalid stubs",
                "stubs: expected a list",
                [{"field": "stubs", "message": "expected a list of stubs"}],
            )
        if len(items) > MAX_STUBS:  # refused before 4 KB each is spent building them
            return _too_many(len(items), 0)
        models: list[Stub] = []
        errors: list[dict[str, str]] = []
        for index, item in enumerate(items):
            prefix = f"stubs[{index}]" if len(items) > 1 or listed else ""
            try:
                models.append(Stub.model_validate(item))
            except ValidationError as exc:
                errors += validation_problems(exc, prefix, Stub)
            await breathe(index)
        if errors:
            return problem(400, "Invalid stub", f"{len(errors)} problem(s)", errors)
        registry = server.registry
        ids = [model.id for model in models]  # a known id replaces its stub
        new = ids.count(None) + len({i for i in ids if i is not None and registry.get(i) is None})
        if len(registry) + underway[0] + new > MAX_STUBS:
            return _too_many(new, len(registry), underway[0])
        # A replaced stub's bytes count until it is replaced: the budget is checked first.
        if registry.weight + underway[1] + len(raw) > MAX_STUB_BYTES:
            held = registry.weight + underway[1]
            return problem(
                413,
                "Too many stub bytes",
                f"at most {MAX_STUB_BYTES} bytes of stub definitions on one server; this adds "
                f"{len(raw)} to the {held} held (remove stubs, or DELETE /__admin/stubs)",
                [{"field": "stubs", "message": f"at most {MAX_STUB_BYTES} bytes of stubs"}],
            )
        underway[0] += new
        underway[1] += len(raw)
        try:
            added = await add_in_pieces(registry, models, weight=len(raw))
        finally:
            underway[0] -= new
            underway[1] -= len(raw)
        if len(added) == 1 and not listed:
            return reply(_dump_stub(added[0]), status=201)
        return _listing(await dumps_in_pieces(added, _dump_stub), status=201)

    def _too_many(new: int, held: int, adding: int = 0) -> web.Response:
        having = f"; the server holds {held}" if held else ""
        if adding:  # other adds under way, not yet live
            having += f"{'' if held else '; the server holds 0'} and is adding {adding}"
        return problem(
            413,
            "Too many stubs",
            f"at most {MAX_STUBS} stubs on one server; this adds {new}{having}",
            [{"field": "stubs", "message": f"at most {MAX_STUBS} stubs on one server"}],
        )

    async def remove_stubs(request: web.BaseRequest) -> web.Response:
        asked = await request_model(request, _RemoveRequest, "Invalid removal")
        if isinstance(asked, web.Response):
            return asked
        unknown = set(await remove_in_pieces(server.registry, asked.ids))
        if unknown:
            errors = [
                {"field": f"ids[{index}]", "message": f"no stub has id {stub_id!r}"}
                for index, stub_id in enumerate(asked.ids)
                if stub_id in unknown
            ]
            detail = f"{len(unknown)} unknown id(s); nothing was removed"
            return problem(404, "No such stub", detail, errors)
        return reply({"removed": len(set(asked.ids))})

    async def delete_stub(request: web.BaseRequest) -> web.Response:
        # From the raw target: the decoded path has lost what %2F and %ED%A0%80 were.
        stub_id = path_tail(request.raw_path, "/__admin/stubs/") or PARAMS.get()["id"]
        if not server.remove(stub_id):
            return problem(404, "No such stub", f"no stub has id {stub_id!r}")
        return web.Response(status=204)

    async def delete_stubs(request: web.BaseRequest) -> web.Response:
        entries = server.registry.entries()
        server.registry.clear(states=False)
        await release_in_pieces(entries)
        return web.Response(status=204)

    async def list_requests(request: web.BaseRequest) -> web.StreamResponse:
        entries = server.journal.entries()
        query = request.query
        if "method" in query:
            entries = [e for e in entries if e.method == query["method"].upper()]
        if "path" in query:
            entries = [e for e in entries if e.path == query["path"]]
        errors = [
            {"field": name, "message": f"given {count} times; give it once"}
            for name in sorted(set(query))
            if (count := len(query.getall(name))) > 1
        ]
        for name in sorted(set(query) - {"method", "path", "unmatched", "limit"}):
            close = difflib.get_close_matches(name, ["method", "path", "unmatched", "limit"], 1)
            hint = f"; did you mean {close[0]!r}?" if close else " (method, path, unmatched, limit)"
            errors.append({"field": name, "message": f"unknown query parameter{hint}"})
        unmatched = query.get("unmatched", "false").lower()
        if unmatched not in _YES + _NO:
            expected = "true or false (also 1/0, yes/no)"
            errors.append({"field": "unmatched", "message": f"{expected}; got {unmatched!r}"})
        elif unmatched in _YES:
            entries = [e for e in entries if e.stub_id is None]
        if "limit" in query:
            text = query["limit"]
            # isdigit() alone takes '²' and '٣', which int() then refuses or reads.
            if not (text.isascii() and text.isdigit()) or len(text) > 18:
                expected = "a whole number of requests, 0 or more (digits 0-9, at most 18)"
                shown = text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
                errors.append({"field": "limit", "message": f"{expected}; got {shown!r}"})
            else:
                limit = int(text)
                entries = entries[-limit:] if limit > 0 else []
        if errors:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            return problem(400, "Invalid query", detail, errors)
        head = {"cap": server.journal.cap, "dropped": server.journal.dropped}
        head |= {"max_bytes": server.journal.max_bytes, "bytes": server.journal.bytes}
        return await _stream(request, head, "requests", (_entry_json(e) for e in entries))

    async def find_requests(request: web.BaseRequest) -> web.StreamResponse:
        data = json_body(await read_admin_body(request))
        try:
            pattern = RequestPattern.model_validate(data)
        except ValidationError as exc:
            errors = validation_problems(exc, model=RequestPattern)
            return problem(400, "Invalid request pattern", "see errors", errors)
        found = await server.find_in_turns(pattern)
        head = {"count": len(found)}
        return await _stream(request, head, "requests", (_entry_json(e) for e in found))

    async def clear_requests(request: web.BaseRequest) -> web.Response:
        server.reset_requests()
        return web.Response(status=204)

    def near_miss_json(entry: RecordedRequest) -> dict[str, Any]:
        view = _entry_json(entry)
        try:
            misses = [miss.to_json() for miss in server.near_misses(entry)]
        except Exception as exc:  # one odd entry must not take the whole view down
            return {"request": view, "near_misses": [], "error": _failure(exc)}
        finally:
            entry.forget_views()
        return {"request": view, "near_misses": misses}

    async def near_misses(request: web.BaseRequest) -> web.StreamResponse:
        unmatched = server.journal.unmatched()
        entries = (near_miss_json(entry) for entry in unmatched)
        return await _stream(request, {}, "unmatched", entries, every=1)

    async def get_state(request: web.BaseRequest) -> web.Response:
        states = [
            {"scenario": scenario, "key": key, "state": state}
            for (scenario, key), state in sorted(server.registry.states.items())
        ]
        return reply({"states": states, "dropped": server.registry.states.dropped})

    async def put_state(request: web.BaseRequest) -> web.Response:
        asked = await request_model(request, _StateRequest, "Invalid state")
        if isinstance(asked, web.Response):
            return asked
        server.set_state(asked.scenario, asked.state, key=asked.key)
        return web.Response(status=204)

    async def clear_state(request: web.BaseRequest) -> web.Response:
        server.registry.states.clear()
        return web.Response(status=204)

    async def reset(request: web.BaseRequest) -> web.Response:
        server.reset()
        return web.Response(status=204)

    async def health(request: web.BaseRequest) -> web.Response:
        # in_flight: requests being answered now, this one left out (a drain waits for them).
        # Open live feeds (the dashboard) never finish: they are not work in flight.
        in_flight = server.in_flight - 1 - server.open_feeds
        stubs, requests = len(server.registry), len(server.journal)
        return reply({"status": "ok", "stubs": stubs, "in_flight": in_flight, "requests": requests})

    router = AdminRouter(server)
    for method, path, handler in (
        ("GET", "/__admin/stubs", list_stubs),
        ("POST", "/__admin/stubs", add_stubs),
        ("DELETE", "/__admin/stubs", delete_stubs),
        ("DELETE", "/__admin/stubs/{id+}", delete_stub),
        ("POST", "/__admin/stubs/remove", remove_stubs),
        ("GET", "/__admin/requests", list_requests),
        ("DELETE", "/__admin/requests", clear_requests),
        ("POST", "/__admin/requests/find", find_requests),
        ("GET", "/__admin/near-misses", near_misses),
        ("GET", "/__admin/state", get_state),
        ("PUT", "/__admin/state", put_state),
        ("DELETE", "/__admin/state", clear_state),
        ("POST", "/__admin/reset", reset),
        ("GET", "/__admin/health", health),
        *crm_routes(server),
    ):
        router.add(method, path, handler, query=handler is list_requests)
    return router
