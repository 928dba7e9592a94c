"""The account's events feed: ``GET /api/v4/events`` and ``/api/v4/events/{id}``
(https://www.amocrm.ru/developers/content/crm_platform/events-and-notes; the official
library's ``EventModel`` and ``EventsFilter``).

Every change the API makes records an event ``{id, type, entity_id, entity_type,
created_by, created_at, value_after, value_before, account_id}`` (``entity_type`` in
the singular: ``lead``, ``contact``, ``company``): ``lead_added``, ``contact_added``,
``company_added`` (``value_after`` empty here, **[inference]**),
``lead_status_changed`` (``value_after: [{lead_status: {id,
pipeline_id}}]``), ``entity_responsible_changed`` (``[{responsible_user: {id}}]``),
``name_field_changed`` (``[{name_field_value: {name}}]``), ``sale_field_changed``
(``[{sale_field_value: {sale}}]``), ``custom_field_{ID}_value_changed``
(``[{custom_field_value: {field_id, field_type, enum_id, text}}]``),
``entity_tag_added``/``entity_tag_deleted`` (``[{tag: {name}}]``),
``contact_linked``/``contact_unlinked`` on a lead and ``lead_linked`` on its contact
(by the other side's type; ``[{link: {entity: {id, type}}}]``) and
a note's (``common_note_added``, ``incoming_call``, …; ``[{note: {id}}]``).

Filters: ``filter[id]``, ``filter[type]``, ``filter[entity]``, ``filter[entity_id]``
(a comma-separated text, as the library writes them, or a list), ``filter[created_by]``,
``filter[created_at]`` (a number or ``[from]``/``[to]``),
``filter[value_after][leads_statuses][N][pipeline_id|status_id]``; ``with=lead_name``,
``contact_name``, ``company_name`` add ``_embedded.entity {id, name}``; newest first;
``limit`` 1 to 100 (more is 100). The feed is in memory, bounded (:data:`MAX_EVENTS`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .entities import USER_ID
from .listing import number
from .problems import hal, invalid

if TYPE_CHECKING:
    from .routes import Call

__all__ = [
    "MAX_EVENTS",
    "changed",
    "get_event",
    "linked",
    "list_events",
    "note_event",
    "record",
]

#: Events kept, at most (the oldest go first).
MAX_EVENTS: Final = 50_000
#: The feed's bytes (each event's values as JSON, plus its fixed fields): a feed of
#: 50 000 name changes of megabytes each must not be kept whole.
MAX_EVENT_BYTES: Final = 64 * 1024 * 1024
_EVENT_OVERHEAD: Final = 256
SINGULAR: Final = {"leads": "lead", "contacts": "contact", "companies": "company"}
_PLURAL: Final = {v: k for k, v in SINGULAR.items()}
_NAMES: Final = {"lead_name": "leads", "contact_name": "contacts", "company_name": "companies"}


def record(
    call: Call,
    kind: str,
    entity: str,
    key: int,
    after: list[dict[str, Any]] | None = None,
    before: list[dict[str, Any]] | None = None,
) -> None:
    """Add one event about ``entity`` ``key`` to the feed."""
    amo = call.amo
    amo.event_count += 1
    size = _EVENT_OVERHEAD + len(kind) + len(json.dumps([after, before], ensure_ascii=False))
    if len(amo.events) == amo.events.maxlen:  # the append drops the oldest: its bytes too
        amo.event_bytes -= amo.event_sizes[0]
    amo.events.append(
        {
            "id": f"{amo.event_count:026x}",
            "type": kind,
            "entity_id": key,
            "entity_type": SINGULAR[entity],
            "created_by": USER_ID,
            "created_at": call.moment,
            "value_after": after or [],
            "value_before": before or [],
            "account_id": 1,
        }
    )
    amo.event_sizes.append(size)
    amo.event_bytes += size
    while amo.event_bytes > MAX_EVENT_BYTES and len(amo.events) > 1:  # the newest stays
        amo.events.popleft()
        amo.event_bytes -= amo.event_sizes.popleft()


#: A note's event type by its ``note_type`` (calls and messages have their own; the rest
#: are ``{type}_note_added``, **[inference]** past the documented ones).
_NOTE_EVENTS: Final = {
    "common": "common_note_added",
    "call_in": "incoming_call",
    "call_out": "outgoing_call",
    "service_message": "service_note_added",
    "geolocation": "geo_note_added",
    "attachment": "attachment_note_added",
    "sms_in": "incoming_sms",
    "sms_out": "outgoing_sms",
}


def note_event(note_type: str) -> str:
    """The event type a new note of ``note_type`` records."""
    return _NOTE_EVENTS.get(note_type, f"{note_type}_note_added")


def linked(call: Call, entity: str, key: int, kind: str, other: int, *, linked: bool) -> None:
    """A link made or undone, on both sides: ``contact_linked`` on the lead, ``lead_linked``
    on the contact (amocrm-api's event types), ``[{link: {entity: {id, type}}}]``."""
    word = "linked" if linked else "unlinked"
    for here, there, there_id, here_id in ((entity, kind, other, key), (kind, entity, key, other)):
        value = [{"link": {"entity": {"id": there_id, "type": SINGULAR[there]}}}]
        after, before = (value, None) if linked else (None, value)
        record(call, f"{SINGULAR[there]}_{word}", here, here_id, after, before)


def changed(call: Call, entity: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """The events an update makes, from the record before and after it."""
    key = int(new["id"])
    if old.get("name") != new.get("name"):
        record(
            call,
            "name_field_changed",
            entity,
            key,
            [{"name_field_value": {"name": new.get("name")}}],
            [{"name_field_value": {"name": old.get("name")}}],
        )
    if entity == "leads" and old.get("status_id") != new.get("status_id"):
        record(
            call,
            "lead_status_changed",
            entity,
            key,
            [{"lead_status": {"id": new["status_id"], "pipeline_id": new["pipeline_id"]}}],
            [{"lead_status": {"id": old["status_id"], "pipeline_id": old["pipeline_id"]}}],
        )
    if entity == "leads" and old.get("price") != new.get("price"):
        record(
            call,
            "sale_field_changed",
            entity,
            key,
            [{"sale_field_value": {"sale": new.get("price")}}],
            [{"sale_field_value": {"sale": old.get("price")}}],
        )
    if old.get("responsible_user_id") != new.get("responsible_user_id"):
        record(
            call,
            "entity_responsible_changed",
            entity,
            key,
            [{"responsible_user": {"id": new.get("responsible_user_id")}}],
            [{"responsible_user": {"id": old.get("responsible_user_id")}}],
        )
    before = {f["field_id"]: f for f in old.get("custom_fields_values") or []}
    after = {f["field_id"]: f for f in new.get("custom_fields_values") or []}
    for field_id in sorted(set(before) | set(after)):
        if before.get(field_id) != after.get(field_id):
            record(
                call,
                f"custom_field_{field_id}_value_changed",
                entity,
                key,
                _field_values(after.get(field_id)),
                _field_values(before.get(field_id)),
            )
    old_tags = {t["name"] for t in old.get("_embedded", {}).get("tags", [])}
    new_tags = {t["name"] for t in new.get("_embedded", {}).get("tags", [])}
    for name in sorted(new_tags - old_tags):
        record(call, "entity_tag_added", entity, key, [{"tag": {"name": name}}])
    for name in sorted(old_tags - new_tags):
        record(call, "entity_tag_deleted", entity, key, [], [{"tag": {"name": name}}])


def _field_values(field: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if field is None:
        return []
    return [
        {
            "custom_field_value": {
                "field_id": field["field_id"],
                "field_type": field.get("field_type"),
                "enum_id": value.get("enum_id"),
                "text": str(value.get("value", "")),
            }
        }
        for value in field.get("values") or []
    ]


# --- GET /api/v4/events -----------------------------------------------------------------


def _texts(value: Any) -> set[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    return {str(item).strip() for item in items if str(item).strip()}


def _numbers(value: Any, path: str) -> set[int]:
    try:
        return {int(text) for text in _texts(value)}
    except ValueError:
        raise invalid("InvalidType", path, f"Numbers are expected, got {value!r}.") from None


def _range(value: Any, path: str) -> tuple[int, int]:
    if isinstance(value, dict):
        low = number(value.get("from", -(2**62)), f"{path}.from")
        high = number(value.get("to", 2**62), f"{path}.to")
        return (low, high)
    one = number(value, path)
    return (one, one)


def _statuses(value: Any) -> set[tuple[int, int]] | None:
    """``filter[value_after][leads_statuses][N][pipeline_id|status_id]`` as pairs."""
    pairs = value.get("leads_statuses") if isinstance(value, dict) else None
    if pairs is None:
        return None
    items = list(pairs.values()) if isinstance(pairs, dict) else pairs
    path = "filter.value_after.leads_statuses"
    return {
        (
            number(pair.get("pipeline_id", 0), f"{path}.pipeline_id"),
            number(pair.get("status_id", 0), f"{path}.status_id"),
        )
        for pair in (items if isinstance(items, list) else [])
        if isinstance(pair, dict)
    }


def list_events(call: Call) -> web.Response:
    from .routes import page_links

    query = call.record.query if isinstance(call.record.query, dict) else {}
    page = number(query.get("page", 1), "page")
    limit = number(query.get("limit", 50), "limit")
    if page < 1 or limit < 1:
        raise invalid("Range", "limit" if page >= 1 else "page", "page and limit from 1.")
    limit = min(limit, 100)  # at most 100 a page; more is a full page, as lists of 250 are
    given = query.get("filter")
    if given not in (None, "") and not isinstance(given, dict):
        raise invalid("InvalidType", "filter", "An object is expected (filter[key]=value).")
    filters: dict[str, Any] = given if isinstance(given, dict) else {}
    chosen = list(call.amo.events)
    if "id" in filters:
        ids = _texts(filters["id"])
        chosen = [e for e in chosen if e["id"] in ids]
    if "type" in filters:
        kinds = _texts(filters["type"])
        chosen = [e for e in chosen if e["type"] in kinds]
    if "entity" in filters:
        kinds = _texts(filters["entity"])
        chosen = [e for e in chosen if e["entity_type"] in kinds]
    if "entity_id" in filters:
        keys = _numbers(filters["entity_id"], "filter.entity_id")
        chosen = [e for e in chosen if e["entity_id"] in keys]
    if "created_by" in filters:
        users = _numbers(filters["created_by"], "filter.created_by")
        chosen = [e for e in chosen if e["created_by"] in users]
    if "created_at" in filters:
        low, high = _range(filters["created_at"], "filter.created_at")
        chosen = [e for e in chosen if low <= e["created_at"] <= high]
    wanted = _statuses(filters.get("value_after"))
    if wanted is not None:
        chosen = [
            e
            for e in chosen
            if any(
                (v["lead_status"]["pipeline_id"], v["lead_status"]["id"]) in wanted
                for v in e["value_after"]
                if "lead_status" in v
            )
        ]
    chosen.reverse()  # newest first
    chunk = chosen[(page - 1) * limit : page * limit]
    if not chunk:
        return web.Response(status=204)
    names = {_NAMES[w] for w in str(query.get("with", "")).split(",") if w.strip() in _NAMES}
    return hal(
        {
            "_page": page,
            "_links": page_links(call, "events", page, page * limit < len(chosen)),
            "_embedded": {"events": [_shown(call, e, names) for e in chunk]},
        }
    )


def get_event(call: Call) -> web.Response:
    wanted = call.params["id"]
    found = next((e for e in call.amo.events if e["id"] == wanted), None)
    if found is None:
        return web.Response(status=204)
    query = call.record.query if isinstance(call.record.query, dict) else {}
    names = {_NAMES[w] for w in str(query.get("with", "")).split(",") if w.strip() in _NAMES}
    return hal(_shown(call, found, names))


def _shown(call: Call, event: Mapping[str, Any], names: set[str]) -> dict[str, Any]:
    out = {**event, "_links": {"self": {"href": f"{call.base}/events/{event['id']}"}}}
    entity = _PLURAL[event["entity_type"]]
    if entity in names:
        stored = call.amo.store.records[entity].get(event["entity_id"])
        out["_embedded"] = {
            "entity": {
                "id": event["entity_id"],
                "name": stored.get("name") if stored else None,
                "_links": {"self": {"href": f"{call.base}/{entity}/{event['entity_id']}"}},
            }
        }
    return out
