"""Links between entities and notes on them.

Links (https://www.amocrm.ru/developers/content/crm_platform/entity-links-api; the
official library's ``LinkMethodsTrait``): ``POST /{entity}/{id}/link`` and
``/{entity}/{id}/unlink`` take ``[{to_entity_id, to_entity_type, metadata}]``
(``/{entity}/link`` the same with ``entity_id`` in each item); link answers
``_embedded.links`` with ``entity_id``, ``entity_type``, ``to_entity_id``,
``to_entity_type``, ``metadata``; unlink answers 204 (the library treats its
``AmoCRMApiNoContentException`` as success); ``GET /{entity}/{id}/links`` lists
them, ``filter[to_entity_type]``/``filter[to_entity_id]`` narrow.
A contact linked to a lead has ``metadata.main_contact`` (``is_main`` on the way in).

Notes (https://www.amocrm.ru/developers/content/crm_platform/events-and-notes; the
library's ``EntityNotes``): ``POST /{entity}/notes`` (``entity_id`` in each item)
or ``/{entity}/{id}/notes``, ``note_type`` and ``params``; ``GET`` lists with
``filter[note_type]``, ``filter[id]``, ``filter[entity_id]``, ``filter[updated_at]``;
``PATCH`` edits. Notes have no ``DELETE`` in the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from . import events, webhooks
from .entities import LINKABLE, USER_ID, php_int
from .listing import parse_listing
from .problems import Invalid, hal, invalid, request_id

if TYPE_CHECKING:
    from .routes import Call

__all__ = ["NOTE_TYPES", "link", "link_embedded", "unlink"]

NOTE_TYPES: Final = (
    "common",
    "call_in",
    "call_out",
    "service_message",
    "extended_service_message",
    "message_cashier",
    "geolocation",
    "sms_in",
    "sms_out",
    "attachment",
)
#: Links kept per entity and kind; amoCRM has its own caps, this keeps a record bounded.
MAX_LINKS: Final = 500
#: Notes kept per account (the oldest are forgotten first).
MAX_NOTES: Final = 50_000


def known(records: Mapping[int, Any], value: Any) -> bool:
    """Whether ``value`` is the id of one of ``records`` (any other JSON value is not)."""
    return isinstance(value, int) and not isinstance(value, bool) and value in records


# --- links -----------------------------------------------------------------------------


def embedded_errors(call: Call, entity: str, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Entities named by id in ``_embedded`` must exist (a write that links them)."""
    embedded = item.get("_embedded")
    if not isinstance(embedded, dict):
        return []
    errors = []
    for kind in LINKABLE[entity]:
        refs = embedded.get(kind)
        if not isinstance(refs, list):  # not a list: shape_errors says so (a 5 was a 500)
            continue
        for number, ref in enumerate(refs):
            if (
                isinstance(ref, dict)
                and "id" in ref
                and not known(call.amo.store.records[kind], ref["id"])
            ):
                errors.append(
                    {
                        "code": "NotFound",
                        "path": f"_embedded.{kind}.{number}.id",
                        "detail": "Entity not found.",
                    }
                )
    return errors


def link_embedded(call: Call, entity: str, key: int, item: Mapping[str, Any]) -> None:
    embedded = item.get("_embedded")
    if not isinstance(embedded, dict):
        return
    for kind in LINKABLE[entity]:
        refs = embedded.get(kind)
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, dict) and isinstance(ref.get("id"), int):
                main = {"main_contact": True} if ref.get("is_main") else None
                link(call, entity, key, kind, ref["id"], main)


def _edit(
    call: Call, entity: str, key: int, kind: str, other: int, metadata: Any, add: bool
) -> None:
    record = dict(call.amo.store.records[entity][key])
    linked = {k: list(v) for k, v in record.get("_linked", {}).items()}
    entries = [e for e in linked.get(kind, []) if e["id"] != other]
    if add:
        entries.append({"id": other, "metadata": metadata or {}})
        entries = entries[-MAX_LINKS:]
    linked[kind] = entries
    record["_linked"] = linked
    call.amo.store.put(entity, key, record)


def link(call: Call, entity: str, key: int, kind: str, other: int, metadata: Any) -> None:
    """Link both ways (the other side sees this one, without the metadata)."""
    _edit(call, entity, key, kind, other, metadata, True)
    _edit(call, kind, other, entity, key, metadata if entity == "contacts" else None, True)
    events.linked(call, entity, key, kind, other, linked=True)


def unlink(call: Call, entity: str, key: int, kind: str, other: int) -> None:
    _edit(call, entity, key, kind, other, None, False)
    _edit(call, kind, other, entity, key, None, False)
    events.linked(call, entity, key, kind, other, linked=False)


def _link_items(call: Call) -> list[tuple[int, str, int, Any]]:
    entity = call.params["entity"]
    body = call.record.json
    if not isinstance(body, list) or not body or not all(isinstance(i, dict) for i in body):
        raise invalid("InvalidType", "", "An array of links is expected.")
    failures = []
    out = []
    for index, item in enumerate(body):
        errors = []
        key = int(call.params["id"]) if "id" in call.params else item.get("entity_id")
        if not known(call.amo.store.records[entity], key):
            errors.append({"code": "NotFound", "path": "entity_id", "detail": "Entity not found."})
        kind = item.get("to_entity_type")
        other = item.get("to_entity_id")
        if kind not in LINKABLE[entity]:
            errors.append(
                {
                    "code": "NotSupportedChoice",
                    "path": "to_entity_type",
                    "detail": f"{entity} link to {', '.join(LINKABLE[entity])}.",
                }
            )
        elif not known(call.amo.store.records[kind], other):
            errors.append(
                {"code": "NotFound", "path": "to_entity_id", "detail": "Entity not found."}
            )
        metadata = item.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            errors.append(
                {"code": "InvalidType", "path": "metadata", "detail": "An object is expected."}
            )
        if errors:
            failures.append({"request_id": str(index), "errors": errors})
        else:
            out.append((key, kind, other, metadata))
    if failures:
        raise Invalid(failures)
    return out


def _shown_link(entity: str, key: int, kind: str, other: int, metadata: Any) -> dict[str, Any]:
    return {
        "entity_id": key,
        "entity_type": entity,
        "to_entity_id": other,
        "to_entity_type": kind,
        "metadata": metadata or None,
    }


def link_many(call: Call) -> web.Response:
    entity = call.params["entity"]
    done = []
    for key, kind, other, metadata in _link_items(call):
        if kind == "contacts" and isinstance(metadata, dict) and "is_main" in metadata:
            metadata = {"main_contact": bool(metadata["is_main"])}
        link(call, entity, key, kind, other, metadata)
        webhooks.event(call, entity, "update", key)
        done.append(_shown_link(entity, key, kind, other, metadata))
    return hal(
        {
            "_total_items": len(done),
            "_links": {"self": {"href": f"{call.base}/{entity}/link"}},
            "_embedded": {"links": done},
        }
    )


def unlink_many(call: Call) -> web.Response:
    entity = call.params["entity"]
    for key, kind, other, _ in _link_items(call):
        unlink(call, entity, key, kind, other)
    return web.Response(status=204)


def list_links(call: Call) -> web.Response:
    entity = call.params["entity"]
    key = int(call.params["id"])
    record = call.amo.store.records[entity].get(key)
    if record is None:
        return web.Response(status=204)
    query = call.record.query if isinstance(call.record.query, dict) else {}
    filters = query.get("filter")
    wanted: dict[str, Any] = filters if isinstance(filters, dict) else {}
    links = [
        _shown_link(entity, key, kind, entry["id"], entry.get("metadata"))
        for kind, entries in record.get("_linked", {}).items()
        for entry in entries
        if wanted.get("to_entity_type") in (None, kind)
        and wanted.get("to_entity_id") in (None, str(entry["id"]))
    ]
    if not links:
        return web.Response(status=204)
    return hal(
        {
            "_total_items": len(links),
            "_links": {"self": {"href": f"{call.base}/{entity}/{key}/links"}},
            "_embedded": {"links": links},
        }
    )


# --- notes -----------------------------------------------------------------------------


def _note_errors(
    call: Call, entity: str, item: Mapping[str, Any], creating: bool
) -> list[dict[str, Any]]:
    errors = [
        {"code": "InvalidType", "path": key, "detail": "This value should be of type int."}
        for key in ("created_at", "created_by", "responsible_user_id")
        if key in item and not php_int(item[key])
    ]
    if creating and not known(call.amo.store.records[entity], item.get("entity_id")):
        errors.append({"code": "NotFound", "path": "entity_id", "detail": "Entity not found."})
    kind = item.get("note_type")
    if (creating or "note_type" in item) and kind not in NOTE_TYPES:
        errors.append(
            {
                "code": "NotSupportedChoice",
                "path": "note_type",
                "detail": "The value you selected is not a valid choice.",
            }
        )
    params = item.get("params")
    if (creating or "params" in item) and not isinstance(params, dict):  # an update too
        errors.append({"code": "InvalidType", "path": "params", "detail": "An object is expected."})
    elif (
        kind in ("common", "service_message", "sms_in", "sms_out")
        and isinstance(params, dict)
        and (not isinstance(params.get("text"), str) or not params["text"])
    ):
        errors.append(
            {"code": "NotBlank", "path": "params.text", "detail": "This value should not be blank."}
        )
    return errors


def _note_items(call: Call, creating: bool) -> list[dict[str, Any]]:
    entity = call.params["entity"]
    body = call.record.json
    if not isinstance(body, list) or not body or not all(isinstance(i, dict) for i in body):
        raise invalid("InvalidType", "", "An array of notes is expected.")
    items = [{**i, "entity_id": int(call.params["id"])} if "id" in call.params else i for i in body]
    failures = []
    for index, item in enumerate(items):
        errors = _note_errors(call, entity, item, creating)
        if not creating and not known(call.amo.store.records[f"{entity}_notes"], item.get("id")):
            errors.append({"code": "NotFound", "path": "id", "detail": "Note not found."})
        if errors:
            failures.append({"request_id": request_id(item, index), "errors": errors})
    if failures:
        raise Invalid(failures)
    return items


def _note_link(call: Call, entity: str, note: Mapping[str, Any]) -> dict[str, Any]:
    return {"self": {"href": f"{call.base}/{entity}/{note['entity_id']}/notes/{note['id']}"}}


def add_notes(call: Call) -> web.Response:
    entity = call.params["entity"]
    kept = f"{entity}_notes"
    answered = []
    for index, item in enumerate(_note_items(call, creating=True)):
        key = call.amo.store.next_id(kept)
        note = {
            "id": key,
            "entity_id": item["entity_id"],
            "created_by": item.get("created_by", USER_ID),
            "updated_by": USER_ID,
            "created_at": item.get("created_at", call.moment),
            "updated_at": call.moment,
            "responsible_user_id": item.get("responsible_user_id", 1),
            "group_id": 0,
            "note_type": item["note_type"],
            "params": item["params"],
            "account_id": 1,
        }
        call.amo.store.put(kept, key, note)
        events.record(
            call,
            events.note_event(note["note_type"]),
            entity,
            item["entity_id"],
            [{"note": {"id": key}}],
        )
        webhooks.event(call, entity, "note", item["entity_id"], note=note)
        answered.append(
            {
                "id": key,
                "entity_id": item["entity_id"],
                "request_id": request_id(item, index),
                "_links": _note_link(call, entity, note),
            }
        )
    _forget_old(call, kept)
    return hal(
        {
            "_links": {"self": {"href": f"{call.base}/{entity}/notes"}},
            "_embedded": {"notes": answered},
        }
    )


def _forget_old(call: Call, kept: str) -> None:
    notes = call.amo.store.records[kept]
    while len(notes) > MAX_NOTES:
        del notes[next(iter(notes))]  # in memory; the SQLite copy keeps them (bounded by disk)


def update_notes(call: Call) -> web.Response:
    entity = call.params["entity"]
    kept = f"{entity}_notes"
    answered = []
    for index, item in enumerate(_note_items(call, creating=False)):
        note = dict(call.amo.store.records[kept][item["id"]])
        if "entity_id" in call.params and note["entity_id"] != item["entity_id"]:
            raise invalid("NotFound", "id", "Note not found on this entity.", request_id=str(index))
        for key in ("note_type", "params", "responsible_user_id"):
            if key in item:
                note[key] = item[key]
        note["updated_at"] = call.moment
        call.amo.store.put(kept, note["id"], note)
        answered.append(
            {
                "id": note["id"],
                "entity_id": note["entity_id"],
                "updated_at": note["updated_at"],
                "request_id": request_id(item, index),
                "_links": _note_link(call, entity, note),
            }
        )
    return hal(
        {
            "_links": {"self": {"href": f"{call.base}/{entity}/notes"}},
            "_embedded": {"notes": answered},
        }
    )


def update_note(call: Call) -> web.Response:
    body = call.record.json
    if not isinstance(body, dict):
        raise invalid("InvalidType", "", "An object is expected.")
    entity = call.params["entity"]
    note = call.amo.store.records[f"{entity}_notes"].get(int(call.params["note"]))
    if note is None or note["entity_id"] != int(call.params["id"]):
        return web.Response(status=204)
    errors = _note_errors(call, entity, body, creating=False)
    if errors:
        raise Invalid([{"request_id": "0", "errors": errors}])
    note = dict(note)
    for key in ("note_type", "params", "responsible_user_id"):
        if key in body:
            note[key] = body[key]
    note["updated_at"] = call.moment
    call.amo.store.put(f"{entity}_notes", note["id"], note)
    return hal({**note, "_links": _note_link(call, entity, note)})


def get_note(call: Call) -> web.Response:
    entity = call.params["entity"]
    note = call.amo.store.records[f"{entity}_notes"].get(int(call.params["note"]))
    if note is None or note["entity_id"] != int(call.params["id"]):
        return web.Response(status=204)
    return hal({**note, "_links": _note_link(call, entity, note)})


def _note_text(note: Mapping[str, Any]) -> str:
    """What ``query`` searches in a note: its text (a note kept without an object of
    ``params``, as an update could once leave one, has none)."""
    params = note.get("params")
    return str(params.get("text", "")).lower() if isinstance(params, dict) else ""


def list_notes(call: Call) -> web.Response:
    from .routes import page_links

    entity = call.params["entity"]
    listing = parse_listing(call.record.query)
    notes = list(call.amo.store.records[f"{entity}_notes"].values())
    if "id" in call.params:
        notes = [n for n in notes if n["entity_id"] == int(call.params["id"])]
    chosen = listing.select(notes, _note_text)
    chunk = chosen[(listing.page - 1) * listing.limit : listing.page * listing.limit]
    if not chunk:
        return web.Response(status=204)
    path = f"{entity}/{call.params['id']}/notes" if "id" in call.params else f"{entity}/notes"
    return hal(
        {
            "_page": listing.page,
            "_links": page_links(
                call, path, listing.page, listing.page * listing.limit < len(chosen)
            ),
            "_embedded": {"notes": [{**n, "_links": _note_link(call, entity, n)} for n in chunk]},
        }
    )
