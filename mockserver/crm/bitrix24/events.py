"""Outbound events (``api-reference/events/``): an application binds a handler URL to an
event with ``event.bind``; when a lead, contact, deal or company is added, updated or
deleted, the portal POSTs to the handler, form-encoded as PHP would: ``event``,
``event_handler_id``, ``data[FIELDS][ID]``, ``ts`` and ``auth[...]`` (the binding user's
tokens, ``domain``, ``member_id``, ``application_token``).

As documented, a delivery is tried once: "if your server crashes and fails to process all
events, Bitrix24 will not resend anything". Each attempt is kept in the bounded
``deliveries`` log (status or error), shown at ``/__admin/crm/bitrix24``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

from mockserver.crm.base import CallLog

from .schema import BitrixError, text, whole_number

if TYPE_CHECKING:
    import aiohttp

    from mockserver.crm.base import Clock
    from mockserver.crm.store import Store

    from .oauth import Tokens

__all__ = ["Events"]

_ENTITY_EVENTS: Final = frozenset(
    f"ONCRM{entity}{op}"
    for entity in ("LEAD", "CONTACT", "DEAL", "COMPANY")
    for op in ("ADD", "UPDATE", "DELETE")
)
MAX_BINDINGS: Final = 200
MAX_PENDING: Final = 1000
DELIVERY_TIMEOUT: Final = 10.0
#: A handler URL's length (**decision**: event-bind.md gives no bound).
MAX_HANDLER: Final = 2048
_NOT_IN_URL: Final = re.compile(r"[\s\x00-\x1f\x7f]")


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    """PHP's http_build_query: ``data[FIELDS][ID]=5``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]" if prefix else str(key), item, out)
    else:
        out.append((prefix, text(value)))


class Events:
    """``event.bind``/``event.get``/``event.unbind`` and the deliveries they cause."""

    store: Store
    clock: Clock
    tokens: Tokens
    user_id: str
    prefix: str

    def init_events(self) -> None:
        self.deliveries = CallLog(max_entries=1000, max_bytes=512 * 1024)
        self._pending: list[dict[str, Any]] = []
        self._sending: set[asyncio.Task[None]] = set()
        #: Deliveries noted and not yet tried (queued, or in a task): at most MAX_PENDING.
        self.events_waiting = 0
        if "application_token" not in self.store.meta:
            self.store.set_meta("application_token", secrets.token_hex(16))

    def bound_events(self) -> list[dict[str, Any]]:
        bound: list[dict[str, Any]] = self.store.meta.get("events", [])
        return [dict(binding) for binding in bound]

    def event_call(self, op: str, params: Mapping[str, Any]) -> Any:
        bound = self.bound_events()
        if op == "get":
            return [
                {key: binding[key] for key in ("event", "handler", "auth_type", "offline")}
                for binding in bound
            ]
        event = text(params.get("event")).upper()
        handler = text(params.get("handler"))
        if op == "unbind":
            kept = [
                b
                for b in bound
                if not (b["event"] == event and (not handler or b["handler"] == handler))
            ]
            self.store.set_meta("events", kept)
            return {"count": len(bound) - len(kept)}
        if event not in _ENTITY_EVENTS:
            raise BitrixError("ERROR_EVENT_NOT_FOUND", "Event not found")
        parts = urlsplit(handler)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or len(handler) > MAX_HANDLER
            or _NOT_IN_URL.search(handler)
        ):
            shown = (
                handler if len(handler) <= 80 else f"{handler[:80]}… ({len(handler)} characters)"
            )
            raise BitrixError(
                "",
                f"handler: got {shown!r}, expected an http(s) URL of at most {MAX_HANDLER} "
                "characters, without spaces or control characters",
            )
        auth_type = text(params.get("auth_type") or "0")
        user = whole_number(auth_type)
        if user is None or user < 0 or isinstance(params.get("auth_type"), list | Mapping):
            raise BitrixError(
                "", f"auth_type: got {auth_type[:80]!r}, expected a user id (0: the caller)"
            )
        if text(params.get("event_type") or "online").lower() != "online":
            raise BitrixError("", "event_type: offline events are not emulated")
        if any(b["event"] == event and b["handler"] == handler for b in bound):
            raise BitrixError("ERROR_CORE", "Handler already binded")
        if len(bound) >= MAX_BINDINGS:
            raise BitrixError("ERROR_CORE", f"At most {MAX_BINDINGS} handlers can be bound")
        number = int(self.store.meta.get("event_handler_id", 0)) + 1
        self.store.set_meta("event_handler_id", number)
        bound.append(
            {
                "id": number,
                "event": event,
                "handler": handler,
                "auth_type": str(user),
                "offline": 0,
            }
        )
        self.store.set_meta("events", bound)
        return True

    def bind(self, event: str, handler: str, auth_type: str = "0") -> None:
        """``event.bind`` from setup code (a scenario's ``events``); errors as ValueError."""
        try:
            self.event_call("bind", {"event": event, "handler": handler, "auth_type": auth_type})
        except BitrixError as exc:
            raise ValueError(f"events: {event} → {handler}: {exc.description}") from None
        self.store.flush()

    def queue_event(self, entity: str, op: str, entity_id: str) -> None:
        """After a change: note the event for every handler bound to it."""
        name = f"ONCRM{entity.upper()}{op.upper()}"
        for binding in self.bound_events():
            if binding["event"] != name:
                continue
            if self.events_waiting >= MAX_PENDING:  # handlers that do not answer: not queued
                self.deliveries.append(
                    {
                        "event": name,
                        "handler": binding["handler"],
                        "id": entity_id,
                        "at": self.clock.now().isoformat(),
                        "error": f"not sent: {MAX_PENDING} events are already waiting "
                        "for their handlers",
                    }
                )
                continue
            self.events_waiting += 1
            self._pending.append({"binding": binding, "id": entity_id, "ts": self.clock.now()})

    def send_events(self, origin: str) -> None:
        """Start delivering what is queued (after the answer is made)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._deliver(pending, origin))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def events_sent(self) -> None:
        """Wait until every delivery started so far has been tried."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    def _body(self, item: Mapping[str, Any], origin: str) -> str:
        binding = item["binding"]
        user = binding["auth_type"] if binding["auth_type"] != "0" else self.user_id
        issued = self.tokens.issue(
            user, ("crm",), origin + self.prefix, server=origin, for_event=True
        )
        auth = {
            "access_token": issued["access_token"],
            "expires": issued["expires"],
            "expires_in": issued["expires_in"],
            "scope": issued["scope"],
            "domain": urlsplit(origin).netloc,
            "server_endpoint": issued["server_endpoint"],
            "status": issued["status"],
            "client_endpoint": issued["client_endpoint"],
            "member_id": issued["member_id"],
            "user_id": issued["user_id"],
            "refresh_token": issued["refresh_token"],
            "application_token": self.store.meta["application_token"],
        }
        pairs: list[tuple[str, str]] = []
        _flatten(
            "",
            {
                "event": binding["event"],
                "event_handler_id": binding["id"],
                "data": {"FIELDS": {"ID": item["id"]}},
                "ts": int(item["ts"].timestamp()),
                "auth": auth,
            },
            pairs,
        )
        return urlencode(pairs)

    async def _deliver(self, pending: list[dict[str, Any]], origin: str) -> None:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)
        tried = 0
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                for item in pending:
                    await self._deliver_one(session, item, origin)
                    tried += 1
                    self.events_waiting -= 1
        finally:  # cancelled (the server stops): what it did not try waits no more
            self.events_waiting -= len(pending) - tried

    async def _deliver_one(
        self, session: aiohttp.ClientSession, item: Mapping[str, Any], origin: str
    ) -> None:
        """One POST to the binding's handler; its status (or error) goes to the log."""
        import aiohttp

        binding = item["binding"]
        entry: dict[str, Any] = {
            "event": binding["event"],
            "handler": binding["handler"],
            "id": item["id"],
            "at": self.clock.now().isoformat(),
        }
        try:
            async with session.post(
                binding["handler"],
                data=self._body(item, origin),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                allow_redirects=False,
            ) as response:
                await response.read()
                entry["status"] = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        self.deliveries.append(entry)
