"""The admin API's routes for the fake CRMs: ``/__admin/crm/{name}/...``.

Inspect and reset a profile, add faults, issue and revoke tokens, webhooks and
OAuth integrations, drive its clock and deliver its due webhooks. The answers and
errors are the admin API's (:mod:`mockserver.admin`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .admin import (
    PARAMS,
    Handler,
    json_body,
    problem,
    read_admin_body,
    reply,
    request_model,
    validation_problems,
)
from .models import CRM_URL_WORD, CrmFaultSpec, Flag, Number

if TYPE_CHECKING:
    from .server import MockServer

__all__ = ["crm_routes"]

_Asked = TypeVar("_Asked", bound=BaseModel)
#: ``mockserver.crm.bitrix24.oauth``'s ``SCOPE_WORD`` and ``MAX_SCOPES``, written again
#: rather than imported: a server without CRMs loads no CRM code (a test keeps them equal).
SCOPE_WORD = r"^[A-Za-z0-9_.\-]{1,64}$"
MAX_SCOPES = 64


class _TokenRequest(BaseModel):
    """``POST /__admin/crm/{name}/tokens``: a token for an integration (amoCRM)."""

    model_config = ConfigDict(extra="forbid")

    integration: str = Field(default="admin", min_length=1, max_length=256)


class _ClockRequest(BaseModel):
    """``POST /__admin/crm/{name}/clock``: freeze, move or thaw a fake CRM's clock."""

    model_config = ConfigDict(extra="forbid")

    freeze: Flag = False
    # Text, read by the handler: a ``datetime`` field would be built against freezegun's
    # FakeDatetime when this module is first imported under a frozen clock.
    at: str | None = None
    advance: Number = Field(default=0.0, ge=0)
    thaw: Flag = False

    @field_validator("at")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(
                    f"expected an ISO 8601 time (2026-01-01T09:00:00+00:00), got {value!r}"
                ) from None
        return value


class _WebhookRequest(BaseModel):
    """``POST /__admin/crm/{name}/webhooks``: an inbound webhook for a user (Bitrix24)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    # Part of the webhook's URL (/rest/{user_id}/{secret}/), as the portal checks it.
    user_id: str = Field(default="1", min_length=1, max_length=64, pattern=CRM_URL_WORD.pattern)
    scope: list[Annotated[str, Field(pattern=SCOPE_WORD)]] = Field(
        default_factory=lambda: ["crm"], max_length=MAX_SCOPES
    )


class _IntegrationRequest(BaseModel):
    """``POST /__admin/crm/{name}/integrations``: an OAuth integration (amoCRM)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="admin", min_length=1, max_length=256)
    redirect_uri: str = Field(
        default="https://example.invalid/oauth", pattern=r"^https?://\S+$", max_length=2048
    )


def crm_routes(server: MockServer) -> list[tuple[str, str, Handler]]:
    """The CRM routes of ``server``'s admin API: (method, path, handler)."""

    async def list_crm(request: web.BaseRequest) -> web.Response:
        return reply({"profiles": [profile.to_json() for profile in server.profiles]})

    def _profile(request: web.BaseRequest) -> Any:
        try:
            return server.profile(PARAMS.get()["name"])
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
        return reply(_profile(request).to_json())

    async def reset_crm(request: web.BaseRequest) -> web.Response:
        _profile(request).reset()
        return web.Response(status=204)

    async def add_crm_fault(request: web.BaseRequest) -> web.Response:
        from .crm import CrmFault

        profile = _profile(request)
        data = json_body(await read_admin_body(request))
        try:
            spec = CrmFaultSpec.model_validate(data)
        except ValidationError as exc:
            errors = validation_problems(exc, model=CrmFaultSpec)
            return problem(400, "Invalid fault", f"{len(errors)} problem(s)", errors)
        try:
            fault = profile.add_fault(CrmFault(**spec.model_dump()))
        except ValueError as exc:
            return problem(400, "Too many faults", str(exc))
        return reply({"method": fault.method, "kind": fault.kind, "call": fault.call}, status=201)

    def issuer(
        needs: str,
        lacks: tuple[str, str],
        model: type[_Asked],
        titles: tuple[str, str],
        act: Callable[[Any, _Asked, web.BaseRequest], web.Response],
    ) -> Handler:
        """``POST``: ``act(profile, asked, request)`` for a profile that has ``needs``, the
        body read as ``model``; else 404 ``lacks`` (title, what the profile has not). A body
        ``model`` refuses is 400 ``titles[0]``; a bound ``act`` reaches (its ``ValueError``)
        400 ``titles[1]``."""

        async def handler(request: web.BaseRequest) -> web.Response:
            profile = _profile(request)
            if not hasattr(profile, needs):
                return problem(404, lacks[0], f"{profile.name} {lacks[1]}")
            asked = await request_model(request, model, titles[0])
            if isinstance(asked, web.Response):
                return asked
            try:
                return act(profile, asked, request)
            except ValueError as exc:
                return problem(400, titles[1], str(exc))

        return handler

    def _token(profile: Any, asked: _TokenRequest, request: web.BaseRequest) -> web.Response:
        token = profile.issue_token(asked.integration)
        return reply({"token": token, "integration": asked.integration}, status=201)

    def _webhook(profile: Any, asked: _WebhookRequest, request: web.BaseRequest) -> web.Response:
        path = profile.issue_webhook(asked.user_id, tuple(asked.scope))
        return reply({"path": path, "url": f"{request.url.origin()}{path}"}, status=201)

    def _app_tokens(profile: Any, asked: _WebhookRequest, request: web.BaseRequest) -> web.Response:
        origin = str(request.url.origin())
        issued = profile.issue_app_tokens(asked.user_id, tuple(asked.scope), origin)
        return reply(issued, status=201)

    def _integration(
        profile: Any, asked: _IntegrationRequest, request: web.BaseRequest
    ) -> web.Response:
        app = profile.add_integration(asked.name, redirect_uri=asked.redirect_uri)
        return reply({**vars(app), "code": profile.authorization_code(app.client_id)}, status=201)

    issue_token = issuer(
        "issue_token",
        ("No tokens here", "has no tokens"),
        _TokenRequest,
        ("Invalid token request", "Too many tokens"),
        _token,
    )
    issue_webhook = issuer(
        "issue_webhook",
        ("No webhooks here", "has no webhooks"),
        _WebhookRequest,
        ("Invalid webhook request", "Too many webhooks"),
        _webhook,
    )
    issue_app_tokens = issuer(
        "issue_app_tokens",
        ("No applications here", "has no OAuth application"),
        _WebhookRequest,
        ("Invalid token request", "Too many tokens"),
        _app_tokens,
    )
    add_integration = issuer(
        "add_integration",
        ("No OAuth here", "has no OAuth integrations"),
        _IntegrationRequest,
        ("Invalid integration request", "Too many integrations"),
        _integration,
    )

    def revoker(revoke: str, store: str, param: str, thing: str) -> Handler:
        """``DELETE``: the profile's ``revoke(key)`` for a key its ``store`` holds; 404 else."""

        async def handler(request: web.BaseRequest) -> web.Response:
            profile = _profile(request)
            key = PARAMS.get()[param]
            if not hasattr(profile, revoke) or key not in getattr(profile, store, {}):
                return problem(404, f"No such {thing}", f"the {thing} is not known")
            getattr(profile, revoke)(key)
            return web.Response(status=204)

        return handler

    revoke_token = revoker("revoke_token", "tokens", "token", "token")
    revoke_webhook = revoker("revoke_webhook", "webhooks", "secret", "webhook")

    async def crm_clock(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if request.method == "POST":
            asked = await request_model(request, _ClockRequest, "Invalid clock request")
            if isinstance(asked, web.Response):
                return asked
            clock = profile.clock
            was = (clock.frozen, clock.offset)
            try:
                if asked.thaw:
                    clock.thaw()
                if asked.freeze or asked.at is not None:
                    at = None if asked.at is None else datetime.fromisoformat(asked.at)
                    clock.freeze(at)
                clock.advance(asked.advance)
            except ValueError as exc:  # all of it or none: the clock is as it was
                clock.frozen, clock.offset = was
                return problem(400, "Invalid clock request", str(exc))
            except OverflowError:  # past year 9999: no date to be at; the clock stays put
                clock.frozen, clock.offset = was
                return problem(
                    400,
                    "Invalid clock request",
                    f"advance: {asked.advance:g} s would take the clock past any date (year 9999)",
                )
        return reply(profile.clock.to_json())

    async def unblock(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if hasattr(profile, "unblock"):
            profile.unblock()
        return web.Response(status=204)

    async def authorization_code(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        client_id = PARAMS.get()["client_id"]
        if not hasattr(profile, "authorization_code"):
            return problem(404, "No OAuth here", f"{profile.name} has no OAuth integrations")
        try:
            return reply({"code": profile.authorization_code(client_id)}, status=201)
        except KeyError:
            return problem(404, "No such integration", f"no integration {client_id!r}")

    async def deliver_due(request: web.BaseRequest) -> web.Response:
        profile = _profile(request)
        if not hasattr(profile, "deliver_due"):
            return problem(404, "No webhooks here", f"{profile.name} sends no webhooks")
        return reply({"sent": await profile.deliver_due(), "waiting": profile.waiting})

    return [
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
        ("POST", "/__admin/crm/{name}/integrations", add_integration),
        ("POST", "/__admin/crm/{name}/integrations/{client_id}/codes", authorization_code),
        ("POST", "/__admin/crm/{name}/deliveries", deliver_due),
    ]
