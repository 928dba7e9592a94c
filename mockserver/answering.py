"""How the mock server answers a stub request: read the body, journal the request,
find its stub (or a fake CRM, or the near-miss 404), and send the answer.

:class:`Responder` is the request path of :class:`~mockserver.server.MockServer`,
kept apart from its programming API (stubs, journal queries, verification) and its
life cycle (start, drain, stop). It is a mixin: the hot path reads the server's
attributes directly, one lookup per use, as it did when it lived in the class.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from .bodies import BodyRead, body_at_hand, read_body
from .codings import coding_problem
from .journal import Journal, RecordedRequest, escape_text, origin_form
from .models import CONNECTION_FAULTS, ResponseDef
from .pipelining import answer_in_http_1_1, refused_reason, refused_status
from .responding import RenderedTooLarge, send_fault
from .stubs import StubRegistry

if TYPE_CHECKING:
    from .crm.base import CrmProfile

__all__ = ["MAX_BODY", "Answering", "ConnectionLog", "Responder"]

MAX_BODY = 64 * 1024 * 1024  # a request body over this is journaled without it (413)
_MAX_ERRORS = 100  # errors kept for check(); more are counted

#: A response, or a coroutine giving one (a request that has to wait).
Answering = web.StreamResponse | Awaitable[web.StreamResponse]
_NOSNIFF = {"X-Content-Type-Options": "nosniff"}
_UTC = timezone.utc
# multidict's own case-insensitive strings: a lookup by one does not lower-case the name
_TRANSFER_ENCODING: str = hdrs.TRANSFER_ENCODING
_CONTENT_ENCODING: str = hdrs.CONTENT_ENCODING


def framing_problem(version: tuple[int, int], values: list[str]) -> tuple[int, str] | None:
    """The status and note for a request whose ``Transfer-Encoding`` the server must not
    take at its word (RFC 9112 §6.1), or ``None``.

    aiohttp reads any list that ends in ``chunked`` as chunked and ignores the rest:
    ``gzip, chunked`` was answered with the body still gzip-coded, and an HTTP/1.0
    request (which has no transfer codings) was read chunked, a framing a proxy in
    front may have read otherwise (request smuggling).
    """
    if version < (1, 1):
        return 400, (
            "Transfer-Encoding in an HTTP/1.0 request: its framing is faulty "
            "(RFC 9112 §6.1), so the request is refused and the connection closed"
        )
    codings = [token.strip().lower() for value in values for token in value.split(",")]
    others = [coding for coding in codings if coding and coding != "chunked"]
    if others:
        return 501, (
            f"Transfer-Encoding {', '.join(others)!r}: the mock server reads chunked "
            "alone, no other transfer coding (RFC 9112 §6.1: 501 Not Implemented)"
        )
    return None


class Responder:
    """The answering half of the mock server (mixed into ``MockServer``)."""

    if TYPE_CHECKING:  # what the server that mixes this in provides
        registry: StubRegistry
        journal: Journal
        profiles: list[CrmProfile]
        errors: list[str]
        _errors_more: int
        log: Callable[[str], None] | None
        body_timeout: float

        async def pause(self, seconds: float, request: web.BaseRequest | None = None) -> None: ...

        def unmatched_report(self, request: RecordedRequest) -> str: ...

    async def read_body(self, request: web.BaseRequest) -> BodyRead:
        """The request's body within the server's size limit and body timeout."""
        return await read_body(request, limit=MAX_BODY, idle_timeout=self.body_timeout)

    def _handle(self, request: web.BaseRequest) -> Answering:
        """The answer to a stub request, or, when it must wait (a body still coming, a
        delay, a fault, a fake CRM), a coroutine giving it.

        Most requests need no wait, and are answered in plain calls: two coroutines
        fewer per request than awaiting each step (docs/performance.md).
        """
        # Most bodies came with their headers: take them without a coroutine's cost.
        read = body_at_hand(request, limit=MAX_BODY)
        if read is None:
            return self._handle_read(request)
        return self._respond(request, read)

    async def _handle_read(self, request: web.BaseRequest) -> web.StreamResponse:
        answer = self._respond(request, await self.read_body(request))
        # Response first: StreamResponse is a MutableMapping, and an ABC's isinstance
        # is a Python call (about 0.3 µs a request).
        if type(answer) is web.Response or isinstance(answer, web.StreamResponse):
            return answer
        return await answer

    def _respond(self, request: web.BaseRequest, read: BodyRead) -> Answering:
        record = self._received(request, read.body)
        # The parsed views of a large body go once it is answered; the journal keeps bytes.
        try:
            answer = self._answer(request, record, read)
        except BaseException:
            record.forget_views()
            raise
        if type(answer) is web.Response or isinstance(answer, web.StreamResponse):
            if record.body and not record.views_size:  # forget_views' own test, inline
                record.forget_views()
            return answer
        return self._forgetting(answer, record)

    def _received(self, request: web.BaseRequest, body: bytes) -> RecordedRequest:
        """The journal's entry for ``request``, numbered now."""
        target = request.raw_path
        if "#" in target:  # a fragment (no client sends one) is no part of path or query
            target = target.partition("#")[0]
        raw_path, _, query = target.partition("?")
        if raw_path[:1] != "/" and "://" in raw_path:
            raw_path = origin_form(raw_path)
        return RecordedRequest.received(
            self.journal.next_seq(),
            request.method,
            unquote(raw_path, errors="surrogateescape") if "%" in raw_path else raw_path,
            query,
            request.headers.items(),
            body,
            datetime.now(_UTC),
        )

    @staticmethod
    async def _forgetting(
        answer: Awaitable[web.StreamResponse], record: RecordedRequest
    ) -> web.StreamResponse:
        try:
            return await answer
        finally:
            record.forget_views()

    def _answer(
        self, request: web.BaseRequest, record: RecordedRequest, read: BodyRead
    ) -> Answering:
        if not read.complete:
            record.note = read.note
            record.status = read.status
            record.incomplete = read.status != 413
            self.journal.add(record)
            self._log(record)
            # When the client is gone (no status) the answer goes nowhere; aiohttp drops it.
            response = web.Response(status=read.status or 400, text=read.note or "")
            response.force_close()  # the rest of the body was never read
            return response
        request_headers = request.headers
        if _TRANSFER_ENCODING in request_headers and (
            refusal := framing_problem(request.version, request_headers.getall(_TRANSFER_ENCODING))
        ):
            record.status, record.note = refusal
            self.journal.add(record)
            self._log(record)
            response = web.Response(status=refusal[0], text=refusal[1], headers=_NOSNIFF)
            response.force_close()  # framing the server cannot vouch for: no next request
            return response
        if _CONTENT_ENCODING in request_headers and (
            problem := coding_problem(request_headers.getall(_CONTENT_ENCODING))
        ):
            record.status = 415
            record.note = problem
            self.journal.add(record)
            self._log(record)
            return web.Response(status=415, text=problem, headers=_NOSNIFF)
        answer = self.registry.answer(record)
        if answer is None:
            for profile in self.profiles:
                if profile.claims(record):
                    # Journaled as it comes, numbered in turn with every other request
                    # (a stub's delay waits after it too); the status when the CRM answers.
                    record.stub_id = f"crm:{profile.name}"
                    record.answering = True  # the dashboard's "in progress" (ui/feed.py)
                    kept = self.journal.add(record)
                    resets = self.journal.resets
                    return self._profile_answer(profile, record, kept, request, resets)
            record.status = 404
            self.journal.add(record)
            self._log(record)
            report = self.unmatched_report(record)
            return web.Response(
                status=404,
                body=report.encode("utf-8", "backslashreplace"),
                content_type="text/plain",
                charset="utf-8",
                headers=_NOSNIFF,  # the report quotes the request: never read as markup
            )
        record.stub_id = answer.entry.stub.id
        record.path_params = answer.path_params
        if answer.response is None:
            return self._failed(record, "Stub responses ran out", answer.note or "")
        definition = answer.response
        prepared = answer.entry.prepared[answer.index]
        content, headers = prepared.body, prepared.headers
        if prepared.templated:
            stub_id = answer.entry.stub.id or ""
            context = {
                "request": record.template_context(),
                "stub": {"id": stub_id, "calls": answer.entry.calls},
            }
            try:
                content, headers = prepared.render(context, record.size + len(stub_id))
            except RenderedTooLarge as exc:
                return self._failed(
                    record, "Response too large", f"{answer.entry.stub.label()}: {exc}"
                )
        fault = definition.fault
        record.fault = fault.type.value if fault else None
        # A fault on the connection sends no status line at all.
        record.status = None if fault and fault.type in CONNECTION_FAULTS else definition.status
        self.journal.add(record)
        if self.log is not None:
            self._log(record)
        if definition.delay_ms or fault is not None:
            return self._later(request, definition, content, headers, record.seq)
        return web.Response(status=definition.status, body=content, headers=headers)

    def unsupported_version(self, request: web.BaseRequest) -> web.Response:
        """The 505 to a request in a version other than HTTP/1.0 and HTTP/1.1 (aiohttp's
        parser takes ``HTTP/2.0`` in text framing, and ``HTTP/0.9``, a request line with
        no version), journaled with its method, path and headers, unread body: answered
        in HTTP/1.1 and the connection closed."""
        major, minor = request.version
        record = self._received(request, b"")
        record.status = 505
        record.note = (
            f"HTTP/{major}.{minor}: the mock server speaks HTTP/1.1 and HTTP/1.0 alone "
            "(RFC 9110 §15.6.6: 505 HTTP Version Not Supported); the body was not read "
            "and the connection is closed"
        )
        self.journal.add(record)
        self._log(record)
        answer_in_http_1_1(request)
        response = web.Response(status=505, text=record.note, headers=_NOSNIFF)
        response.force_close()  # its framing is not HTTP/1.1's to read on from
        return response

    def _failed(self, record: RecordedRequest, title: str, note: str) -> web.Response:
        """A stub that cannot answer (its sequence ran out, its templates render too
        much): a 500 saying why, journaled with the note and kept for ``check()``."""
        record.status = 500
        record.note = note
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(note)
        else:  # a sender retrying an exhausted stub without end: counted, not kept
            self._errors_more += 1
        self.journal.add(record)
        self._log(record)
        return web.json_response(
            {"type": "about:blank", "title": title, "status": 500, "detail": note},
            status=500,
            content_type="application/problem+json",
            dumps=lambda value: json.dumps(value, ensure_ascii=True),
        )

    async def _later(
        self,
        request: web.BaseRequest,
        definition: ResponseDef,
        content: bytes | None,
        headers: dict[str, str],
        seq: int,
    ) -> web.StreamResponse:
        """A stub's answer after its delay, or its fault."""
        if definition.delay_ms:
            await self.pause(definition.delay_ms / 1000, request)
        if definition.fault is not None:

            def pause(seconds: float) -> Awaitable[None]:
                return self.pause(seconds, request)  # ends when the client leaves

            return await send_fault(
                request, definition.fault, definition.status, headers, seq, pause
            )
        return web.Response(status=definition.status, body=content, headers=headers)

    async def _profile_answer(
        self,
        profile: CrmProfile,
        record: RecordedRequest,
        kept: RecordedRequest,
        request: web.BaseRequest,
        resets: int,
    ) -> web.StreamResponse:
        """The fake CRM's answer to ``record``, journaled (as ``kept``: a copy when its
        body was cut) before it was asked: its status is set here, when it is known.

        The request was numbered and journaled when it came, so the journal's order is
        its numbers' (the dashboard pages and follows it by number), and a reset while
        the CRM works forgets it with every request before the reset. It was once
        journaled only when answered: after later requests, and after a reset in
        between, into the new journal under a number of the old one. Its log line is
        written when it is answered; after a reset (``resets``: the journal's count when
        it was journaled) the line says the number was forgotten with it, as the new
        journal may give that number to another request.
        """
        status: int | None = None
        try:
            response = await profile.handle(record, request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except Exception:
            status = 500  # what aiohttp answers to it
            raise
        finally:
            record.status = kept.status = status  # None: stopped, or the client left
            record.answering = kept.answering = False
            self._log(record, forgotten=self.journal.resets != resets)

    def _refused(self, exc: HttpProcessingError) -> None:
        """Journal a request that aiohttp's parser refused (400, 414, 431, 505) before any
        handler."""
        lines = (line.strip() for line in refused_reason(exc).splitlines())
        reason = " ".join(line for line in lines if line.strip("^ "))
        record = RecordedRequest(
            seq=self.journal.next_seq(),
            method="-",
            path="-",
            query_string="",
            raw_headers=(),
            body=b"",
            received_at=datetime.now(timezone.utc),
            status=refused_status(exc),
            note=reason or type(exc).__name__,
            refused=True,
        )
        self.journal.add(record)
        self._log(record)

    def _log(self, record: RecordedRequest, *, forgotten: bool = False) -> None:
        """One line per request; nothing from the request can break it (CR, LF and
        escape sequences are written ``\\xNN``). ``forgotten``: a reset came between the
        request's journaling and its answer (a fake CRM's), so the journal no longer
        has its number."""
        if self.log is None:
            return
        if record.refused:
            line = f"#{record.seq} refused by the HTTP parser -> {record.status}: {record.note}"
        else:
            if record.incomplete:
                answered = "INCOMPLETE"
            else:
                answered = f"stub {record.stub_id}" if record.stub_id else "NO MATCH"
            status = record.status if record.status is not None else "no answer"
            fault = f" fault={record.fault}" if record.fault else ""
            line = f"#{record.seq} {record.method} {record.url} -> {status} ({answered}){fault}"
            if forgotten:
                line += ", forgotten by a reset while the CRM worked (not in the journal)"
        self.log(escape_text(line))


class ConnectionLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's connection log for one server. A request its parser refuses (a bad
    request line or header) goes to the journal and the server's log as one line,
    not to the ``aiohttp.server`` logger as a traceback; anything else is logged as
    aiohttp would."""

    def __init__(self, server: Responder) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})
        self.server = server

    def _took(self, exc_info: Any) -> bool:
        exc = exc_info if isinstance(exc_info, BaseException) else None
        if isinstance(exc, HttpProcessingError):
            self.server._refused(exc)
            return True
        # A body that broke (a chunk that is not one) after its request was answered and
        # journaled: aiohttp meets it again reading the rest.
        return isinstance(exc, web.RequestPayloadError)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self._took(kwargs.get("exc_info")):
            super().debug(msg, *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self._took(kwargs.get("exc_info")):
            super().exception(msg, *args, **kwargs)
