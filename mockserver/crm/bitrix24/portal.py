"""The fake portal's front door: ``/rest/{user_id}/{secret}/{method}[.json|.xml]`` (an inbound
webhook), ``/rest/{method}?auth=TOKEN`` (an application's OAuth token) and the
authorization server's ``/oauth/token/``. A second portal on the same server is named
(``Bitrix24(portal="b")``) and answers the same under ``/bitrix24/b/``.

It answers in the ``{"result", "time"}`` envelope with ``total``/``next`` paging by 50,
takes parameters in all four encodings (GET query, form and multipart with PHP bracket
names, JSON), and fails like the real thing: ``{"error", "error_description"}`` with the
documented statuses (each overridable) and the leaky-bucket rate limit (50 then 2 per
second; enterprise 250 then 5) on the server's clock, which tests drive.

A method called with ``.xml`` answers the same in XML (:mod:`.xmlanswer`).

Not emulated: the "operating" time limit.
"""

from __future__ import annotations

import contextvars
import email.parser
import email.policy
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from aiohttp import web

from mockserver.crm.base import CrmProfile
from mockserver.crm.store import StoreFull
from mockserver.forms import parse_php_form
from mockserver.models import (
    CRM_SUBDOMAIN,
    CRM_SUBDOMAIN_TEXT,
    CRM_URL_WORD,
    CRM_URL_WORD_TEXT,
)

from . import system
from .batch import run_batch, run_batch_json
from .events import Events
from .items import OPS as _ITEM_OPS
from .items import item_call, item_entity
from .oauth import OAuthError, Tokens, app_info, checked_scope
from .records import Records
from .schema import ENTITIES, PLANS, STATUSES, BitrixError, text, whole_number
from .xmlanswer import to_xml, wants_xml

if TYPE_CHECKING:
    from mockserver.journal import RecordedRequest

__all__ = ["Bitrix24"]

#: The scopes this fake portal has methods of (``scope`` with ``full``).
_SCOPES: Final = ("crm", "user")
#: The calling webhook's or token's scopes, for the request being answered.
_CALLER_SCOPES: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "bitrix24_caller_scopes", default=("crm",)
)
#: That caller's user id (``profile``, ``user.current``).
_CALLER_USER: contextvars.ContextVar[str] = contextvars.ContextVar("bitrix24_caller_user")
#: Whether that caller is an application (an OAuth token) rather than a webhook.
_CALLER_IS_APP: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "bitrix24_caller_is_app", default=False
)
_ENTITY_OPS: Final = ("add", "get", "list", "update", "delete", "fields")
_USERFIELD_OPS: Final = ("add", "get", "list", "update", "delete")
METHODS: Final = frozenset(
    {f"crm.{entity}.{op}" for entity in ENTITIES for op in _ENTITY_OPS}
    | {f"crm.{entity}.userfield.{op}" for entity in ENTITIES for op in _USERFIELD_OPS}
    | {f"crm.item.{op}" for op in _ITEM_OPS}
    | {f"crm.timeline.comment.{op}" for op in ("add", "get", "list", "delete")}
    | {"crm.duplicate.findbycomm", "batch", "event.bind", "event.get", "event.unbind", "scope"}
    | {"app.info"}
    | system.METHODS
)
#: Inbound webhooks a portal keeps (the first, its own, among them).
MAX_WEBHOOKS: Final = 1000
_NO_SCOPE: Final = frozenset(
    {"batch", "scope", "app.info", "event.bind", "event.get", "event.unbind"} | system.NO_SCOPE
)


def _in_scope(method: str) -> bool:
    """Whether the caller's scopes (the request's) let it call ``method``."""
    needed = system.SCOPES.get(method, {method.split(".")[0]})
    return method in _NO_SCOPE or not needed.isdisjoint(_CALLER_SCOPES.get())


def _access_error(method: str) -> BitrixError | None:
    """Why the caller (the request's scopes and kind of authorization) may not call
    ``method``, or ``None``: the same for the address's method and a batch command."""
    via_token = _CALLER_IS_APP.get()
    if not _in_scope(method):
        holder = "access token" if via_token else "webhook token"
        return BitrixError(
            "insufficient_scope",
            f"The request requires higher privileges than provided by the {holder}",
        )
    if method.startswith("event.") and not via_token:  # event-bind.md: applications only
        # `AuthTypeException` extends `AccessException`: 403 (`CRestServer::STATUS_FORBIDDEN`).
        return BitrixError(
            "WRONG_AUTH_TYPE", "Current authorization type is denied for this method"
        )
    return None


class Bitrix24(Records, Events, CrmProfile):
    """The fake portal. ``webhook_path`` is what to append to the server's URL.

    ``portal`` names another portal on the same server: its addresses start with
    ``/bitrix24/{portal}`` (its webhooks, its application's ``/rest/`` and its own
    ``/oauth/token/``), its admin API is ``/__admin/crm/bitrix24:{portal}``, and with
    ``data`` it keeps its own file, ``bitrix24-{portal}.sqlite``.

    ``client_id``/``client_secret`` are its application's (a local application's are
    ``local.…``); :meth:`issue_app_tokens` installs it for a user, as the install
    redirect's code exchange would. ``userfields`` defines custom fields up front
    (``{"lead": {"UF_CRM_SOURCE": "string"}}``), as ``crm.lead.userfield.add`` does.
    ``required`` names each entity's required fields; a contact needs one of ``NAME``,
    ``SECOND_NAME``, ``LAST_NAME`` unless it names the contact's (``{"contact": ()}``:
    none).
    """

    name: str = "bitrix24"
    meta_shapes: ClassVar[Mapping[str, type | tuple[type, ...]]] = {
        "identity": dict,
        "webhooks": dict,
        "events": list,
        "userfields": dict,
        "oauth_access": dict,
        "oauth_refresh": dict,
        "oauth_code": dict,
        "multifield_id": int,
        "userfield_id": int,
        "event_handler_id": int,
        "member_id": str,
        "application_token": str,
    }

    def __init__(
        self,
        *,
        portal: str | None = None,
        user_id: str = "1",
        secret: str | None = None,
        scope: tuple[str, ...] = ("crm",),
        plan: str = "standard",
        statuses: Mapping[str, int] | None = None,
        required: Mapping[str, tuple[str, ...]] | None = None,
        userfields: Mapping[str, Mapping[str, str]] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_lifetime: int = 3600,
        data: str | Path | None = None,
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"plan: got {plan!r}, expected one of {', '.join(PLANS)}")
        if portal is not None and not CRM_SUBDOMAIN.fullmatch(portal):
            raise ValueError(f"portal: got {portal!r}, expected {CRM_SUBDOMAIN_TEXT}")
        for field, value in (("user_id", str(user_id)), ("secret", secret or "x")):
            if not CRM_URL_WORD.fullmatch(value):
                raise ValueError(f"{field}: got {value!r}, expected {CRM_URL_WORD_TEXT}")
        if token_lifetime <= 0:
            raise ValueError(f"token_lifetime: got {token_lifetime!r}, expected seconds > 0")
        self.portal = portal
        #: What every address of this portal starts with: "" for the first portal.
        self.prefix = f"/bitrix24/{portal}" if portal else ""
        self.name = f"bitrix24:{portal}" if portal else "bitrix24"
        super().__init__(data=data)
        # With --data the portal keeps its identity: a restart without --bitrix24-secret
        # serves the webhook URL (and the application's credentials) already configured.
        identity = self.store.meta.get("identity", {})
        self.user_id = str(user_id)
        self.secret = secret or str(identity.get("secret") or "b24" + secrets.token_hex(6))
        self.tokens = Tokens(
            self.store,
            self.clock,
            client_id=client_id
            or str(identity.get("client_id") or "local." + secrets.token_hex(8)),
            client_secret=client_secret
            or str(identity.get("client_secret") or secrets.token_urlsafe(32)),
            lifetime=token_lifetime,
            marker=f"{portal}." if portal else "",
        )
        self.store.set_meta(
            "identity",
            {
                "user_id": self.user_id,
                "secret": self.secret,
                "client_id": self.tokens.client_id,
                "client_secret": self.tokens.client_secret,
            },
        )
        self.scope = tuple(scope)
        stored = self.store.meta.get("webhooks", {})
        #: secret → (user id, scopes): the portal's inbound webhooks.
        self.webhooks: dict[str, tuple[str, tuple[str, ...]]] = {
            key: (str(value[0]), tuple(value[1])) for key, value in stored.items()
        }
        self.webhooks[self.secret] = (self.user_id, self.scope)
        self.plan = plan
        self.capacity, self.drain = PLANS[plan]
        self.statuses = {**STATUSES, **(statuses or {})}
        self.required = {key: tuple(value) for key, value in (required or {}).items()}
        self.contact_named = "contact" not in self.required
        for entity, fields in (userfields or {}).items():
            if entity not in ENTITIES:
                raise ValueError(
                    f"userfields: got {entity!r}, expected one of {', '.join(ENTITIES)}"
                )
            for field_name, kind in fields.items():
                if field_name not in self.userfields(entity):
                    try:
                        self.userfield_call(
                            entity,
                            "add",
                            {"fields": {"FIELD_NAME": field_name, "USER_TYPE_ID": kind}},
                        )
                    except BitrixError as exc:
                        raise ValueError(
                            f"userfields.{entity}.{field_name}: {exc.description}"
                        ) from None
        self.init_events()
        self._level = 0.0
        self._level_at: float | None = None
        self._save_webhooks()

    @property
    def webhook_path(self) -> str:
        return f"{self.prefix}/rest/{self.user_id}/{self.secret}/"

    def issue_webhook(self, user_id: str = "1", scope: tuple[str, ...] = ("crm",)) -> str:
        """A new inbound webhook; returns its path (``/rest/{user_id}/{secret}/``).

        ``ValueError`` for a user id no URL can carry, a scope past 64 names of 64
        characters, or past :data:`MAX_WEBHOOKS`."""
        if not CRM_URL_WORD.fullmatch(str(user_id)):
            raise ValueError(f"user_id: got {user_id!r}, expected {CRM_URL_WORD_TEXT}")
        if len(self.webhooks) >= MAX_WEBHOOKS:
            raise ValueError(
                f"{self.name} keeps at most {MAX_WEBHOOKS} webhooks; revoke one "
                f"(DELETE /__admin/crm/{self.name}/webhooks/{{secret}}) first"
            )
        scope = checked_scope(scope)
        secret = "b24" + secrets.token_hex(6)
        self.webhooks[secret] = (str(user_id), scope)
        self._save_webhooks()
        return f"{self.prefix}/rest/{user_id}/{secret}/"

    def revoke_webhook(self, secret: str) -> None:
        self.webhooks.pop(secret, None)
        self._save_webhooks()

    def issue_app_tokens(
        self, user_id: str = "1", scope: tuple[str, ...] = ("crm",), base_url: str = ""
    ) -> dict[str, Any]:
        """Install the application for a user: the OAuth answer with both tokens."""
        issued = self.tokens.issue(
            str(user_id), tuple(scope), base_url + self.prefix, server=base_url
        )
        self.store.flush()
        return issued

    def issue_token(self, integration: str = "admin") -> str:
        """An access token for the admin API (``POST /__admin/crm/bitrix24/tokens``)."""
        return str(self.issue_app_tokens()["access_token"])

    def issue_code(self, user_id: str = "1", scope: tuple[str, ...] = ("crm",)) -> str:
        """A first authorization code for the ``authorization_code`` grant (30 s)."""
        code = self.tokens.issue_code(str(user_id), tuple(scope))
        self.store.flush()
        return code

    def _save_webhooks(self) -> None:
        self.store.set_meta("webhooks", {k: [v[0], list(v[1])] for k, v in self.webhooks.items()})
        self.store.flush()  # rare (setup, the admin API): committed before the call returns

    def to_json(self) -> dict[str, Any]:
        hooks = [
            {
                "user_id": u,
                "secret": s,
                "scope": list(scope),
                "path": f"{self.prefix}/rest/{u}/{s}/",
            }
            for s, (u, scope) in self.webhooks.items()
        ]
        return {
            **super().to_json(),
            "webhooks": hooks,
            "application": {"client_id": self.tokens.client_id},
            "events": self.bound_events(),
            "deliveries": self.deliveries.last(200),
        }

    def describe(self, base_url: str) -> str:
        return (
            f"webhook URL {base_url}{self.webhook_path} (plan {self.plan}; "
            f"records and calls at {base_url}/__admin/crm/{self.name}); application "
            f"client_id {self.tokens.client_id} client_secret {self.tokens.client_secret} "
            f"(tokens: POST {base_url}/__admin/crm/{self.name}/oauth; refresh at "
            f"{base_url}{self.prefix}/oauth/token/)"
        )

    def reset(self) -> None:
        hooks = dict(self.webhooks)
        super().reset()
        self.store.set_meta(
            "identity",
            {
                "user_id": self.user_id,
                "secret": self.secret,
                "client_id": self.tokens.client_id,
                "client_secret": self.tokens.client_secret,
            },
        )
        self.webhooks = hooks
        self._save_webhooks()
        self._level = 0.0
        self._level_at = None

    # --- the request ---------------------------------------------------------------

    def claims(self, record: RecordedRequest) -> bool:
        path = record.path
        if path.rstrip("/") == "/oauth/token":
            # One authorization server for every portal, as oauth.bitrix.info is: the
            # portal whose refresh token (or code) it is answers.
            try:
                params = self.params(record)
            except BitrixError:
                params = {}
            grant = params.get("refresh_token") or params.get("code")
            return self.tokens.owns(grant if isinstance(grant, str) else "")
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return False
            path = path.removeprefix(self.prefix)
        return path.startswith("/rest/") or path.rstrip("/") == "/oauth/token"

    def _local(self, record: RecordedRequest) -> str:
        """The request's path inside this portal (without its ``/bitrix24/{portal}``)."""
        return record.path.removeprefix(self.prefix)

    def _error(self, code: str, description: str, status: int | None = None) -> web.Response:
        body = {"error": code, "error_description": description}
        return web.json_response(body, status=status or self.statuses.get(code, 400))

    def store_full(self, exc: StoreFull) -> web.StreamResponse:
        """The fake's own store limit (or a failed write), in the portal's error shape."""
        return self._error("ERROR_CORE", str(exc), 507)

    def timing(self) -> dict[str, Any]:
        moment = self.clock.now()
        stamp = moment.timestamp()
        return {
            "start": stamp,
            "finish": stamp,
            "duration": 0.0,
            "processing": 0.0,
            "date_start": moment.isoformat(timespec="seconds"),
            "date_finish": moment.isoformat(timespec="seconds"),
            "operating_reset_at": int(stamp) + 600,
            "operating": 0.0,
        }

    def _envelope(self, result: Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {"result": result, **(extra or {}), "time": self.timing()}

    def _take_token(self) -> bool:
        """Leaky bucket: each request adds one; the level drains ``drain`` per second."""
        moment = self.clock.timestamp()
        if self._level_at is not None:
            # A clock set back drains nothing (and fills nothing): the bucket waits.
            elapsed = max(0.0, moment - self._level_at)
            self._level = max(0.0, self._level - elapsed * self.drain)
        self._level_at = moment
        if self._level + 1 > self.capacity:
            return False
        self._level += 1
        return True

    def call_name(self, record: RecordedRequest) -> str:
        if self._local(record).startswith("/oauth/"):
            return "oauth.token"
        name = record.path.rstrip("/").rsplit("/", 1)[-1]
        return name.lower().removesuffix(".json").removesuffix(".xml")

    def _authorize(
        self, record: RecordedRequest, params: Mapping[str, Any]
    ) -> tuple[str, tuple[str, ...], str] | web.Response:
        """Who calls (user, scopes) and which method, or the error answer."""
        parts = self._local(record).removeprefix("/rest/").rstrip("/").split("/")
        if len(parts) == 1 and parts[0]:
            token = params.get("auth")
            if not isinstance(token, str) or not token:
                return self._error("NO_AUTH_FOUND", "Wrong authorization data")
            checked = self.tokens.check(token)
            if checked == "expired_token":
                return self._error("expired_token", "The access token provided has expired.")
            if isinstance(checked, str):
                return self._error("invalid_token", "The access token provided is invalid.")
            return checked[0], checked[1], parts[0]
        if len(parts) != 3 or not all(parts):
            return self._error("NO_AUTH_FOUND", "Wrong authorization data")
        user_id, secret, method = parts
        hook = self.webhooks.get(secret)
        if hook is None or hook[0] != user_id:
            return self._error(
                "INVALID_CREDENTIALS",
                "No active webhook with the specified user identifier and secret code was found",
            )
        return user_id, hook[1], method

    async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        if self._local(record).startswith("/oauth/"):
            return self._oauth(record, request)
        if record.method == "OPTIONS":
            # `CRestEventHandlers::OnBeforeProlog` (the rest module's include.php): an
            # OPTIONS under /rest/ gets the CORS headers and an empty 200, and no method
            # runs (a browser's preflight must not create the lead it asks about).
            return web.Response(status=200, headers=_REST_HEADERS)
        response = await self._answer(record, request)
        if wants_xml(record.path) and isinstance(response, web.Response):
            response = _as_xml(response)
        if response.content_type in ("application/json", "text/xml"):
            response.headers.update(_REST_HEADERS)  # `CRestUtil::sendHeaders`, every answer
        return response

    async def _answer(
        self, record: RecordedRequest, request: web.BaseRequest
    ) -> web.StreamResponse:
        try:
            params = self.params(record)
        except BitrixError as exc:
            return self._error(exc.code, exc.description)
        who = self._authorize(record, params)
        if isinstance(who, web.Response):
            return who
        user, scopes, method = who
        _CALLER_USER.set(user)
        _CALLER_SCOPES.set(scopes)  # this request's task only: for `scope`, batches too
        via_token = self._local(record).count("/") == 2
        _CALLER_IS_APP.set(via_token)
        method = method.lower().removesuffix(".json").removesuffix(".xml")
        if method not in METHODS:
            return self._error("ERROR_METHOD_NOT_FOUND", "Method not found!")
        denied = _access_error(method)
        if denied is not None:
            return self._error(denied.code, denied.description)
        if not self._take_token():
            return self._error("QUERY_LIMIT_EXCEEDED", "Too many requests")
        fault = self.due_fault(method)
        if fault is not None and fault.kind == "error":
            return self._error(fault.code, fault.message, fault.status)
        if fault is not None and fault.kind == "html":
            return fault.gateway_page()
        if fault is not None and fault.kind == "redirect":
            raise web.HTTPFound(location=fault.location + record.url)
        try:
            if method == "batch":
                batch = await run_batch_json(
                    params, self._command, METHODS.__contains__, self.timing
                )
                response = web.Response(
                    text=f'{{"result": {batch}, "time": {json.dumps(self.timing())}}}',
                    content_type="application/json",
                )
            else:
                result, extra = self.call(method, params)
                response = web.json_response(self._envelope(result, extra))
        except BitrixError as exc:
            response = self._error(exc.code, exc.description, exc.status)
        except StoreFull as exc:  # the fake's own limit, said in the portal's shape
            response = self._error("ERROR_CORE", str(exc), 507)
        if fault is not None and fault.kind in ("commit_then_drop", "commit_then_hang"):
            await self.drop_connection(
                request, hang=fault.seconds if fault.kind == "commit_then_hang" else None
            )
        self.send_events(str(request.url.origin()))
        return response

    def _oauth(self, record: RecordedRequest, request: web.BaseRequest) -> web.Response:
        """The authorization server (GET with a query, as documented; a form POST too)."""
        try:
            params = self.params(record)
            origin = str(request.url.origin())
            issued = self.tokens.grant(params, origin + self.prefix, server=origin)
        except BitrixError as exc:
            return web.json_response(
                {"error": "invalid_request", "error_description": exc.description}, status=400
            )
        except OAuthError as exc:
            return web.json_response(
                {"error": exc.code, "error_description": exc.description}, status=exc.status
            )
        return web.json_response(issued)

    def params(self, record: RecordedRequest) -> dict[str, Any]:
        """Query and body, merged (the body wins); top-level names are case-insensitive.

        The body is read as the portal's ``CRestUtil::getRequestData`` reads it (the
        ``rest`` module's ``classes/general/rest_util.php``): only a POST's; as JSON only
        when it says ``application/json`` (JSON that does not parse, or is no object or
        list, adds nothing), a multipart form as a form, and any other body with PHP's
        ``parse_str`` whatever its type says, so JSON sent as ``text/plain`` or as curl's
        default form type is read as the form it then is (nothing the method can use)."""
        merged: dict[str, Any] = {}
        query = record.query
        if isinstance(query, dict):
            merged.update(query)
        body: Any = None
        content_type = record.content_type
        if record.method != "POST" or not record.body.strip():
            body = None  # a GET, or a POST with nothing in it (whatever it says it holds)
        elif content_type == "application/json":
            body = record.json
            if _nesting(body) >= PHP_JSON_DEPTH:  # `json_decode`'s error: nothing is added
                body = None
            if isinstance(body, list):  # `array_replace` with a list: keys 0, 1, ...
                body = {str(index): value for index, value in enumerate(body)}
        elif content_type == "multipart/form-data":
            body = parse_php_form(_multipart_as_query(record))
        else:
            body = record.form if isinstance(record.form, dict) else parse_php_form(record.text)
        if isinstance(body, dict):
            merged.update(body)
        return {str(key).lower(): value for key, value in merged.items()}

    # --- the methods ---------------------------------------------------------------

    def methods(self) -> frozenset[str]:
        return METHODS

    def _command(self, method: str, params: Mapping[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        """One command of a ``batch``: checked for the caller's scope and kind of
        authorization as the batch's own method is (``CRestServerBatchItem::checkAuth``
        throws ``insufficient_scope``), then run."""
        denied = _access_error(method)
        if denied is not None:
            raise denied
        return self.call(method, params)

    def call(self, method: str, params: Mapping[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        """Run one method; return its ``result`` and extra envelope fields."""
        if method == "batch":
            return run_batch(params, self._command, METHODS.__contains__, self.timing), None
        if method.startswith("event."):
            return self.event_call(method.split(".")[1], params), None
        mine = [name for name in _CALLER_SCOPES.get() if name != "basic"]
        if method == "scope":  # api-reference/common/system/scope.md
            full = params.get("full")
            if full not in (None, False, 0, "0", "", []):  # PHP's truth: "false" is true
                return sorted({*_SCOPES, *mine}), None
            return mine, None
        if method == "app.info":
            info = app_info(self.tokens.client_id, self.plan)
            if _CALLER_IS_APP.get():
                return info, None
            # `CRestProvider::appInfo`: a webhook (`getPasswordId()`) gets its scope (as
            # `scope` lists it, both `getScope($server)`) and the license, no error.
            return {"SCOPE": mine, "LICENSE": info["LICENSE"]}, None
        if method == "method.get":  # method-get.md: the name as written, in lowercase
            name = params.get("name")
            known = isinstance(name, str) and name in METHODS
            return {"isExisting": known, "isAvailable": known and _in_scope(str(name))}, None
        if method in system.METHODS:
            return system.answer(method, _CALLER_USER.get(self.user_id), self.clock.now()), None
        if method == "crm.duplicate.findbycomm":
            return self.find_by_comm(params)
        parts = method.split(".")
        if parts[1] == "item":  # the universal methods (items.py), the same store
            result = item_call(self, parts[2], params)
            if parts[2] in ("add", "update", "delete"):
                item = result[0].get("item", {}) if isinstance(result[0], dict) else {}
                entity_id = item.get("id") or whole_number(text(params.get("id")))
                self.queue_event(item_entity(params), parts[2], str(entity_id))
            return result
        if parts[1] == "timeline":
            return self.comment_call(parts[-1], params)
        if parts[2] == "userfield":
            return self.userfield_call(parts[1], parts[3], params)
        result = self.entity_call(parts[1], parts[2], params)
        if parts[2] in ("add", "update", "delete"):  # the record's id, as the portal has it
            entity_id = result[0] if parts[2] == "add" else whole_number(text(params.get("id")))
            self.queue_event(parts[1], parts[2], str(entity_id))
        return result


#: ``json_decode``'s default depth, which ``Bitrix\Main\Web\Json::decode`` keeps: 511
#: arrays or objects inside each other parse, 512 are "Maximum stack depth exceeded", an
#: ``ArgumentException`` that ``CRestUtil::getRequestData`` turns into no body at all.
PHP_JSON_DEPTH: Final = 512


def _nesting(value: Any) -> int:
    """How many arrays or objects ``value`` holds inside each other (a scalar: 0)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


#: What ``CRestUtil::sendHeaders`` (``classes/general/rest_util.php``) puts on every answer.
_REST_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "origin, content-type, accept",
    "X-Content-Type-Options": "nosniff",
}


def _as_xml(response: web.Response) -> web.Response:
    """A JSON answer (result or error) written as XML, with its status; any other answer
    (a fault's HTML page, an empty body) as it is."""
    if response.content_type != "application/json" or not isinstance(response.body, bytes):
        return response
    data = json.loads(response.body)
    if not isinstance(data, dict):
        return response
    return web.Response(
        text=to_xml(data), status=response.status, content_type="text/xml", charset="utf-8"
    )


def _multipart_as_query(record: RecordedRequest) -> str:
    """A multipart/form-data body as an urlencoded text, so PHP bracket names decode alike."""
    from urllib.parse import quote_plus

    head = f"Content-Type: {record.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + record.body)
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        try:
            value = raw.decode(part.get_content_charset() or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know: read it as UTF-8
            value = raw.decode("utf-8", errors="replace")
        pairs.append(f"{quote_plus(str(name))}={quote_plus(value)}")
    return "&".join(pairs)
