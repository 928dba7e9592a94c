"""Incoming leads ("Неразобранное"): ``/api/v4/leads/unsorted``.

https://www.amocrm.ru/developers/content/crm_platform/unsorted-api (and the
official library's ``Unsorted`` service): ``POST /leads/unsorted/forms`` and
``/leads/unsorted/sip`` take an array of ``{source_uid, source_name, metadata,
_embedded: {leads, contacts, companies}, pipeline_id?, created_at?, request_id?}``
(at most one of each entity); the lead lands in the incoming stage (10), linked to
its contact and company. The answer is ``{_total_items, _embedded.unsorted[{uid,
account_id, request_id, _links, _embedded}]}``. ``GET /leads/unsorted`` lists
(``filter[uid]``, ``filter[category]``, ``filter[pipeline_id]``,
``order[created_at|updated_at]``), ``GET /leads/unsorted/{uid}`` shows one;
``POST /leads/unsorted/{uid}/accept`` (``{user_id?, status_id?}``) moves the lead
to a working stage (the first by default) and ``DELETE /leads/unsorted/{uid}/decline``
closes it as lost (``DELETE``, as the official library's ``Unsorted::decline`` and
Kommo's reference send it; it was ``POST`` here); either takes the item out of the list.
``GET /leads/unsorted/summary`` (``Unsorted::summary``, ``UnsortedSummaryModel``) counts
them: ``{total, accepted, declined, average_sort_time, categories}``.

Which ``metadata`` keys are required is **inference**: ``form_id``, ``form_name``,
``form_page`` and ``form_sent_at`` for forms; ``from``, ``phone``, ``called_at``,
``duration`` and ``service_code`` for calls, as the documentation's examples carry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from . import relations
from .entities import FIRST_STATUS, INCOMING, PIPELINE, php_int, shape_errors
from .listing import parse_listing
from .problems import Invalid, hal, invalid, request_id

if TYPE_CHECKING:
    from .routes import Call

__all__ = ["accept", "add_unsorted", "decline", "get_unsorted", "list_unsorted", "summary"]

REQUIRED: Final = {
    "forms": ("form_id", "form_name", "form_page", "form_sent_at"),
    "sip": ("from", "phone", "called_at", "duration", "service_code"),
}
#: Metadata that are Unix timestamps or seconds: ints, as the official library's
#: ``FormsMetadata``/``SipMetadata`` type them (``?int $formSentAt``, ``$calledAt``,
#: ``$duration``); a text or a float is refused, as amoCRM refuses one elsewhere.
_METADATA_INTS: Final = {"forms": ("form_sent_at",), "sip": ("called_at", "duration")}
#: Incoming items kept in memory (the oldest first out; the SQLite copy keeps them).
MAX_UNSORTED: Final = 50_000


def _errors(call: Call, category: str, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = []
    for key in ("source_uid", "source_name"):
        if not isinstance(item.get(key), str) or not item[key]:
            errors.append(
                {"code": "NotBlank", "path": key, "detail": "This value should not be blank."}
            )
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        errors.append(
            {"code": "InvalidType", "path": "metadata", "detail": "An object is expected."}
        )
    else:
        errors += [
            {
                "code": "NotBlank",
                "path": f"metadata.{key}",
                "detail": "This value should not be blank.",
            }
            for key in REQUIRED[category]
            if metadata.get(key) in (None, "")
        ]
        errors += [
            {
                "code": "InvalidType",
                "path": f"metadata.{key}",
                "detail": "This value should be of type int.",
            }
            for key in _METADATA_INTS[category]
            if metadata.get(key) not in (None, "") and not php_int(metadata[key])
        ]
    if "created_at" in item and not php_int(item["created_at"]):
        errors.append(
            {
                "code": "InvalidType",
                "path": "created_at",
                "detail": "This value should be of type int.",
            }
        )
    pipeline = item.get("pipeline_id", PIPELINE["id"])
    if pipeline != PIPELINE["id"]:
        errors.append(
            {
                "code": "NotSupportedChoice",
                "path": "pipeline_id",
                "detail": "The value you selected is not a valid choice.",
            }
        )
    embedded = item.get("_embedded")
    if not isinstance(embedded, dict):
        return [
            *errors,
            {
                "code": "InvalidType",
                "path": "_embedded",
                "detail": "An object with leads, contacts, companies is expected.",
            },
        ]
    for kind in ("leads", "contacts", "companies"):
        listed = embedded.get(kind) or []
        if not isinstance(listed, list) or not all(isinstance(e, dict) for e in listed):
            errors.append(
                {
                    "code": "InvalidType",
                    "path": f"_embedded.{kind}",
                    "detail": "An array of objects is expected.",
                }
            )
            continue
        if len([e for e in listed if e]) > 1:
            errors.append(
                {
                    "code": "TooManyEntities",
                    "path": f"_embedded.{kind}",
                    "detail": f"No more than one of {kind}.",
                }
            )
        for number, entry in enumerate(listed):
            where = f"_embedded.{kind}.{number}"
            errors += [
                {**e, "path": f"{where}.{e['path']}"}
                for e in shape_errors(kind, entry)
                + call.amo.catalogue.check(
                    kind, entry.get("custom_fields_values"), "custom_fields_values"
                )
                + relations.embedded_errors(call, kind, entry)
            ]
    return errors


def _refs(call: Call, item: Mapping[str, Any]) -> dict[str, Any]:
    def ref(kind: str, key: int) -> dict[str, Any]:
        return {"id": key, "_links": {"self": {"href": f"{call.base}/{kind}/{key}"}}}

    return {
        kind: [ref(kind, key) for key in item["ids"][kind]]
        for kind in ("contacts", "leads", "companies")
    }


def _shown(call: Call, item: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"uid": item["uid"]}
    if full:
        out.update(
            {
                "source_uid": item["source_uid"],
                "source_name": item["source_name"],
                "category": item["category"],
                "pipeline_id": item["pipeline_id"],
                "created_at": item["created_at"],
                "metadata": item["metadata"],
            }
        )
    out["account_id"] = 1
    out["_links"] = {"self": {"href": f"{call.base}/leads/unsorted/{item['uid']}"}}
    out["_embedded"] = _refs(call, item)
    return out


def add_unsorted(call: Call) -> web.Response:
    from .routes import create

    category = call.params["category"]
    body = call.record.json
    if not isinstance(body, list) or not body or not all(isinstance(i, dict) for i in body):
        raise invalid("InvalidType", "", "An array of incoming items is expected.")
    if len(body) > 250:
        raise invalid("TooManyEntities", "", "No more than 250 items per request.")
    failures = [
        {"request_id": request_id(item, index), "errors": errors}
        for index, item in enumerate(body)
        if (errors := _errors(call, category, item))
    ]
    if failures:
        raise Invalid(failures)
    answered = []
    for index, item in enumerate(body):
        embedded = item["_embedded"]
        made: dict[str, list[int]] = {"leads": [], "contacts": [], "companies": []}
        for kind in ("leads", "contacts", "companies"):
            for entry in embedded.get(kind) or []:
                if entry:
                    fields = {**entry, "status_id": INCOMING} if kind == "leads" else entry
                    made[kind].append(create(call, kind, fields)["id"])
        if not made["leads"]:  # an incoming item always has its lead
            made["leads"].append(create(call, "leads", {"status_id": INCOMING})["id"])
        lead = made["leads"][0]
        for kind in ("contacts", "companies"):
            for key in made[kind]:
                relations.link(
                    call,
                    "leads",
                    lead,
                    kind,
                    key,
                    {"main_contact": True} if kind == "contacts" else None,
                )
        if made["contacts"] and made["companies"]:
            relations.link(
                call, "contacts", made["contacts"][0], "companies", made["companies"][0], None
            )
        key = call.amo.store.next_id("unsorted")
        uid = hashlib.sha1(
            f"{call.amo.subdomain}:{key}".encode()
        ).hexdigest()  # an id, not a secret
        record = {
            "id": key,
            "uid": uid,
            "source_uid": item["source_uid"],
            "source_name": item["source_name"],
            "category": category,
            "pipeline_id": item.get("pipeline_id", PIPELINE["id"]),
            "created_at": item.get("created_at", call.moment),
            "updated_at": call.moment,
            "metadata": item["metadata"],
            "ids": made,
            "state": "incoming",
        }
        call.amo.store.put("unsorted", key, record)
        answered.append({**_shown(call, record, full=False), "request_id": request_id(item, index)})
    kept = call.amo.store.records["unsorted"]
    while len(kept) > MAX_UNSORTED:
        del kept[next(iter(kept))]
    return hal({"_total_items": len(answered), "_embedded": {"unsorted": answered}})


def _find(call: Call) -> dict[str, Any] | None:
    uid = call.params["uid"]
    return next(
        (
            r
            for r in call.amo.store.records["unsorted"].values()
            if r["uid"] == uid and r["state"] == "incoming"
        ),
        None,
    )


def get_unsorted(call: Call) -> web.Response:
    found = _find(call)
    return hal(_shown(call, found, full=True)) if found else web.Response(status=204)


def list_unsorted(call: Call) -> web.Response:
    from .routes import page_links

    query = call.record.query if isinstance(call.record.query, dict) else {}
    given = query.get("filter")
    filters: dict[str, Any] = given if isinstance(given, dict) else {}
    # uid and category are text: turned into the listing's text filters.
    rest = {k: v for k, v in filters.items() if k not in ("uid", "category")}
    listing = parse_listing({**query, "filter": rest}, ("created_at", "updated_at", "id"))
    items = [r for r in call.amo.store.records["unsorted"].values() if r["state"] == "incoming"]
    for key in ("uid", "category"):
        if key in filters:
            wanted = filters[key]
            wanted = set(
                wanted.values()
                if isinstance(wanted, dict)
                else wanted
                if isinstance(wanted, list)
                else [wanted]
            )
            items = [r for r in items if r[key] in {str(w) for w in wanted}]
    chosen = listing.select(items, lambda r: r["source_name"].lower())
    chunk = chosen[(listing.page - 1) * listing.limit : listing.page * listing.limit]
    if not chunk:
        return web.Response(status=204)
    return hal(
        {
            "_page": listing.page,
            "_links": page_links(
                call, "leads/unsorted", listing.page, listing.page * listing.limit < len(chosen)
            ),
            "_embedded": {"unsorted": [_shown(call, r, full=True) for r in chunk]},
        }
    )


def _settle(call: Call, status: int, state: str) -> web.Response:
    from .routes import update_entities

    found = _find(call)
    if found is None:
        return web.Response(status=204)
    body = call.record.json if call.record.body else {}
    user = body.get("user_id") if isinstance(body, dict) else None
    if user is not None and (isinstance(user, bool) or not isinstance(user, int)):
        raise invalid("InvalidType", "user_id", "This value should be of type int.")
    changes: dict[str, Any] = {"id": found["ids"]["leads"][0], "status_id": status}
    if user is not None:
        changes["responsible_user_id"] = user
    call.params["entity"] = "leads"
    update_entities(call, [changes])
    settled = {**found, "state": state, "updated_at": call.moment}
    call.amo.store.put("unsorted", found["id"], settled)
    return hal(
        {
            "uid": found["uid"],
            "pipeline_id": found["pipeline_id"],
            "category": found["category"],
            "created_at": found["created_at"],
            "_embedded": _refs(call, found),
        }
    )


def accept(call: Call) -> web.Response:
    body = call.record.json if call.record.body else {}
    if not isinstance(body, dict):
        raise invalid("InvalidType", "", "An object {user_id?, status_id?} is expected.")
    status = body.get("status_id", FIRST_STATUS)
    working = [s for s, _, kind in PIPELINE["statuses"] if kind == 0]
    if status not in working:  # not back to "incoming", nor a stage that does not exist
        raise invalid(
            "NotSupportedChoice", "status_id", "The value you selected is not a valid choice."
        )
    return _settle(call, status, "accepted")


def decline(call: Call) -> web.Response:
    body = call.record.json if call.record.body else {}
    if not isinstance(body, dict):
        raise invalid("InvalidType", "", "An object {user_id?} is expected.")
    return _settle(call, 143, "declined")


#: The categories a summary counts (amoCRM's: the official library's ``BaseUnsortedModel``).
CATEGORIES = ("sip", "mail", "forms", "chats")


def summary(call: Call) -> web.Response:
    """``GET /leads/unsorted/summary``, with ``filter[uid]``, ``filter[pipeline_id]``,
    ``filter[created_at]``: every item the filter takes, still incoming or not; its
    ``average_sort_time`` is the mean seconds from arrival to accept or decline, 0 when
    none is settled, and ``categories`` counts the items by category (**[inference]**:
    the reference names the keys, not how they are counted)."""
    query = call.record.query if isinstance(call.record.query, dict) else {}
    given = query.get("filter")
    filters: dict[str, Any] = given if isinstance(given, dict) else {}
    rest = {k: v for k, v in filters.items() if k != "uid"}
    listing = parse_listing({"filter": rest}, ("created_at", "updated_at", "id"))
    items = list(call.amo.store.records["unsorted"].values())
    if "uid" in filters:
        wanted = filters["uid"]
        values = (
            list(wanted.values())
            if isinstance(wanted, dict)
            else wanted
            if isinstance(wanted, list)
            else [wanted]
        )
        items = [r for r in items if r["uid"] in {str(w) for w in values}]
    chosen = listing.select(items, lambda r: r["source_name"].lower())
    settled = [r for r in chosen if r["state"] != "incoming"]
    waits = [max(0, r["updated_at"] - r["created_at"]) for r in settled]
    return hal(
        {
            "total": len(chosen),
            "accepted": sum(r["state"] == "accepted" for r in chosen),
            "declined": sum(r["state"] == "declined" for r in chosen),
            "average_sort_time": sum(waits) // len(waits) if waits else 0,
            "categories": {c: sum(r["category"] == c for r in chosen) for c in CATEGORIES},
            "_links": {"self": {"href": f"{call.base}/leads/unsorted/summary"}},
        }
    )
