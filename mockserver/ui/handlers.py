"""The dashboard's HTTP side: the page, its scripts, its JSON API and its live feed.

Everything lives under ``/__admin/ui/``:

- ``/__admin/ui/`` and ``/__admin/ui/static/<file>``: the page (package data);
- ``GET api/overview``, ``api/requests`` (a page of the journal), ``api/requests/<seq>``,
  ``api/stubs``, ``api/states``, ``api/crm``: what the views show;
- ``GET api/events``: server-sent events, ``rows`` with the new requests that pass the
  page's filter, at most :data:`TICK` apart (the feed reads the journal on its own
  clock, so a busy server does no extra work per request for a watcher);
- ``POST api/clear-journal``, ``POST api/reset``, ``DELETE api/stubs?id=<id>`` (or
  ``api/stubs/<id>``): the actions.

Every call goes through :func:`.guard.refusal` first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from mockserver.admin import problem as _problem
from mockserver.journal import path_tail

from .feed import FEED_ROWS, MAX_WATCHERS, TICK, feed, stub_name
from .guard import admin_token, refusal
from .queries import (
    FilterError,
    JournalFilter,
    crm_view,
    is_number,
    journal_page,
    request_detail,
    stubs_view,
)

if TYPE_CHECKING:
    from mockserver.server import MockServer

__all__ = ["FEED_ROWS", "MAX_WATCHERS", "TICK", "UI_PREFIX", "UiRouter"]

UI_PREFIX: Final = "/__admin/ui/"
_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_STATIC_TYPES: Final = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
_STATIC_NAME: Final = re.compile(r"[a-z][a-z0-9_-]*\.(?:js|css|svg)")

_Handler = Callable[[web.BaseRequest, str], Awaitable[web.StreamResponse]]


def _secure(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.update(_SECURITY_HEADERS)
    return response


def _json(data: Any, status: int = 200) -> web.Response:
    # A lone surrogate (a request's "\ud800", a stub's id) stands only in a JSON string:
    # written \udXXX, it is that string's escape, and the answer is always UTF-8.
    response = web.Response(
        status=status,
        body=json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace"),
        content_type="application/json",
        charset="utf-8",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _static(name: str) -> bytes | None:
    try:
        return resources.files(__package__).joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


class UiRouter:
    """The dashboard of one :class:`~mockserver.MockServer`."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        #: Live feeds open now (at most :data:`MAX_WATCHERS`).
        self.watchers = 0
        #: How often the feed looks at the journal (:data:`TICK`; a test may set 0).
        self.tick = TICK
        #: Watchers dropped for falling too far behind: how many, and the last one's why.
        self.dropped = 0
        self.last_dropped: str | None = None
        self._cache: dict[str, bytes] = {}
        self._get: dict[str, _Handler] = {
            "api/overview": self.overview,
            "api/requests": self.requests,
            "api/stubs": self.stubs,
            "api/states": self.states,
            "api/crm": self.crm,
            "api/events": self.events,
        }
        self._post: dict[str, _Handler] = {
            "api/clear-journal": self.clear_journal,
            "api/reset": self.reset,
        }

    async def dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer a request under ``/__admin/ui`` (security headers on every answer)."""
        return _secure(await self._dispatch(request))

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path == UI_PREFIX.rstrip("/"):
            raise web.HTTPFound(UI_PREFIX)
        rest = path.removeprefix(UI_PREFIX)
        method = "GET" if request.method == "HEAD" else request.method
        page = rest == "" or rest.startswith("static/")
        write = method not in ("GET", "OPTIONS")
        refused = refusal(request, self.server, write=write, api=not page)
        if refused is not None:
            return refused
        if page:
            if method != "GET":
                return _problem(405, "Method not allowed", f"{path} takes GET")
            return self._page(rest.removeprefix("static/") if rest else "index.html")
        if method == "GET" and rest in self._get:
            return await self._get[rest](request, "")
        if method == "POST" and rest in self._post:
            return await self._post[rest](request, "")
        if rest.startswith("api/requests/") and method == "GET":
            return await self.request_detail(request, rest.removeprefix("api/requests/"))
        if rest == "api/stubs" and method == "DELETE":
            return await self.remove_stub_named(request)
        if rest.startswith("api/stubs/") and method == "DELETE":
            return await self.remove_stub(request, rest.removeprefix("api/stubs/"))
        known = rest in self._get or rest in self._post
        if known:
            return _problem(405, "Method not allowed", f"{request.method} {path}")
        return _problem(404, "No such dashboard endpoint", f"{request.method} {path}")

    def _page(self, name: str) -> web.Response:
        if name != "index.html" and not _STATIC_NAME.fullmatch(name):
            return _problem(404, "No such file", f"{name!r} is not part of the dashboard")
        content = self._cache.get(name)
        if content is None:
            found = _static(name)
            if found is None:
                return _problem(404, "No such file", f"{name!r} is not part of the dashboard")
            content = self._cache[name] = found
        suffix = name[name.rindex(".") :]
        response = web.Response(body=content, content_type=_STATIC_TYPES[suffix], charset="utf-8")
        response.headers["Cache-Control"] = "no-cache"
        return response

    # --- views ---------------------------------------------------------------------

    async def overview(self, request: web.BaseRequest, _: str) -> web.Response:
        server = self.server
        return _json(
            {
                "url": server.url,
                "stubs": len(server.registry),
                "requests": len(server.journal),
                "cap": server.journal.cap,
                "dropped": server.journal.dropped,
                "profiles": [profile.name for profile in server.profiles],
                "token_required": admin_token(server) is not None,
                "feeds": {"open": self.watchers, "max": MAX_WATCHERS, "dropped": self.dropped},
                "errors": server.errors[-20:],
            }
        )

    async def requests(self, request: web.BaseRequest, _: str) -> web.Response:
        try:
            wanted, before, limit = JournalFilter.from_query(request.query)
        except FilterError as exc:
            return _problem(400, "Invalid filter", str(exc), exc.errors)
        page = journal_page(self.server.journal.entries(), wanted, before=before, limit=limit)
        page["dropped"] = self.server.journal.dropped
        self._name_stubs(page["rows"])
        return _json(page)

    async def request_detail(self, request: web.BaseRequest, seq: str) -> web.Response:
        if not is_number(seq):
            shown = seq if len(seq) <= 40 else f"{seq[:40]}..."
            return _problem(404, "No such request", f"{shown!r} is not a request number")
        number = int(seq)
        for entry in reversed(self.server.journal.entries()):
            if entry.seq == number:
                return _json(request_detail(self.server, entry))
        return _problem(404, "No such request", f"request #{number} is not in the journal")

    async def stubs(self, request: web.BaseRequest, _: str) -> web.Response:
        return _json({"stubs": stubs_view(self.server)})

    async def states(self, request: web.BaseRequest, _: str) -> web.Response:
        states = [
            {"scenario": scenario, "key": key, "state": state}
            for (scenario, key), state in sorted(self.server.registry.states.items())
        ]
        return _json({"states": states})

    async def crm(self, request: web.BaseRequest, _: str) -> web.Response:
        return _json({"profiles": crm_view(self.server)})

    # --- actions -------------------------------------------------------------------

    async def clear_journal(self, request: web.BaseRequest, _: str) -> web.Response:
        self.server.reset_requests()
        return web.Response(status=204)

    async def reset(self, request: web.BaseRequest, _: str) -> web.Response:
        self.server.reset()
        return web.Response(status=204)

    async def remove_stub(self, request: web.BaseRequest, stub_id: str) -> web.Response:
        # Decoded once, from the raw target (the path aiohttp decoded would be twice).
        stub_id = path_tail(request.raw_path, UI_PREFIX + "api/stubs/") or stub_id
        if not self.server.remove(stub_id):
            return _problem(404, "No such stub", f"no stub has id {stub_id!r}")
        return web.Response(status=204)

    async def remove_stub_named(self, request: web.BaseRequest) -> web.Response:
        """``DELETE api/stubs?id=<id>``: what the page sends. An id in the path cannot be
        ``.`` or ``..``: a browser resolves those segments away (``%2E`` too, as the URL
        standard says), so ``stubs/..`` reached the API's root."""
        ids = request.query.getall("id", [])
        if len(ids) != 1 or set(request.query) != {"id"}:
            return _problem(400, "One stub id", "give exactly one id: DELETE api/stubs?id=<id>")
        if not self.server.remove(ids[0]):
            return _problem(404, "No such stub", f"no stub has id {ids[0]!r}")
        return web.Response(status=204)

    # --- the live feed -------------------------------------------------------------

    async def events(self, request: web.BaseRequest, _: str) -> web.StreamResponse:
        """Server-sent events: ``rows`` (new requests passing the filter), ``reset``
        (the journal was cleared); ``rows`` says ``skipped`` when more came than it carries."""
        query = {
            key: value for key, value in request.query.items() if key not in ("before", "limit")
        }
        try:
            wanted = JournalFilter.from_query(query)[0]
        except FilterError as exc:
            return _problem(400, "Invalid filter", str(exc), exc.errors)
        if self.watchers >= MAX_WATCHERS and request.method != "HEAD":
            refused = _problem(
                503,
                "Too many watchers",
                f"at most {MAX_WATCHERS} live feeds are open at once (MAX_WATCHERS), and "
                f"{self.watchers} are: close a dashboard tab; the page tries again by itself",
            )
            refused.headers["Retry-After"] = "1"
            return refused
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        _secure(response)
        if request.method == "HEAD":  # the headers alone: a HEAD answer has no body
            await response.prepare(request)
            await response.write_eof()
            return response
        self.watchers += 1
        try:
            await response.prepare(request)
            why = await feed(self.server, request, response, wanted, tick=self.tick)
            if why is not None:
                self.dropped += 1
                self.last_dropped = why
        except ConnectionResetError:  # the page went away
            pass
        finally:
            self.watchers -= 1
        return response

    def _name_stubs(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Give each row the name of the stub that answered it, when it has one."""
        for row in rows:
            row["stub_name"] = stub_name(self.server, row["stub_id"])
        return rows
