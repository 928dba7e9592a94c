"""Which handler answers which ``METHOD /api/v4/...`` path, and the entity handlers:
create, complex create, get, patch (one and many) and list of leads, contacts and
companies.

Leads, contacts and companies have no ``DELETE`` in API v4: the official library's
``Leads``, ``Contacts`` and ``Companies`` services do not implement
``HasDeleteMethodInterface`` (custom fields, pipelines' statuses and webhooks do), so
``DELETE /api/v4/leads/1`` is a 405 here, as there.

Methods as HTTP has them (RFC 9110): ``HEAD`` on a path with ``GET`` is that ``GET``
without the body (aiohttp drops it; status and headers stay), and every 405 carries
the ``Allow`` header listing the path's methods (§15.5.6), never the refused ``DELETE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from . import account, event_types, events, relations, tasks, unsorted, webhooks
from . import tags as tag_catalogue
from .entities import (
    INCOMING,
    apply,
    blank,
    identity,
    searchable,
    shape_errors,
    shown,
    tags,
)
from .listing import parse_listing
from .problems import Invalid, hal, invalid, problem, request_id

if TYPE_CHECKING:
    from mockserver.journal import RecordedRequest

    from .profile import AmoCRM

__all__ = ["Call", "dispatch"]


@dataclass
class Call:
    """One API request as the handlers see it."""

    amo: AmoCRM
    record: RecordedRequest
    #: ``{origin}/api/v4``, or ``{origin}/amocrm/{subdomain}/api/v4`` under path routing.
    base: str
    params: dict[str, str]

    @property
    def moment(self) -> int:
        return int(self.amo.moment().timestamp())


Handler = Callable[[Call], web.Response]
_E = "(?P<entity>leads|contacts|companies)"
#: An id in a path: ASCII digits that fit in PHP's 64-bit int (``\d`` would take ``٣``, and
#: Python's ``int`` of 5 000 digits raises); anything else is no API method.
_ID = "[0-9]{1,19}"


@dataclass(frozen=True)
class Route:
    """One path of the API: its handlers by method, and the methods refused with a 405 of
    their own wording (``DELETE`` of a lead), which are no methods of the path."""

    pattern: re.Pattern[str]
    handlers: Mapping[str, Handler]
    refused: Mapping[str, Handler]

    @property
    def allow(self) -> str:
        """The ``Allow`` header of a 405: the methods, ``HEAD`` wherever ``GET`` is."""
        methods = set(self.handlers) | ({"HEAD"} if "GET" in self.handlers else set())
        return ", ".join(sorted(methods))


ROUTES: Final[list[Route]] = []


def route(
    pattern: str, *, refused: Mapping[str, Handler] | None = None, **handlers: Handler
) -> None:
    pattern = pattern.replace("{E}", _E).replace("{ID}", _ID)
    ROUTES.append(Route(re.compile(pattern + r"/?\Z"), handlers, refused or {}))


def dispatch(call: Call, path: str) -> web.Response:
    """Answer one request, or 404 / 405 (with ``Allow``) as problem+json."""
    method = call.record.method
    for known in ROUTES:
        found = known.pattern.fullmatch(path)
        if found is None:
            continue
        call.params = {k: v for k, v in found.groupdict().items() if v is not None}
        handler = known.handlers.get("GET" if method == "HEAD" else method)
        if handler is not None:
            return handler(call)
        refusal = known.refused.get(method)
        response = (
            refusal(call)
            if refusal is not None
            else problem(405, "Method Not Allowed", f"{method} {path}: use {known.allow}")
        )
        response.headers["Allow"] = known.allow
        return response
    return problem(404, "Not Found", f"{method} /api/v4{path} is not an API method")


# --- helpers ---------------------------------------------------------------------------


def items_of(call: Call) -> list[dict[str, Any]]:
    body = call.record.json
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise invalid("InvalidType", "", "An array of objects is expected.")
    if not body:
        raise invalid("NotBlank", "", "At least one item is expected.")
    if len(body) > 250:
        raise invalid("TooManyEntities", "", "No more than 250 items per request.")
    return body


def check_items(call: Call, entity: str, items: list[dict[str, Any]]) -> None:
    failures = []
    for index, item in enumerate(items):
        errors = call.amo.catalogue.check(
            entity, item.get("custom_fields_values"), "custom_fields_values"
        )
        errors += shape_errors(entity, item)
        errors += tag_catalogue.tag_errors(call.amo, entity, item)
        errors += relations.embedded_errors(call, entity, item)
        if errors:
            failures.append({"request_id": request_id(item, index), "errors": errors})
    if failures:
        raise Invalid(failures)


def create(call: Call, entity: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """Store a new (checked) item; links to the ids in its ``_embedded``; sends webhooks."""
    store = call.amo.store
    key = store.next_id(entity)
    record = blank(entity, key, call.moment)
    apply(entity, record, item, call.moment)
    record["updated_at"] = item.get("updated_at", record["created_at"])
    record["custom_fields_values"] = call.amo.catalogue.stored(
        entity, item.get("custom_fields_values")
    )
    record["_embedded"] = {"tags": tags([], item, _tagger(call, entity))}
    store.put(entity, key, record)
    events.record(call, f"{events.SINGULAR[entity]}_added", entity, key)
    relations.link_embedded(call, entity, key, item)
    webhooks.event(call, entity, "add", key)
    return store.records[entity][key]


def _tagger(call: Call, entity: str) -> Callable[[Mapping[str, Any], str], dict[str, Any]]:
    return lambda tag, where: tag_catalogue.resolve(call.amo, entity, tag, where)


def _list_body(call: Call, entity: str, answered: list[dict[str, Any]]) -> dict[str, Any]:
    return {"_links": {"self": {"href": f"{call.base}/{entity}"}}, "_embedded": {entity: answered}}


# --- entities --------------------------------------------------------------------------


def add_entities(call: Call) -> web.Response:
    entity = call.params["entity"]
    items = items_of(call)
    check_items(call, entity, items)
    answered = []
    for index, item in enumerate(items):
        stored = create(call, entity, item)
        answered.append(
            {
                "id": stored["id"],
                "request_id": request_id(item, index),
                "_links": {"self": {"href": f"{call.base}/{entity}/{stored['id']}"}},
            }
        )
    return hal(_list_body(call, entity, answered))


def update_entities(call: Call, items: list[dict[str, Any]] | None = None) -> web.Response:
    entity = call.params["entity"]
    items = items if items is not None else items_of(call)
    check_items(call, entity, items)
    known = call.amo.store.records[entity]
    missing = [
        {
            "request_id": request_id(item, index),
            "errors": [{"code": "NotFound", "path": "id", "detail": "Entity not found."}],
        }
        for index, item in enumerate(items)
        if _key(item) not in known
    ]
    if missing:
        raise Invalid(missing)
    answered = []
    for index, item in enumerate(items):
        known_before = known[_key(item)]
        current = dict(known_before)
        before = current.get("status_id")
        owner = current.get("responsible_user_id")
        apply(entity, current, item, call.moment)
        if "custom_fields_values" in item:
            current["custom_fields_values"] = call.amo.catalogue.merged(
                entity, current.get("custom_fields_values"), item["custom_fields_values"]
            )
        current["_embedded"] = {
            "tags": tags(current["_embedded"]["tags"], item, _tagger(call, entity))
        }
        call.amo.store.put(entity, current["id"], current)
        events.changed(call, entity, known_before, current)
        relations.link_embedded(call, entity, current["id"], item)
        webhooks.event(call, entity, "update", current["id"])
        if entity == "leads" and current.get("status_id") != before:
            webhooks.event(call, entity, "status", current["id"], old_status_id=before)
        if current.get("responsible_user_id") != owner:
            webhooks.event(
                call, entity, "responsible", current["id"], old_responsible_user_id=owner
            )
        answered.append(
            {
                "id": current["id"],
                "updated_at": current["updated_at"],
                "request_id": request_id(item, index),
                "_links": {"self": {"href": f"{call.base}/{entity}/{current['id']}"}},
            }
        )
    return hal(_list_body(call, entity, answered))


def update_one(call: Call) -> web.Response:
    body = call.record.json
    if not isinstance(body, dict):
        raise invalid("InvalidType", "", "An object is expected.")
    response = update_entities(call, [{**body, "id": int(call.params["id"])}])
    # PATCH /{entity}/{id} answers the one entity, not a list.
    entity = call.params["entity"]
    record = call.amo.store.records[entity][int(call.params["id"])]
    return (
        hal(
            {
                "id": record["id"],
                "updated_at": record["updated_at"],
                "_links": {"self": {"href": f"{call.base}/{entity}/{record['id']}"}},
            }
        )
        if response.status == 200
        else response
    )


def get_one(call: Call) -> web.Response:
    entity = call.params["entity"]
    found = call.amo.store.records[entity].get(int(call.params["id"]))
    if found is None:
        return web.Response(status=204)
    listing = parse_listing(call.record.query)
    return hal(shown(entity, found, call.base, listing.with_))


def list_entities(call: Call) -> web.Response:
    entity = call.params["entity"]
    listing = parse_listing(call.record.query)
    since = _modified_since(call)
    if since is not None:
        listing.tests.append(lambda record: record.get("updated_at", 0) > since)
    records = listing.select(list(call.amo.store.records[entity].values()), searchable)
    chunk = records[(listing.page - 1) * listing.limit : listing.page * listing.limit]
    if not chunk:
        return web.Response(status=204)
    return hal(
        {
            "_page": listing.page,
            "_links": page_links(
                call, entity, listing.page, listing.page * listing.limit < len(records)
            ),
            "_embedded": {entity: [shown(entity, r, call.base, listing.with_) for r in chunk]},
        }
    )


def _modified_since(call: Call) -> int | None:
    """``If-Modified-Since`` (an HTTP date): only what changed after it is listed."""
    from email.utils import parsedate_to_datetime

    text = call.record.headers.get("if-modified-since")
    if text is None:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise invalid(
            "InvalidType", "If-Modified-Since", f"An HTTP date is expected, got {text!r}."
        ) from None
    if moment.tzinfo is None:  # amoCRM's own example has no zone: read it as UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def page_links(call: Call, path: str, page: int, more: bool) -> dict[str, Any]:
    """``self``/``next``/``first``/``prev``, each the request's own query with another page."""
    query = [(k, v) for k, v in _pairs(call.record.query_string) if k != "page"]

    def href(number: int) -> dict[str, str]:
        from urllib.parse import urlencode

        text = urlencode([*query, ("page", str(number))])
        return {"href": f"{call.base}/{path}?{text}"}

    links = {"self": href(page)}
    if more:
        links["next"] = href(page + 1)
    if page > 1:
        links["first"] = href(1)
        links["prev"] = href(page - 1)
    return links


def _pairs(query_string: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query_string, keep_blank_values=True)


def _key(item: Mapping[str, Any]) -> int:
    value = item.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def complex_leads(call: Call) -> web.Response:
    """``POST /leads/complex``: a bare array back, ``request_id`` a list, ``merged``."""
    items = items_of(call)
    if len(items) > 50:
        raise invalid("TooManyEntities", "", "No more than 50 leads.")
    failures = []
    for index, item in enumerate(items):
        errors = call.amo.catalogue.check(
            "leads", item.get("custom_fields_values"), "custom_fields_values"
        )
        errors += shape_errors("leads", item)
        given = item.get("_embedded")
        embedded: dict[str, Any] = given if isinstance(given, dict) else {}
        metadata = embedded.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            errors.append(
                {
                    "code": "InvalidType",
                    "path": "_embedded.metadata",
                    "detail": "An object is expected.",
                }
            )
        for kind in ("contacts", "companies"):
            listed = embedded.get(kind) or []
            if isinstance(listed, list) and len(listed) > 1:
                errors.append(
                    {
                        "code": "TooManyEntities",
                        "path": f"_embedded.{kind}",
                        "detail": f"No more than one of {kind} per lead.",
                    }
                )
            for number, entry in enumerate(listed if isinstance(listed, list) else []):
                if isinstance(entry, dict):
                    errors += call.amo.catalogue.check(
                        kind,
                        entry.get("custom_fields_values"),
                        f"_embedded.{kind}.{number}.custom_fields_values",
                    )
                    errors += [
                        {**e, "path": f"_embedded.{kind}.{number}.{e['path']}"}
                        for e in shape_errors(kind, entry)
                        + relations.embedded_errors(call, kind, entry)
                    ]
        if errors:
            failures.append({"request_id": request_id(item, index), "errors": errors})
    if failures:
        raise Invalid(failures)
    out = []
    for index, item in enumerate(items):
        embedded = dict(item.get("_embedded") or {})
        contacts = embedded.pop("contacts", None) or []
        companies = embedded.pop("companies", None) or []
        ids = [request_id(item, index)]
        twin = _duplicate(call, contacts[0]) if contacts and call.amo.duplicate_control else None
        if twin is not None:
            out.append({**twin, "request_id": ids, "merged": True})
            continue
        fields = {**item, "_embedded": embedded}
        if isinstance(embedded.get("metadata"), dict):
            # With metadata the lead is an incoming one: "any status other than the
            # incoming lead will be ignored" (Kommo, complex-leads).
            fields["status_id"] = INCOMING
        lead = create(call, "leads", fields)
        contact = create(call, "contacts", contacts[0]) if contacts else None
        company = create(call, "companies", companies[0]) if companies else None
        if contact is not None:
            relations.link(
                call, "leads", lead["id"], "contacts", contact["id"], {"main_contact": True}
            )
        if company is not None:
            relations.link(call, "leads", lead["id"], "companies", company["id"], None)
        if contact is not None and company is not None:
            relations.link(call, "contacts", contact["id"], "companies", company["id"], None)
        result = {
            "id": lead["id"],
            "contact_id": contact["id"] if contact else None,
            "company_id": company["id"] if company else None,
        }
        if contact is not None:
            key = identity(contact["custom_fields_values"])
            if key:
                call.amo.store.set_meta(f"dup:{key}", result)
        out.append({**result, "request_id": ids, "merged": False})
    return web.json_response(out, content_type="application/hal+json")


def _duplicate(call: Call, contact: Mapping[str, Any]) -> dict[str, Any] | None:
    key = identity(call.amo.catalogue.stored("contacts", contact.get("custom_fields_values")))
    found = call.amo.store.meta.get(f"dup:{key}") if key else None
    return dict(found) if isinstance(found, dict) else None


def not_deletable(call: Call) -> web.Response:
    entity = call.params["entity"]
    return problem(
        405,
        "Method Not Allowed",
        f"{entity} cannot be deleted through the API (amoCRM API v4 has no DELETE for them)",
    )


route("/account", GET=account.get_account)
route("/leads/pipelines", GET=account.list_pipelines)
route(r"/leads/pipelines/(?P<id>{ID})", GET=account.get_pipeline)
route(r"/leads/pipelines/(?P<id>{ID})/statuses", GET=account.list_statuses)
route(r"/leads/pipelines/(?P<id>{ID})/statuses/(?P<status>{ID})", GET=account.get_status)
route("/users", GET=account.list_users)
route(r"/users/(?P<id>{ID})", GET=account.get_user)
route(
    "/{E}/custom_fields",
    GET=account.list_fields,
    POST=account.add_fields,
    PATCH=account.change_fields,
)
route(
    r"/{E}/custom_fields/(?P<id>{ID})",
    GET=account.get_field,
    PATCH=account.change_fields,
    DELETE=account.delete_field,
)
route("/leads/complex", POST=complex_leads)
route("/events", GET=events.list_events)
route("/events/types", GET=event_types.list_event_types)  # before an event's id
route("/events/(?P<id>[0-9a-z]{1,64})", GET=events.get_event)
route("/{E}/tags", GET=tag_catalogue.list_tags, POST=tag_catalogue.add_tags)
route(
    "/{E}/notes", GET=relations.list_notes, POST=relations.add_notes, PATCH=relations.update_notes
)
route(
    r"/{E}/(?P<id>{ID})/notes",
    GET=relations.list_notes,
    POST=relations.add_notes,
    PATCH=relations.update_notes,
)
route(
    r"/{E}/(?P<id>{ID})/notes/(?P<note>{ID})", GET=relations.get_note, PATCH=relations.update_note
)
route(r"/{E}/(?P<id>{ID})/link", POST=relations.link_many)
route(r"/{E}/(?P<id>{ID})/unlink", POST=relations.unlink_many)
route(r"/{E}/(?P<id>{ID})/links", GET=relations.list_links)
route("/{E}/link", POST=relations.link_many)
route("/{E}/unlink", POST=relations.unlink_many)
route("/leads/unsorted", GET=unsorted.list_unsorted)
route("/leads/unsorted/summary", GET=unsorted.summary)
route("/leads/unsorted/(?P<category>forms|sip)", POST=unsorted.add_unsorted)
route("/leads/unsorted/(?P<uid>[0-9a-f]{40})", GET=unsorted.get_unsorted)
route("/leads/unsorted/(?P<uid>[0-9a-f]{40})/accept", POST=unsorted.accept)
route("/leads/unsorted/(?P<uid>[0-9a-f]{40})/decline", DELETE=unsorted.decline)
route("/tasks", GET=tasks.list_tasks, POST=tasks.add_tasks, PATCH=tasks.update_tasks)
route(r"/tasks/(?P<id>{ID})", GET=tasks.get_task, PATCH=tasks.update_task)
route("/webhooks", GET=webhooks.list_hooks, POST=webhooks.subscribe, DELETE=webhooks.unsubscribe)
_UNDELETABLE: Final = {"DELETE": not_deletable}
route(
    "/{E}",
    GET=list_entities,
    POST=add_entities,
    PATCH=update_entities,
    refused=_UNDELETABLE,
)
route(r"/{E}/(?P<id>{ID})", GET=get_one, PATCH=update_one, refused=_UNDELETABLE)
