"""The mock server: a real aiohttp server on a real socket, programmable and strict.

``MockServer`` runs in the caller's event loop (``async with``) or in a thread
of its own (``with``), binds 127.0.0.1 on a free port unless told otherwise,
answers with the best-matching stub, records every request in the journal,
and explains every miss.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import HttpVersion10, HttpVersion11, web

from . import verifying
from .answering import MAX_BODY, ConnectionLog, Responder
from .errors import Problem, StubError, VerificationError
from .guard import AdminGuard, host_name_problem, host_names, token_problem
from .journal import Journal, RecordedRequest
from .matching import CompiledPattern
from .models import RequestPattern, Stub
from .pipelining import PipelineServer, listen_backlog
from .report import (
    NearMiss,
    rank,
    unmatched_report,
)
from .stubs import StubRegistry
from .threaded import InThread
from .validation import explain, shown_path

if TYPE_CHECKING:
    from .crm.base import CrmProfile
    from .ui import UiRouter

P = TypeVar("P", bound="CrmProfile")

__all__ = ["ADMIN_PREFIX", "MockServer"]

ADMIN_PREFIX = "/__admin/"
_UI_PREFIX = ADMIN_PREFIX + "ui/"  # the dashboard's (mockserver.ui.UI_PREFIX; a test checks)
PatternLike = RequestPattern | Mapping[str, Any]
LEFT_CHECK = 0.5  # seconds: how often a deliberate wait looks whether its client left


def _pattern(pattern: PatternLike) -> CompiledPattern:
    """A request pattern given to ``verify``/``find``, checked as stub patterns are."""
    if isinstance(pattern, RequestPattern):
        return CompiledPattern(pattern)
    from pydantic import ValidationError

    try:
        model = RequestPattern.model_validate(pattern)
    except ValidationError as exc:
        problems = [
            Problem("", shown_path(loc), message) for loc, message in explain(exc, RequestPattern)
        ]
        raise StubError(problems, source="the request pattern") from None
    return CompiledPattern(model)


class MockServer(Responder, InThread):
    """A programmable HTTP server for tests: stubs in, journal and verdicts out.

    ``journal_cap`` bounds the journal's entries, ``journal_bytes`` what they hold
    and ``journal_body_cap`` one entry's body (``None``: unbounded); ``log``
    receives a one-line summary of every request (the CLI prints them), with
    anything from the request that could forge a line escaped; with
    ``ssl_context`` it serves HTTPS (client libraries that insist on it).

    ``header_timeout`` closes a connection whose request headers have not all come
    that many seconds after it opened (or after its last answer: it is the
    keep-alive timeout too); ``body_timeout`` answers 408 when a body goes quiet
    that long. ``drain_timeout`` is how long :meth:`stop` lets requests in flight
    finish (deliberate delays included) before cutting them off.

    The admin API refuses cross-origin and DNS-rebinding requests (see
    :mod:`mockserver.guard`); ``admin_token`` requires ``Authorization: Bearer``
    instead, for deliberate remote use, and ``admin_hosts`` names extra host names
    the server may be reached by.

    ``max_connections`` bounds the open connections (default: from the process's
    open-file limit, at most 10 000); past it a new connection closes the one idle
    longest, so the health check always gets in.
    """

    def __init__(
        self,
        stubs: Iterable[Stub | Mapping[str, Any]] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        journal_cap: int | None = 10_000,
        journal_bytes: int | None = 128 * 1024 * 1024,
        journal_body_cap: int | None = 1024 * 1024,
        log: Callable[[str], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        header_timeout: float = 60.0,
        body_timeout: float = 60.0,
        drain_timeout: float = 0.0,
        admin_token: str | None = None,
        admin_hosts: Iterable[str] = (),
        max_connections: int | None = None,
    ) -> None:
        if not host.strip():
            raise ValueError(f"host: expected an address such as '127.0.0.1', got {host!r}")
        if admin_token and (problem := token_problem(admin_token)):
            raise ValueError(f"admin_token: {problem}")
        admin_hosts = tuple(admin_hosts)
        for name in admin_hosts:
            if problem := host_name_problem(name):
                raise ValueError(f"admin_hosts: {problem}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port: expected 0 (a free port) to 65535, got {port!r}")
        if journal_cap is not None and (
            isinstance(journal_cap, bool) or not isinstance(journal_cap, int) or journal_cap < 1
        ):
            raise ValueError(
                f"journal_cap: expected a count of at least 1 (None: no limit), got {journal_cap!r}"
            )
        limits = (("journal_bytes", journal_bytes), ("journal_body_cap", journal_body_cap))
        for name, limit in limits:
            if limit is not None and (isinstance(limit, bool) or limit < 0):
                raise ValueError(
                    f"{name}: expected a number of bytes, 0 or more (None: no limit), got {limit!r}"
                )
        for name, seconds in (
            ("header_timeout", header_timeout),
            ("body_timeout", body_timeout),
            ("drain_timeout", drain_timeout),
        ):
            if isinstance(seconds, bool) or not 0 <= seconds < 1e9 or seconds != seconds:
                raise ValueError(
                    f"{name}: expected a number of seconds, 0 or more, got {seconds!r}"
                )
        if max_connections is not None and (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)
            or max_connections < 1
        ):
            raise ValueError(
                "max_connections: expected a count of at least 1 (None: from the open-file "
                f"limit), got {max_connections!r}"
            )
        if header_timeout == 0 or body_timeout == 0:
            raise ValueError("header_timeout and body_timeout: expected more than 0 seconds")
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.drain_timeout = drain_timeout
        self.admin_token = admin_token or None
        self.admin_hosts = tuple(admin_hosts)
        self.max_connections = max_connections
        self.registry = StubRegistry()
        self.journal = Journal(journal_cap, max_bytes=journal_bytes, body_cap=journal_body_cap)
        self.errors: list[str] = []
        self._errors_more = 0  # errors past the kept ones, counted only
        self.profiles: list[CrmProfile] = []
        self.log = log
        self._runner: web.ServerRunner | None = None
        self._thread = None
        self._loop = None
        self._pausing: set[asyncio.Task[Any]] = set()
        self._in_flight = 0
        self._idle: asyncio.Event | None = None
        self._draining = False
        self._stopping: asyncio.Event | None = None  # set when the stop under way ends
        self._guard: AdminGuard | None = None
        self._dashboard: UiRouter | None = None
        self.add_many(stubs)

    # --- address -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT``, once started."""
        if self._runner is None:
            raise RuntimeError("the mock server is not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Serving: started and not stopped."""
        return self._runner is not None

    def __repr__(self) -> str:
        where = self.url if self._runner is not None else "not started"
        return f"<MockServer {where} stubs={len(self.registry)} requests={len(self.journal)}>"

    # --- stubs -------------------------------------------------------------------

    def add(self, stub: Stub | Mapping[str, Any]) -> Stub:
        """Register one stub (a :class:`Stub` or its dict form); return it with its id.

        A definition that cannot be used raises :class:`StubError` naming each field.
        """
        (model,) = _validated([stub], many=False)
        return self.registry.add(model)

    def mount(self, profile: P) -> P:
        """Put a fake CRM on the far side: requests it claims that no stub answers go to it."""
        self.profiles.append(profile)
        profile.pause = self.pause
        return profile

    def profile(self, name: str) -> CrmProfile:
        """The mounted profile called ``name`` (``bitrix24``…)."""
        for profile in self.profiles:
            if profile.name == name:
                return profile
        mounted = ", ".join(p.name for p in self.profiles) or "none"
        raise KeyError(f"no {name!r} profile is mounted (mounted: {mounted})")

    def stub(
        self,
        request: RequestPattern | Mapping[str, Any] | None = None,
        response: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Stub:
        """Register a stub from its parts: ``server.stub({"path": "/x"}, {"status": 201})``."""
        data: dict[str, Any] = dict(fields)
        if request is not None:
            data["request"] = request
        if response is not None:
            data["response"] = response
        return self.add(data)

    def add_many(self, stubs: Iterable[Stub | Mapping[str, Any]]) -> list[Stub]:
        """Register several stubs, all or none: :class:`StubError` lists every problem."""
        return self.registry.add_many(_validated(list(stubs), many=True))

    def remove(self, stub_id: str) -> bool:
        return self.registry.remove(stub_id)

    @property
    def stubs(self) -> list[Stub]:
        return [entry.stub for entry in self.registry.entries()]

    def set_state(self, scenario: str, state: str, *, key: str = "") -> None:
        """Put a scenario (or one key of it) in ``state``."""
        self.registry.set_state(scenario, state, key)

    def state(self, scenario: str, *, key: str = "") -> str:
        return self.registry.state_of(scenario, key)

    def reset(self) -> None:
        """Forget stubs, requests, states, errors and mounted CRM profiles."""
        self.registry.clear()
        self.profiles.clear()
        self.journal.clear()
        self.errors.clear()
        self._errors_more = 0

    def reset_requests(self) -> None:
        self.journal.clear()
        self.errors.clear()
        self._errors_more = 0

    # --- journal and verification -----------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.journal.entries()

    def find(self, pattern: PatternLike) -> list[RecordedRequest]:
        """The recorded requests that match ``pattern``."""
        return verifying.matching(self.journal.entries(), _pattern(pattern))

    async def find_in_turns(self, pattern: PatternLike) -> list[RecordedRequest]:
        """:meth:`find`, letting other clients in while it searches (the admin API's)."""
        return await verifying.matching_in_turns(self.journal.entries(), _pattern(pattern))

    def near_misses(self, request: RecordedRequest, limit: int = 3) -> list[NearMiss]:
        """The stubs that came closest to answering ``request``, with what differed."""
        candidates = (
            NearMiss(
                entry.stub.label(),
                self.registry.difference(entry, request),
                entry.pattern.field_count + (entry.stub.state is not None),
            )
            for entry in self.registry.near_candidates(request)
        )
        return rank(candidates, limit)

    def verify(
        self,
        pattern: PatternLike,
        *,
        count: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
    ) -> list[RecordedRequest]:
        """Check how many requests matched ``pattern`` (default: at least one).

        ``count=0`` checks that none came. Raises :class:`VerificationError`
        with the closest requests and how each differs.
        """
        for name, number in (("count", count), ("at_least", at_least), ("at_most", at_most)):
            if number is not None and (
                isinstance(number, bool) or not isinstance(number, int) or number < 0
            ):
                raise ValueError(f"{name}: expected a whole number, 0 or more; got {number!r}")
        return verifying.verify(
            self.journal, _pattern(pattern), count=count, at_least=at_least, at_most=at_most
        )

    def verify_order(self, patterns: Iterable[PatternLike]) -> list[RecordedRequest]:
        """Check that requests matching ``patterns`` came in this order (others may interleave)."""
        return verifying.verify_order(self.journal, [_pattern(pattern) for pattern in patterns])

    def unmatched_report(self, request: RecordedRequest) -> str:
        return unmatched_report(request, self.near_misses(request), len(self.registry))

    def verify_no_unmatched(self) -> None:
        """Fail when any request found no stub, with each one's near misses."""
        verifying.verify_no_unmatched(self.journal, self.unmatched_report)

    def assert_all_called(self) -> None:
        """Fail when a stub that is not ``optional`` never answered."""
        verifying.assert_all_called(self.registry, self.journal)

    def check(self) -> None:
        """Strict mode's verdict: no unmatched request, no exhausted sequence, every stub used."""
        if self.errors:
            more = [f"(and {self._errors_more} more like them)"] if self._errors_more else []
            lines = ["The mock server reported errors:", *self.errors, *more]
            raise VerificationError("\n".join(lines))
        self.verify_no_unmatched()
        self.assert_all_called()

    # --- serving -----------------------------------------------------------------

    @property
    def admin_guard(self) -> AdminGuard:
        """What the admin API (and any page under ``/__admin/``) lets through."""
        guard = self._guard
        token, hosts = self.admin_token or None, host_names(self.admin_hosts)
        if guard is None or (guard.port, guard.token, guard.allowed_hosts) != (
            self.port,
            token,
            hosts,
        ):
            scheme = "https" if self.ssl_context is not None else "http"
            guard = AdminGuard.build(
                host=self.host,
                port=self.port,
                scheme=scheme,
                token=self.admin_token,
                allowed_hosts=self.admin_hosts,
            )
            self._guard = guard
        return guard

    def _make_server(self) -> PipelineServer:
        """A low-level aiohttp server: ``/__admin/`` to the admin API, all else to the stubs.

        No application router sits in front of the stubs: every request but an
        admin call goes straight to :meth:`_handle`.
        """
        from .admin import admin_router

        admin = admin_router(self)
        handle = self._handle
        loop = asyncio.get_running_loop()

        async def dispatch(request: web.BaseRequest) -> web.StreamResponse:
            if self._draining:
                return _turned_away(request)
            version = request.version
            if version != HttpVersion11 and version != HttpVersion10:
                return self.unsupported_version(request)  # HTTP/2.0 in text, HTTP/0.9
            self._in_flight += 1
            try:
                if request.path.startswith(ADMIN_PREFIX):
                    if request.path.startswith(_UI_PREFIX) or request.path == _UI_PREFIX[:-1]:
                        return await self.dashboard.dispatch(request)
                    refusal = self.admin_guard.check(request)
                    if refusal is not None:
                        return refusal
                    return await admin.dispatch(request)
                answer = handle(request)
                # Response first: see Responder._handle_read.
                if type(answer) is web.Response or isinstance(answer, web.StreamResponse):
                    return answer
                return await answer
            finally:
                self._in_flight -= 1
                if self._in_flight == 0 and self._idle is not None:
                    self._idle.set()

        def make_request(
            message: Any, payload: Any, protocol: Any, writer: Any, task: Any
        ) -> web.BaseRequest:
            # aiohttp's own factory, with room for large bodies (the default is 1 MiB).
            return web.BaseRequest(
                message, payload, protocol, writer, task, loop, client_max_size=MAX_BODY
            )

        return PipelineServer(
            dispatch,
            request_factory=make_request,
            access_log=None,
            logger=ConnectionLog(self),
            # aiohttp closes a connection that has sent no whole request this long after
            # it opened or after its last answer: the header timeout (slowloris).
            keepalive_timeout=self.header_timeout,
            # After an answer that left part of a body unread (408, 413), aiohttp reads and
            # drops the rest for this long before it closes; no longer than a body may rest.
            lingering_time=min(10.0, self.body_timeout),
            max_connections=self.max_connections,
        )

    @property
    def dashboard(self) -> UiRouter:
        """The dashboard at ``/__admin/ui/``, loaded on its first request: a server
        whose dashboard is never opened does not hold its code."""
        if self._dashboard is None:
            from .ui import UiRouter

            self._dashboard = UiRouter(self)
        return self._dashboard

    async def start(self) -> MockServer:
        """Start serving in the running event loop (after a :meth:`stop` under way ends)."""
        if self._stopping is not None:
            # A start while the last stop drains would serve beside the old runner, and
            # turn every request away (503) until that drain ended.
            await self._stopping.wait()
        if self._runner is not None:
            return self
        runner = web.ServerRunner(self._make_server(), handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(
            runner,
            self.host,
            self.port,
            reuse_address=True,
            ssl_context=self.ssl_context,
            backlog=listen_backlog(),  # room the connection bound leaves for a burst
        )
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop serving: stop listening, turn new requests on open connections away
        (503), let requests in flight finish for up to ``drain_timeout`` seconds, then
        cut off what is left (a delay or a hung fault: its connection closed without
        an answer), so stopping never waits out a hang. A second call while the first
        drains returns when the server has stopped, not at once."""
        loop = self._loop
        if loop is not None and loop.is_running() and asyncio.get_running_loop() is not loop:
            # Started in a thread, stopped from a test's own loop: the runner is that
            # thread's loop's, so stop it there.
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.stop(), loop))
            return
        if self._stopping is not None:
            await self._stopping.wait()
            return
        if self._runner is None:
            return
        self._stopping = stopping = asyncio.Event()
        try:
            await self._stop_runner()
        finally:
            self._stopping = None
            stopping.set()

    async def _stop_runner(self) -> None:
        runner, self._runner = self._runner, None
        assert runner is not None
        try:
            if self.drain_timeout > 0:
                for site in list(runner.sites):
                    await site.stop()
                self._draining = True
                self._idle = asyncio.Event()
                if self._in_flight:
                    try:
                        async with asyncio.timeout(self.drain_timeout):
                            await self._idle.wait()
                    except TimeoutError:
                        pass
        finally:
            # Also when the stop itself is cancelled mid-drain (a test's own timeout
            # around it): the runner was already forgotten, and the server stayed
            # draining for good, its connections open.
            for task in self._pausing:
                task.cancel()
            await runner.cleanup()
            self._draining = False
            self._idle = None

    @property
    def open_feeds(self) -> int:
        """How many of the requests in flight are the dashboard's live feeds (which last
        as long as the page is open)."""
        return self._dashboard.watchers if self._dashboard is not None else 0

    @property
    def draining(self) -> bool:
        """Stopping: requests in flight are let finish, new ones turned away (a live
        feed, which would never finish, ends itself)."""
        return self._draining

    @property
    def in_flight(self) -> int:
        """How many requests are being answered right now."""
        return self._in_flight

    def end_drain(self) -> None:
        """Stop waiting for requests in flight (a second Ctrl-C): :meth:`stop` cuts them off."""
        if self._idle is not None:
            self._idle.set()

    async def pause(self, seconds: float, request: web.BaseRequest | None = None) -> None:
        """A deliberate wait (a stub's delay, a hung fault, a dribbled body) that
        :meth:`stop` cuts off, and that ends early when ``request``'s client is gone
        (it is looked at every :data:`LEFT_CHECK` seconds): a day's ``delay_ms`` no
        longer holds a request, its answer and its body for a day after the sender
        gave up, once for every retry."""
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task under aiohttp
            await asyncio.sleep(seconds)
            return
        self._pausing.add(task)
        try:
            if request is None:
                await asyncio.sleep(seconds)
                return
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            while (left := end - loop.time()) > 0:
                await asyncio.sleep(min(left, LEFT_CHECK))
                if request.transport is None or request.transport.is_closing():
                    return  # the answer goes nowhere: aiohttp drops it quietly
        finally:
            self._pausing.discard(task)

    async def __aenter__(self) -> MockServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def _validated(stubs: list[Stub | Mapping[str, Any]], *, many: bool) -> list[Stub]:
    """The stubs as models, or :class:`StubError` with every problem of every one."""
    from pydantic import ValidationError

    models: list[Stub] = []
    problems: list[Problem] = []
    for index, stub in enumerate(stubs):
        if isinstance(stub, Stub):
            models.append(stub)
            continue
        try:
            models.append(Stub.model_validate(stub))
        except ValidationError as exc:
            prefix: tuple[str | int, ...] = ("stubs", index) if many else ()
            problems += [
                Problem("", shown_path((*prefix, *loc)), message)
                for loc, message in explain(exc, Stub)
            ]
    if problems:
        raise StubError(problems)
    return models


def _turned_away(request: web.BaseRequest) -> web.Response:
    """The 503 to a request that comes while the server drains (on a kept-alive
    connection: nothing new is accepted), its connection then closed; an admin call
    gets it as the admin API's other errors, ``application/problem+json``."""
    detail = (
        "the mock server is shutting down: requests in flight may finish, new ones are not served"
    )
    if request.path.startswith(ADMIN_PREFIX):
        from .admin import problem

        response = problem(503, "Server stopping", detail)
    else:
        response = web.Response(status=503, text=detail)
    response.force_close()
    return response
