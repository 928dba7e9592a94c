"""Webhooks: what the fake account sends to the integrator's handler, and
``/api/v4/webhooks`` to subscribe, list and unsubscribe.

Subscription (https://www.amocrm.ru/developers/content/crm_platform/webhooks-api;
the official library's ``Webhooks::subscribe``/``unsubscribe``):
``POST /api/v4/webhooks`` ``{destination, settings: ["add_lead", ...], sort}``
answers the webhook model; ``GET`` lists them (``_total_items``,
``_embedded.webhooks``; ``filter[destination]``); ``DELETE`` with
``{destination}`` removes it (204).

Delivery (https://www.amocrm.ru/developers/content/crm_platform/webhooks-format):
a real HTTP ``POST``, ``application/x-www-form-urlencoded``, PHP brackets:
``leads[add][0][id]=…``, ``leads[status][0][old_status_id]=…``,
``contacts[update][0][custom_fields][0][values][0][value]=…``,
``leads[note][0][note][text]=…`` and ``account[subdomain]``, ``account[id]``,
``account[_links][self]``. An answer outside 100-299, or none within
``timeout`` (2 s), is a failure; failures are retried at the due times of
``retries`` (seconds after the failed attempt, on the profile's clock); a due
retry goes out with the next request the account gets, or when a test calls
:meth:`~mockserver.crm.AmoCRM.deliver_due`. Every attempt is journaled in
``AmoCRM.deliveries`` (bounded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from .problems import hal, invalid

if TYPE_CHECKING:
    from .profile import AmoCRM
    from .routes import Call

__all__ = [
    "EVENTS",
    "Delivery",
    "add_hook",
    "event",
    "form_pairs",
    "list_hooks",
    "subscribe",
    "unsubscribe",
]

_SINGULAR: Final = {"leads": "lead", "contacts": "contact", "companies": "company"}
_ACTIONS: Final = ("add", "update", "delete", "restore", "status", "responsible", "note")
#: The ``settings`` a webhook can subscribe to.
EVENTS: Final = frozenset(
    f"{action}_{singular}"
    for singular in _SINGULAR.values()
    for action in _ACTIONS
    if action != "status" or singular == "lead"
)
ELEMENT_TYPES: Final = {"contacts": 1, "leads": 2, "companies": 3}
MAX_HOOKS: Final = 100
#: The longest ``destination`` kept (**decision**: 100 webhooks must not hold 100 bodies).
MAX_DESTINATION: Final = 2048


@dataclass
class Delivery:
    """One webhook call to send: its body, where to, and its attempts so far."""

    hook_id: int
    destination: str
    setting: str
    body: str
    attempts: int = 0
    due: float = 0.0
    log: list[dict[str, Any]] = field(default_factory=list)


def form_pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    """PHP-bracket pairs, as ``http_build_query`` writes them (``true`` as ``1``)."""
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in form_pairs(f"{prefix}[{k}]", v)]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in form_pairs(f"{prefix}[{i}]", v)]
    if value is None:
        return [(prefix, "")]
    if isinstance(value, bool):
        return [(prefix, "1" if value else "0")]
    return [(prefix, str(value))]


def _fields(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": f["field_id"],
            "name": f["field_name"],
            **({"code": f["field_code"]} if f.get("field_code") else {}),
            "values": [
                {"value": v["value"], **({"enum": v["enum_id"]} if v.get("enum_id") else {})}
                for v in f["values"]
            ],
        }
        for f in record.get("custom_fields_values") or []
    ]


def payload(entity: str, record: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """An entity as the webhook describes it (the legacy v2 names amoCRM still sends)."""
    body: dict[str, Any] = {
        "id": record["id"],
        "name": record.get("name", ""),
        "responsible_user_id": record.get("responsible_user_id"),
        "date_create": record.get("created_at"),
        "last_modified": record.get("updated_at"),
        "created_user_id": record.get("created_by"),
        "modified_user_id": record.get("updated_by"),
        "account_id": record.get("account_id", 1),
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at"),
    }
    if entity == "leads":
        body.update(
            {
                "status_id": record.get("status_id"),
                "price": record.get("price"),
                "pipeline_id": record.get("pipeline_id"),
            }
        )
    if entity == "contacts":
        body["type"] = "contact"
    if entity == "companies":
        body["type"] = "company"
    tags = record.get("_embedded", {}).get("tags") or []
    if tags:
        body["tags"] = [{"id": t["id"], "name": t["name"]} for t in tags]
    custom = _fields(record)
    if custom:
        body["custom_fields"] = custom
    body.update(extra)
    return body


def event(call: Call, entity: str, action: str, key: int, **extra: Any) -> None:
    """Queue the webhook calls one change makes, to every subscriber of its setting."""
    amo = call.amo
    setting = f"{action}_{_SINGULAR[entity]}"
    hooks = [h for h in amo.hooks.values() if not h["disabled"] and setting in h["settings"]]
    if not hooks:
        return
    record = amo.store.records[entity][key]
    if action == "note":
        note = extra["note"]
        item: dict[str, Any] = {
            "note": {
                "id": note["id"],
                "note_type": note["note_type"],
                "text": note["params"].get("text", ""),
                "element_id": key,
                "element_type": ELEMENT_TYPES[entity],
                "account_id": 1,
                "created_at": note["created_at"],
            }
        }
    else:
        item = payload(entity, record, extra)
    origin = f"https://{amo.subdomain}.amocrm.ru"
    body = form_pairs(f"{entity}[{action}][0]", item) + form_pairs(
        "account", {"subdomain": amo.subdomain, "id": 1, "_links": {"self": origin}}
    )
    text = urlencode(body)
    for hook in sorted(hooks, key=lambda h: (h["sort"], h["id"])):
        amo.queue_delivery(
            Delivery(hook["id"], hook["destination"], setting, text, due=amo.moment().timestamp())
        )


# --- /api/v4/webhooks ------------------------------------------------------------------


def _shown(hook: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: hook[k]
        for k in (
            "id",
            "destination",
            "created_at",
            "updated_at",
            "account_id",
            "created_by",
            "sort",
            "disabled",
            "settings",
        )
    }


def subscribe(call: Call) -> web.Response:
    body = call.record.json
    if not isinstance(body, dict):
        raise invalid("InvalidType", "", "An object {destination, settings} is expected.")
    hook = add_hook(
        call.amo, body.get("destination"), body.get("settings"), body.get("sort", 1), call.moment
    )
    return hal(_shown(hook))


def add_hook(
    amo: AmoCRM, destination: Any, settings: Any, sort: Any, moment: int
) -> dict[str, Any]:
    """Subscribe ``destination`` to ``settings`` (a second call for the same destination
    replaces them); the stored webhook. :class:`Invalid` names what is wrong."""
    if isinstance(destination, str) and len(destination) > MAX_DESTINATION:
        raise invalid(
            "InvalidUrl",
            "destination",
            f"At most {MAX_DESTINATION} characters, got {len(destination)}.",
        )
    parts = urlsplit(destination) if isinstance(destination, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(ch.isspace() or ord(ch) < 32 for ch in str(destination))
    ):
        raise invalid(
            "InvalidUrl", "destination", f"A valid http(s) URL is expected, got {destination!r}."
        )
    if (
        not isinstance(settings, list)
        or not settings
        or not all(isinstance(s, str) for s in settings)
    ):
        raise invalid("InvalidType", "settings", "A non-empty array of events is expected.")
    unknown = [s for s in settings if s not in EVENTS]
    if unknown:
        raise invalid(
            "NotSupportedChoice",
            "settings",
            f"Unknown events {unknown!r}; expected of {sorted(EVENTS)}.",
        )
    if isinstance(sort, bool) or not isinstance(sort, int):
        raise invalid("InvalidType", "sort", "This value should be of type int.")
    existing = next((h for h in amo.hooks.values() if h["destination"] == destination), None)
    if existing is None and len(amo.hooks) >= MAX_HOOKS:
        raise invalid(
            "TooManyEntities", "destination", f"No more than {MAX_HOOKS} webhooks per account."
        )
    if existing is None:
        key = amo.store.next_id("webhooks")
        hook: dict[str, Any] = {
            "id": key,
            "destination": destination,
            "created_at": moment,
            "account_id": 1,
            "created_by": 1,
        }
    else:
        hook = dict(existing)
    hook.update(
        {
            "updated_at": moment,
            "sort": sort,
            "disabled": False,
            "settings": list(dict.fromkeys(settings)),
        }
    )
    amo.hooks[hook["id"]] = hook
    amo.save_hooks()
    return hook


def list_hooks(call: Call) -> web.Response:
    query = call.record.query if isinstance(call.record.query, dict) else {}
    wanted = (
        query.get("filter", {}).get("destination")
        if isinstance(query.get("filter"), dict)
        else None
    )
    hooks = [_shown(h) for h in call.amo.hooks.values() if wanted in (None, h["destination"])]
    if not hooks:
        return web.Response(status=204)
    return hal({"_total_items": len(hooks), "_embedded": {"webhooks": hooks}})


def unsubscribe(call: Call) -> web.Response:
    body = call.record.json
    destination = body.get("destination") if isinstance(body, dict) else None
    if not isinstance(destination, str):
        raise invalid("InvalidType", "destination", "An object {destination} is expected.")
    amo = call.amo
    found = [k for k, h in amo.hooks.items() if h["destination"] == destination]
    if not found:
        raise invalid("NotFound", "destination", f"No webhook sends to {destination!r}.")
    for key in found:
        del amo.hooks[key]
    amo.save_hooks()
    return web.Response(status=204)


async def send(delivery: Delivery, *, timeout: float) -> tuple[int | None, str]:
    """POST one delivery; (status or ``None``, what happened)."""
    import aiohttp

    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "amoCRM-Webhooks/3.0",
    }
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(
                delivery.destination,
                data=delivery.body.encode(),
                headers=headers,
                allow_redirects=False,
            ) as answer,
        ):
            await answer.read()
            return answer.status, f"HTTP {answer.status}"
    except TimeoutError:
        return None, f"no answer within {timeout} s"
    except aiohttp.ClientError as exc:
        return None, f"{type(exc).__name__}: {exc}"
