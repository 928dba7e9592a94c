"""The fake amoCRM / Kommo account: who may call (Bearer tokens, long-lived or OAuth),
how fast (7 requests a second per integration inside 50 per account, 429, then a
403 block), which account (the Host's subdomain or ``/amocrm/{subdomain}``), and
the operator's handles (tokens, integrations, faults, the block, webhooks due).

The API itself is in :mod:`.routes`; OAuth in :mod:`.oauth`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from mockserver.crm.base import CrmProfile
from mockserver.models import CRM_SUBDOMAIN, CRM_SUBDOMAIN_TEXT

from . import events, webhooks
from .entities import ENTITIES, shown
from .fields import DEFAULT_FIELDS, Catalogue
from .oauth import ACCESS_LIFETIME, LONG_LIVED_LIFETIME, OAuth, claims_of
from .problems import Invalid, blocked, problem
from .routes import Call, dispatch

if TYPE_CHECKING:
    from mockserver.journal import RecordedRequest

    from .oauth import Integration

__all__ = ["AmoCRM"]

#: Webhook attempts journaled, and deliveries waiting for a retry, at most.
MAX_DELIVERY_LOG = 1_000
MAX_PENDING = 10_000
#: Webhook calls on their way at once (**decision**: amoCRM's own pace is not documented;
#: 10 000 at once to the server's own stub timed every one of them out).
MAX_IN_FLIGHT = 16
#: What a journaled attempt keeps of its body (the start; ``body_length`` is the whole).
MAX_LOGGED_BODY = 64 * 1024
#: Long-lived tokens and OAuth integrations an account keeps (both survive a reset).
MAX_TOKENS = 1_000
MAX_INTEGRATIONS = 1_000
#: The longest integration name and ``redirect_uri`` kept (1 000 of each may be kept).
MAX_NAME = 256
MAX_URI = 2048
ALL_LINKED = frozenset({"contacts", "companies", "leads"})


class AmoCRM(CrmProfile):
    """The fake account. Issue a token with :meth:`issue_token`; send it as a Bearer token.

    For OAuth, :meth:`add_integration` then :meth:`authorization_code` give what the
    account owner's consent gives; the client trades the code at ``/oauth2/access_token``.
    """

    name: str = "amocrm"
    meta_shapes: ClassVar[Mapping[str, type | tuple[type, ...]]] = {
        "tokens": dict,
        "oauth": dict,
        "hooks": dict,
        "custom_fields": dict,
    }

    def __init__(
        self,
        *,
        subdomain: str = "example",
        fields: Mapping[int, Mapping[str, Any]] | None = None,
        duplicate_control: bool = True,
        per_integration: int = 7,
        per_account: int = 50,
        block_after: int = 5,
        limit_body: str = "problem",
        webhook_retries: tuple[float, ...] = (300, 900, 900, 3600),
        webhook_timeout: float = 2.0,
        access_lifetime: int = ACCESS_LIFETIME,
        data: str | Path | None = None,
    ) -> None:
        if not CRM_SUBDOMAIN.fullmatch(subdomain):
            raise ValueError(f"subdomain: got {subdomain!r}, expected {CRM_SUBDOMAIN_TEXT}")
        if limit_body not in ("problem", "empty", "html"):
            raise ValueError(f"limit_body: got {limit_body!r}, expected problem, empty or html")
        if not all(delay >= 0 for delay in webhook_retries) or not webhook_timeout > 0:
            raise ValueError(
                f"webhook_retries {webhook_retries!r} / webhook_timeout {webhook_timeout!r}: "
                "expected delays >= 0 and a timeout > 0 seconds"
            )
        super().__init__(data=data)
        self.subdomain = subdomain
        self._seed_fields = dict(fields or DEFAULT_FIELDS)
        self.catalogue = Catalogue(self._seed_fields)
        kept = self.store.meta.get("custom_fields")
        if isinstance(kept, dict):  # the fields the API created or deleted, from --data
            self.catalogue.fields = {int(k): v for k, v in kept.items()}
        self.duplicate_control = duplicate_control
        self.per_integration = per_integration
        self.per_account = per_account
        self.block_after = block_after
        #: What a 429 carries: problem+json, nothing, or an HTML page (real ones vary).
        self.limit_body = limit_body
        self.webhook_retries = webhook_retries
        self.webhook_timeout = webhook_timeout
        #: Long-lived tokens → the integration they belong to.
        self.tokens: dict[str, str] = dict(self.store.meta.get("tokens", {}))
        self.oauth = OAuth(
            subdomain=subdomain,
            state=self.store.meta.get("oauth", {}),
            save=lambda state: self.store.set_meta("oauth", state),
            clock=lambda: self.moment().timestamp(),
            access_lifetime=access_lifetime,
        )
        #: Webhook subscriptions by id (``/api/v4/webhooks``).
        self.hooks: dict[int, dict[str, Any]] = {
            int(k): v for k, v in dict(self.store.meta.get("hooks", {})).items()
        }
        #: Every webhook attempt: destination, setting, attempt, status, at, body.
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=MAX_DELIVERY_LOG)
        self._waiting: list[webhooks.Delivery] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._started = 0  # webhook attempts started, ever (deliver_due counts by it)
        #: The events feed (``GET /api/v4/events``), newest last, bounded.
        self.events: deque[dict[str, Any]] = deque(maxlen=events.MAX_EVENTS)
        #: Each event's cost in bytes, in step with ``events``, and their sum.
        self.event_sizes: deque[int] = deque(maxlen=events.MAX_EVENTS)
        self.event_bytes = 0
        self.event_count = 0
        #: Tag name → id, per entity type (the catalogue itself is in the store).
        self.tag_index: dict[str, dict[str, int]] = {}
        self.blocked = False
        self._hits: dict[str, deque[float]] = {}
        self._violations: deque[float] = deque()

    def moment(self) -> datetime:
        """The server's clock (the profile's :class:`Clock`, which a frozen clock moves and
        ``POST /__admin/crm/amocrm/clock`` drives); never the machine's monotonic clock."""
        return self.clock.now()

    # --- operator ------------------------------------------------------------------

    def issue_token(
        self, integration: str = "integration", *, lifetime: int = LONG_LIVED_LIFETIME
    ) -> str:
        """A long-lived token for ``integration`` (each integration has its own 7/s budget):
        a JWT valid ``lifetime`` seconds (amoCRM allows 1 day to 5 years)."""
        _bounded("integration", integration, MAX_NAME)
        if len(self.tokens) >= MAX_TOKENS:
            raise ValueError(
                f"the account keeps at most {MAX_TOKENS} long-lived tokens; revoke one "
                "(DELETE /__admin/crm/amocrm/tokens/{token}) first"
            )
        token = self.oauth.jwt(secrets.token_hex(18), "long_lived", lifetime)
        self.tokens[token] = integration
        self.store.set_meta("tokens", self.tokens)
        return token

    def revoke_token(self, token: str) -> None:
        self.tokens.pop(token, None)
        self.store.set_meta("tokens", self.tokens)

    def add_integration(
        self,
        name: str = "integration",
        *,
        redirect_uri: str = "https://example.invalid/oauth",
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> Integration:
        """An OAuth integration (``client_id``, ``client_secret``, ``redirect_uri``);
        ``ValueError`` past :data:`MAX_INTEGRATIONS`, or for a name past 256 characters or
        a ``redirect_uri`` past 2 048."""
        _bounded("name", name, MAX_NAME)
        _bounded("redirect_uri", redirect_uri, MAX_URI)
        if len(self.oauth.integrations) >= MAX_INTEGRATIONS:
            raise ValueError(
                f"the account keeps at most {MAX_INTEGRATIONS} integrations (kept across a "
                "reset and in --data): use the ones made, or another account"
            )
        return self.oauth.add_integration(
            name, redirect_uri=redirect_uri, client_id=client_id, client_secret=client_secret
        )

    def authorization_code(self, client_id: str) -> str:
        """The code the owner's consent gives (valid 20 minutes on the server's clock, once)."""
        return self.oauth.authorization_code(client_id)

    def is_blocked(self) -> bool:
        """True once repeated rate-limit violations blocked the account (until ``unblock``)."""
        return self.blocked

    def unblock(self) -> None:
        self.blocked = False
        self._violations.clear()

    def reset(self) -> None:
        tokens = dict(self.tokens)
        super().reset()
        self.tokens = tokens
        self.store.set_meta("tokens", tokens)
        self.oauth.persist()
        self.catalogue = Catalogue(self._seed_fields)
        self.hooks.clear()
        self.tag_index.clear()
        self.events.clear()
        self.event_sizes.clear()
        self.event_bytes = 0
        self._waiting.clear()
        self.deliveries.clear()
        self.unblock()
        self._hits.clear()

    def records(self, entity: str) -> list[dict[str, Any]]:
        """The stored records of an entity type, in id order, as ``GET`` shows them with
        every linked kind (``_embedded.contacts``, ``.companies``, ``.leads``)."""
        kept = super().records(entity)
        if entity not in ENTITIES:
            return kept
        base = f"https://{self.subdomain}.amocrm.ru/api/v4"
        return [shown(entity, record, base, ALL_LINKED) for record in kept]

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "tokens": dict(self.tokens),
            "blocked": self.blocked,
            "webhooks": list(self.hooks.values()),
            "deliveries": list(self.deliveries)[-200:],
        }

    def describe(self, base_url: str) -> str:
        token = next(iter(self.tokens), None) or self.issue_token()
        return (
            f"API {base_url}/amocrm/{self.subdomain}/api/v4 (or Host: "
            f"{self.subdomain}.amocrm.ru), token {token}"
        )

    # --- webhooks ------------------------------------------------------------------

    def save_fields(self) -> None:
        """Keep the catalogue as the API left it (created and deleted fields) in ``--data``."""
        self.store.set_meta("custom_fields", {str(k): v for k, v in self.catalogue.fields.items()})

    def subscribe(
        self, destination: str, settings: list[str] | tuple[str, ...], *, sort: int = 1
    ) -> dict[str, Any]:
        """Subscribe ``destination`` (an http(s) URL) to ``settings`` (``add_lead``, ...),
        as ``POST /api/v4/webhooks`` does; the webhook model. :class:`ValueError` when the
        API would refuse it."""
        try:
            hook = webhooks.add_hook(
                self, destination, list(settings), sort, int(self.moment().timestamp())
            )
        except Invalid as exc:
            (error,) = exc.errors[0]["errors"]
            raise ValueError(f"{error['path']}: {error['detail']}") from None
        return dict(hook)

    def save_hooks(self) -> None:
        self.store.set_meta("hooks", {str(k): v for k, v in self.hooks.items()})

    def queue_delivery(self, delivery: webhooks.Delivery) -> None:
        """Send now (in the background), retry at the due times while it fails. Past
        :data:`MAX_PENDING` waiting, the oldest is dropped, and the log says so."""
        if len(self._waiting) >= MAX_PENDING:
            self._journal(
                self._waiting.pop(0),
                self.moment(),
                None,
                f"not sent: more than {MAX_PENDING} webhook calls are waiting",
                None,
            )
        self._waiting.append(delivery)

    def _start_due(self) -> int:
        """Start the calls due now, at most :data:`MAX_IN_FLIGHT` on their way at once
        (the others stay due, for when one is answered); how many it started."""
        room = MAX_IN_FLIGHT - len(self._sending)
        if room <= 0 or not self._waiting:
            return 0
        moment = self.moment().timestamp()
        due = [d for d in self._waiting if d.due <= moment][:room]
        if not due:
            return 0
        starting = {id(d) for d in due}
        self._waiting = [d for d in self._waiting if id(d) not in starting]
        for delivery in due:
            task = asyncio.get_running_loop().create_task(self._attempt(delivery))
            self._sending.add(task)
            task.add_done_callback(self._sent)
        self._started += len(due)
        return len(due)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled():  # the loop still runs: let the next due call go
            self._start_due()

    def _journal(
        self,
        delivery: webhooks.Delivery,
        at: datetime,
        status: int | None,
        outcome: str,
        retry_in: float | None,
    ) -> None:
        ok = status is not None and 100 <= status <= 299
        entry: dict[str, Any] = {
            "webhook_id": delivery.hook_id,
            "destination": delivery.destination,
            "setting": delivery.setting,
            "attempt": delivery.attempts,
            "at": at.isoformat(),
            "status": status,
            "outcome": outcome,
            "delivered": ok,
            "retry_in": retry_in,
            "body": delivery.body[:MAX_LOGGED_BODY],
        }
        if len(delivery.body) > MAX_LOGGED_BODY:
            entry["body_length"] = len(delivery.body)
        self.deliveries.append(entry)

    async def _attempt(self, delivery: webhooks.Delivery) -> None:
        delivery.attempts += 1
        at = self.moment()
        status, outcome = await webhooks.send(delivery, timeout=self.webhook_timeout)
        ok = status is not None and 100 <= status <= 299
        retry_in = None
        if not ok and delivery.attempts <= len(self.webhook_retries):
            retry_in = self.webhook_retries[delivery.attempts - 1]
        self._journal(delivery, at, status, outcome, retry_in)
        if retry_in is not None:  # from when the attempt left: the same on every machine
            delivery.due = at.timestamp() + retry_in
            self.queue_delivery(delivery)

    async def deliver_due(self) -> int:
        """Send every webhook call due now on the server's clock and wait for the answers
        (of those already on their way too); how many were sent or awaited. A test moves the
        clock past a retry's due time, then calls this."""
        on_their_way, started = len(self._sending), self._started
        self._start_due()
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)
            self._start_due()
        return on_their_way + self._started - started  # with those let go on the way

    async def events_sent(self) -> None:
        """What the scenario runner awaits before it checks what arrived: the webhook calls
        due now, answered (see :meth:`deliver_due`)."""
        await self.deliver_due()

    @property
    def waiting(self) -> list[dict[str, Any]]:
        """Deliveries waiting for their next attempt: destination, setting, due (Unix time)."""
        return [
            {
                "destination": d.destination,
                "setting": d.setting,
                "attempts": d.attempts,
                "due": d.due,
            }
            for d in self._waiting
        ]

    # --- routing -------------------------------------------------------------------

    def _route(self, record: RecordedRequest) -> tuple[str, str, str] | None:
        """(subdomain, prefix, path under it) when this request is for amoCRM; the prefix
        is ``/api/v4`` or ``/oauth2``, ``/amocrm/{subdomain}`` before it under path routing."""
        path = record.path
        if path.startswith("/amocrm/"):
            sub, _, tail = path.removeprefix("/amocrm/").partition("/")
            mounted = f"/amocrm/{sub}"
        else:
            host = record.headers.get("host", "").split(":")[0]
            sub = host.split(".")[0] if host.count(".") >= 2 else self.subdomain
            tail = path.lstrip("/")
            mounted = ""
        for prefix in ("api/v4", "oauth2"):
            if tail == prefix or tail.startswith(prefix + "/"):
                return sub, f"{mounted}/{prefix}", "/" + tail.removeprefix(prefix).lstrip("/")
        return None

    def claims(self, record: RecordedRequest) -> bool:
        return self._route(record) is not None

    def _too_many(self) -> web.Response:
        if self.limit_body == "empty":
            return web.Response(status=429)
        if self.limit_body == "html":
            return web.Response(
                status=429,
                content_type="text/html",
                text="<html><body>429 Too Many Requests</body></html>",
            )
        return problem(
            429, "Too Many Requests", "Превышено допустимое количество запросов в секунду"
        )

    def _limited(self, integration: str) -> bool:
        moment = self.moment().timestamp()
        account = self._hits.setdefault("*", deque())
        mine = self._hits.setdefault(integration, deque())
        for window in (account, mine):
            while window and window[0] <= moment - 1:
                window.popleft()
        if len(mine) >= self.per_integration or len(account) >= self.per_account:
            self._violations.append(moment)
            while self._violations and self._violations[0] <= moment - 60:
                self._violations.popleft()
            if len(self._violations) >= self.block_after:
                self.blocked = True
            return True
        mine.append(moment)
        account.append(moment)
        if len(self._hits) > 1_000:  # integrations seen: keep the live windows only
            self._hits = {k: v for k, v in self._hits.items() if v or k == "*"}
        return False

    def integration_of(self, token: str) -> str | None:
        """Which integration a Bearer token speaks for, or ``None`` (unknown, revoked, expired)."""
        if token in self.tokens:
            if claims_of(token) is None:  # a pre-JWT token kept in --data: valid until revoked
                return self.tokens[token]
            return self.tokens[token] if self.oauth.verify(token) is not None else None
        claims = self.oauth.verify(token)
        if claims is None or claims.get("grant_type") == "long_lived":
            return None  # a long-lived token once revoked stays revoked
        integration = self.oauth.integrations.get(str(claims.get("aud")))
        return integration.name if integration is not None else None

    def dispatch(self, record: RecordedRequest, path: str, base: str) -> web.Response:
        """Answer an authorised API request for ``path`` (under ``/api/v4``); hrefs start
        with ``base``. A refused one is a 400 with ``validation-errors``."""
        try:
            return dispatch(Call(self, record, base, {}), path)
        except Invalid as exc:
            return problem(
                400, "Bad Request", "Request validation failed", {"validation-errors": exc.errors}
            )

    def call_name(self, record: RecordedRequest) -> str:
        route = self._route(record)
        if route is None:
            return f"{record.method} {record.path}"
        _, prefix, path = route
        return f"{record.method} {'/oauth2' if prefix.endswith('/oauth2') else ''}{path}"

    async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        route = self._route(record)
        assert route is not None
        subdomain, prefix, path = route
        self._start_due()
        if self.blocked:
            return blocked()
        if subdomain.lower() == "www" and prefix.endswith("/oauth2"):
            # The shared OAuth host: the code or refresh token names the account. Clients
            # in public code (amocrm-sdk among them) trade tokens at www.amocrm.ru.
            subdomain = self.subdomain
        # A host name has no case (RFC 4343): clients write it lower case whatever was
        # given (httpx does), so --amocrm-subdomain Ex is reached at ex.amocrm.ru.
        if subdomain.lower() != self.subdomain.lower():
            return problem(401, "Unauthorized", f"Account {subdomain!r} not found")
        if prefix.endswith("/oauth2"):
            if path != "/access_token":
                return problem(
                    404, "Not Found", f"{record.method} {prefix}{path} is not an OAuth method"
                )
            if record.method != "POST":  # RFC 6749 §3.2; league's own server routes POST only
                return problem(
                    405,
                    "Method Not Allowed",
                    f"{record.method} {prefix}{path}: use POST",
                    headers={"Allow": "POST"},
                )
            fault = self.due_fault("POST /oauth2/access_token")
            if fault is not None and fault.kind == "error":
                return problem(fault.status, fault.code, fault.message)
            if fault is not None and fault.kind == "html":
                return fault.gateway_page()
            body = record.json if "json" in record.content_type else record.form
            answer = self.oauth.exchange(body)
            if fault is not None and fault.kind in ("commit_then_drop", "commit_then_hang"):
                await self.drop_connection(
                    request, hang=fault.seconds if fault.kind.endswith("hang") else None
                )
            return answer
        auth = record.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        integration = self.integration_of(token)
        if integration is None:
            return problem(401, "Unauthorized", "Неверный логин или пароль")
        if self._limited(integration):
            if self.is_blocked():
                return blocked()
            return self._too_many()
        method = f"{record.method} {path}"
        fault = self.due_fault(method)
        if fault is not None and fault.kind == "error":
            return problem(fault.status, fault.code, fault.message)
        if fault is not None and fault.kind == "html":
            return fault.gateway_page()
        response = self.dispatch(record, path, f"{request.url.origin()}{prefix}")
        self._start_due()
        if fault is not None and fault.kind in ("commit_then_drop", "commit_then_hang"):
            await self.drop_connection(
                request, hang=fault.seconds if fault.kind.endswith("hang") else None
            )
        return response


def _bounded(field: str, value: str, most: int) -> None:
    if len(value) > most:
        raise ValueError(f"{field}: at most {most} characters, got {len(value)}")
