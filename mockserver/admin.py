"""The admin HTTP API under ``/__admin/``: JSON in and out, with the same models as Python.

Errors are ``application/problem+json`` (RFC 9457) with ``errors``: one
``{field, message}`` per problem. Admin requests are never journaled.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .models import CrmFaultSpec, RequestPattern, Stub
from .validation import explain

if TYPE_CHECKING:
    from .server import MockServer

__all__ = ["AdminRouter", "admin_router", "problem", "validation_problems"]


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
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/problem+json",
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


async def _json_body(request: web.BaseRequest) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        detail = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    except UnicodeDecodeError as exc:
        detail = f"byte {exc.start}: not UTF-8"
    except RecursionError:
        detail = "the JSON nests too deeply to read"
    body = {"type": "about:blank", "title": "Body is not JSON", "status": 400, "detail": detail}
    raise web.HTTPBadRequest(text=json.dumps(body), content_type="application/problem+json")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _reply(data: Any, *, status: int = 200) -> web.Response:
    """A JSON answer, UTF-8 as written (an operator reads Анна, not \\u0410\\u043d...)."""
    return web.json_response(data, status=status, dumps=_dumps)


def _dump_stub(stub: Stub) -> dict[str, Any]:
    return stub.model_dump(mode="json", by_alias=True, exclude_unset=True) | {"id": stub.id}


# The path parameters of the admin call being answered (set per call, in its own task).
_PARAMS: ContextVar[dict[str, str]] = ContextVar("mockserver_admin_params")
M = TypeVar("M", bound=BaseModel)


class _StateRequest(BaseModel):
    """``PUT /__admin/state``: put a stub scenario (or one key of it) in a state."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1)
    state: str = Field(min_length=1)
    key: str = ""


class _TokenRequest(BaseModel):
    """``POST /__admin/crm/{name}/tokens``: a token for an integration (amoCRM)."""

    model_config = ConfigDict(extra="forbid")

    integration: str = Field(default="admin", min_length=1)


class _ClockRequest(BaseModel):
    """``POST /__admin/crm/{name}/clock``: freeze, move or thaw a fake CRM's clock."""

    model_config = ConfigDict(extra="forbid")

    freeze: bool = False
    at: datetime | None = None
    advance: float = Field(default=0.0, ge=0)
    thaw: bool = False


class _WebhookRequest(BaseModel):
    """``POST /__admin/crm/{name}/webhooks``: an inbound webhook for a user (Bitrix24)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    user_id: str = Field(default="1", min_length=1)
    scope: list[str] = Field(default_factory=lambda: ["crm"])


async def _request_model(request: web.BaseRequest, model: type[M], title: str) -> M | web.Response:
    """An optional JSON body as ``model`` (an empty body takes the defaults), or a 400
    naming every field that is wrong."""
    raw = await request.read()
    data = await _json_body(request) if raw.strip() else {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_problems(exc, model=model)
        return problem(400, title, f"{len(errors)} problem(s)", errors)


_Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class AdminRouter:
    """The admin API's routes: a short table, tried in order.

    The server answers stub traffic from a low-level aiohttp server, without an
    application's router in the way; requests under ``/__admin/`` come here.
    Captured path parameters reach the handlers through a context variable.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], _Handler]] = []

    def add(self, method: str, path: str, handler: _Handler) -> None:
        parts = re.split(r"(\{\w+\})", path)
        source = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in parts
        )
        self._routes.append((method, re.compile(source), handler))

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
            _PARAMS.set(found.groupdict())
            return await handler(request)
        if allowed:
            methods = ", ".join(sorted(set(allowed)))
            response = problem(405, "Method not allowed", f"{path} takes {methods}")
            response.headers["Allow"] = methods
            return response
        return problem(404, "No such admin endpoint", f"{request.method} {path}")


def admin_router(server: MockServer) -> AdminRouter:
    """The admin API of ``server``."""

    async def list_stubs(request: web.BaseRequest) -> web.Response:
        stubs = [
            _dump_stub(entry.stub) | {"calls": entry.calls} for entry in server.registry.entries()
        ]
        return _reply({"stubs": stubs})

    async def add_stubs(request: web.BaseRequest) -> web.Response:
        data = await _json_body(request)
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
        models: list[Stub] = []
        errors: list[dict[str, str]] = []
        for index, item in enumerate(items):
            prefix = f"stubs[{index}]" if len(items) > 1 or listed else ""
            try:
                models.append(Stub.model_validate(item))
            except ValidationError as exc:
                errors += validation_problems(exc, prefix, Stub)
        if errors:
            return problem(400, "Invalid stub", f"{len(errors)} problem(s)", errors)
        added = [server.add(model) for model in models]
        if len(added) == 1 and not listed:
            return _reply(_dump_stub(added[0]), status=201)
        return _reply({"stubs": [_dump_stub(stub) for stub in added]}, status=201)

    async def delete_stub(request: web.BaseRequest) -> web.Response:
        stub_id = _PARAMS.get()["id"]
        if not server.remove(stub_id):
            return problem(404, "No such stub", f"no stub has id {stub_id!r}")
        return web.Response(status=204)

    async def delete_stubs(request: web.BaseRequest) -> web.Response:
        for entry in server.registry.entries():
            server.remove(entry.stub.id or "")
        return web.Response(status=204)

    async def list_requests(request: web.BaseRequest) -> web.Response:
        entries = server.journal.entries()
        query = request.query
        if "method" in query:
            entries = [e for e in entries if e.method == query["method"].upper()]
        if "path" in query:
            entries = [e for e in entries if e.path == query["path"]]
        errors = []
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
            if not text.isdigit():
                expected = "a whole number of requests, 0 or more"
                errors.append({"field": "limit", "message": f"{expected}; got {text!r}"})
            else:
                limit = int(text)
                entries = entries[-limit:] if limit > 0 else []
        if errors:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            return problem(400, "Invalid query", detail, errors)
        return _reply(
            {
                "requests": [entry.to_json() for entry in entries],
                "cap": server.journal.cap,
                "dropped": server.journal.dropped,
            }
        )

    async def find_requests(request: web.BaseRequest) -> web.Response:
        data = await _json_body(request)
        try:
            pattern = RequestPattern.model_validate(data)
        except ValidationError as exc:
            errors = validation_problems(exc, model=RequestPattern)
            return problem(400, "Invalid request pattern", "see errors", errors)
        found = server.find(pattern)
        return _reply({"count": len(found), "requests": [entry.to_json() for entry in found]})

    async def clear_requests(request: web.BaseRequest) -> web.Response:
        server.reset_requests()
        return web.Response(status=204)

    async def near_misses(request: web.BaseRequest) -> web.Response:
        out = []
        for entry in server.journal.unmatched():
            misses = server.near_misses(entry)
            out.append(
                {"request": entry.to_json(), "near_misses": [miss.to_json() for miss in misses]}
            )
        return _reply({"unmatched": out})

    async def get_state(request: web.BaseRequest) -> web.Response:
        states = [
            {"scenario": scenario, "key": key, "state": state}
            for (scenario, key), state in sorted(server.registry.states.items())
        ]
        return _reply({"states": states})

    async def put_state(request: web.BaseRequest) -> web.Response:
        asked = await _request_model(request, _StateRequest, "Invalid state")
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
        return _reply(
            {"status": "ok", "stubs": len(server.registry), "requests": len(server.journal)}
        )

    async def list_crm(request: web.BaseRequest) -> web.Response:
        return _reply({"profiles": [profile.to_json() for profile in server.profiles]})

    def _profile(request: web.BaseRequest) -> Any:
        try:
            return server.profile(_PARAMS.get()["name"])
        except KeyError as exc:
            raise web.HTTPNotFound(
                text=json.dumps(
                    {
                        "type": "about:blank",
                        "title": "No such CRM profile",
                        "status": 404,
                        "detail": str(exc.args[0]),
                    }
                ),
                content_type="application/problem+json",
            ) from None

    async def get_crm(request: web.BaseRequest) -> web.Response:
        return _reply(_profile(request).to_json())

    async def reset_crm(request: web.BaseRequest) -> web.Response:
        _profile(request).reset()
        return web.Response(status=204)

    async def add_crm_fault(request: web.BaseRequest) -> web.Response:
        from .crm import CrmFault

        profile = _profile(request)
        data = await _json_body(request)
        try:
            spec = CrmFaultSpec.model_validate(data)
        except ValidationError as exc:
            errors = validation_problems(exc, model=CrmFaultSpec)
            return problem(400, "Invalid fault", f"{len(errors)} problem(s)", errors)
        fault = profile.add_fault(CrmFault(**spec.model_dump()))
        return _reply({"method": fault.method, "kind": fault.kind, "call": fault.call}, status=201)

    async def issue_token(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if not hasattr(profile, "issue_token"):
            return problem(404, "No tokens here", f"{profile.name} has no tokens")
        asked = await _request_model(request, _TokenRequest, "Invalid token request")
        if isinstance(asked, web.Response):
            return asked
        integration = asked.integration
        return _reply(
            {"token": profile.issue_token(integration), "integration": integration}, status=201
        )

    async def revoke_token(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        token = _PARAMS.get()["token"]
        if not hasattr(profile, "revoke_token") or token not in getattr(profile, "tokens", {}):
            return problem(404, "No such token", "the token is not known")
        profile.revoke_token(token)
        return web.Response(status=204)

    async def issue_webhook(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if not hasattr(profile, "issue_webhook"):
            return problem(404, "No webhooks here", f"{profile.name} has no webhooks")
        asked = await _request_model(request, _WebhookRequest, "Invalid webhook request")
        if isinstance(asked, web.Response):
            return asked
        path = profile.issue_webhook(asked.user_id, tuple(asked.scope))
        return _reply({"path": path, "url": f"{request.url.origin()}{path}"}, status=201)

    async def revoke_webhook(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        secret = _PARAMS.get()["secret"]
        if not hasattr(profile, "revoke_webhook") or secret not in getattr(profile, "webhooks", {}):
            return problem(404, "No such webhook", "the webhook is not known")
        profile.revoke_webhook(secret)
        return web.Response(status=204)

    async def issue_app_tokens(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if not hasattr(profile, "issue_app_tokens"):
            return problem(404, "No applications here", f"{profile.name} has no OAuth application")
        asked = await _request_model(request, _WebhookRequest, "Invalid token request")
        if isinstance(asked, web.Response):
            return asked
        issued = profile.issue_app_tokens(
            asked.user_id, tuple(asked.scope), str(request.url.origin())
        )
        return _reply(issued, status=201)

    async def crm_clock(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if request.method == "POST":
            asked = await _request_model(request, _ClockRequest, "Invalid clock request")
            if isinstance(asked, web.Response):
                return asked
            try:
                if asked.thaw:
                    profile.clock.thaw()
                if asked.freeze or asked.at is not None:
                    profile.clock.freeze(asked.at)
                profile.clock.advance(asked.advance)
            except ValueError as exc:
                return problem(400, "Invalid clock request", str(exc))
        return _reply(profile.clock.to_json())

    async def unblock(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if hasattr(profile, "unblock"):
            profile.unblock()
        return web.Response(status=204)

    router = AdminRouter()
    for method, path, handler in (
        ("GET", "/__admin/stubs", list_stubs),
        ("POST", "/__admin/stubs", add_stubs),
        ("DELETE", "/__admin/stubs", delete_stubs),
        ("DELETE", "/__admin/stubs/{id}", delete_stub),
        ("GET", "/__admin/requests", list_requests),
        ("DELETE", "/__admin/requests", clear_requests),
        ("POST", "/__admin/requests/find", find_requests),
        ("GET", "/__admin/near-misses", near_misses),
        ("GET", "/__admin/state", get_state),
        ("PUT", "/__admin/state", put_state),
        ("DELETE", "/__admin/state", clear_state),
        ("POST", "/__admin/reset", reset),
        ("GET", "/__admin/health", health),
        ("GET", "/__admin/crm", list_crm),
        ("GET", "/__admin/crm/{name}", get_crm),
        ("DELETE", "/__admin/crm/{name}", reset_crm),
        ("POST", "/__admin/crm/{name}/faults", add_crm_fault),
        ("POST", "/__admin/crm/{name}/tokens", issue_token),
        ("DELETE", "/__admin/crm/{name}/tokens/{token}", revoke_token),
        ("POST", "/__admin/crm/{name}/unblock", unblock),
        ("GET", "/__admin/crm/{name}/clock", crm_clock),
        ("POST", "/__admin/crm/{name}/oauth", issue_app_tokens),
        ("POST", "/__admin/crm/{name}/clock", crm_clock),
        ("POST", "/__admin/crm/{name}/webhooks", issue_webhook),
        ("DELETE", "/__admin/crm/{name}/webhooks/{secret}", revoke_webhook),
    ):
        router.add(method, path, handler)
    return router
