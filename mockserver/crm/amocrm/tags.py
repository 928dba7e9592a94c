"""Tags: one catalogue per entity type, as amoCRM keeps them
(https://www.amocrm.ru/developers/content/crm_platform/tags-api; the official library's
``Tags`` service and ``TagsFilter``).

``GET /api/v4/{entity}/tags`` lists them (``filter[name]``, ``filter[id]``, ``query``,
``page``/``limit``; 204 when none); ``POST /api/v4/{entity}/tags`` creates them from
``[{name, color?, request_id?}]``. A tag written on an entity by name
(``_embedded.tags[{name}]``, ``tags_to_add``) is the catalogue's tag of that name, made
when new, so the same name has the same id on every lead; by ``id`` it must be in the
catalogue. The catalogue lives in the store (``tags:{entity}``), so ``--data`` keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .listing import parse_listing
from .problems import Invalid, hal, invalid, request_id

if TYPE_CHECKING:
    from .profile import AmoCRM
    from .routes import Call

__all__ = ["MAX_TAGS", "add_tags", "list_tags", "resolve", "tag_errors"]

#: Tags per entity type, at most (a write that would make another is refused).
MAX_TAGS: Final = 10_000


def _kind(entity: str) -> str:
    return f"tags:{entity}"


def _by_name(amo: AmoCRM, entity: str, name: str) -> dict[str, Any] | None:
    index: dict[str, int] = amo.tag_index.setdefault(entity, {})
    records = amo.store.records[_kind(entity)]
    if len(index) != len(records):  # built again after a restart or a reset
        index.clear()
        index.update({r["name"]: key for key, r in records.items()})
    key = index.get(name)
    return records.get(key) if key is not None else None


def resolve(amo: AmoCRM, entity: str, tag: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The catalogue's ``{id, name, color}`` for a tag written as ``{name}`` (made when new)
    or ``{id}``; :class:`Invalid` at ``where`` for an unknown id or a tag without either."""
    records = amo.store.records[_kind(entity)]
    key = tag.get("id")
    name = tag.get("name")
    if isinstance(name, str) and name.strip():
        found = _by_name(amo, entity, name)
        if found is not None:
            return found
        if len(records) >= MAX_TAGS:
            raise invalid(
                "TooManyEntities", where, f"No more than {MAX_TAGS} tags per entity type."
            )
        color = tag.get("color")
        new_id = amo.store.next_id(_kind(entity))
        made: dict[str, Any] = {
            "id": new_id,
            "name": name,
            "color": color if isinstance(color, str) and entity == "leads" else None,
        }
        amo.store.put(_kind(entity), new_id, made)
        amo.tag_index.setdefault(entity, {})[name] = new_id
        return made
    if isinstance(key, int) and not isinstance(key, bool) and key in records:
        return records[key]
    raise invalid("NotSupportedChoice", where, "A tag is {name} or the {id} of a known tag.")


def tag_errors(amo: AmoCRM, entity: str, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What is wrong with an item's ``_embedded.tags`` and ``tags_to_add``, before anything
    is written: each is an object with a name, or the id of a known tag."""
    embedded = item.get("_embedded")
    listed = embedded.get("tags") if isinstance(embedded, dict) else None
    added = item.get("tags_to_add")
    if added is not None and not isinstance(added, list):
        return [{"code": "InvalidType", "path": "tags_to_add", "detail": "An array is expected."}]
    written = [(f"tags_to_add.{n}", tag) for n, tag in enumerate(added or [])]
    if isinstance(listed, list):  # anything else is shape_errors' to name
        written += [(f"_embedded.tags.{n}", tag) for n, tag in enumerate(listed)]
    errors = []
    records = amo.store.records[_kind(entity)]
    for where, tag in written:
        name = tag.get("name") if isinstance(tag, dict) else None
        key = tag.get("id") if isinstance(tag, dict) else None
        if isinstance(name, str) and name.strip():
            continue
        if isinstance(key, int) and not isinstance(key, bool) and key in records:
            continue
        errors.append(
            {
                "code": "NotSupportedChoice",
                "path": where,
                "detail": "A tag is {name} or the {id} of a known tag.",
            }
        )
    return errors


def list_tags(call: Call) -> web.Response:
    from .routes import page_links

    entity = call.params["entity"]
    listing = parse_listing(call.record.query, ("id",))
    found = listing.select(
        list(call.amo.store.records[_kind(entity)].values()), lambda t: str(t["name"]).lower()
    )
    chunk = found[(listing.page - 1) * listing.limit : listing.page * listing.limit]
    if not chunk:
        return web.Response(status=204)
    return hal(
        {
            "_page": listing.page,
            "_links": page_links(
                call, f"{entity}/tags", listing.page, listing.page * listing.limit < len(found)
            ),
            "_embedded": {"tags": chunk},
        }
    )


def add_tags(call: Call) -> web.Response:
    entity = call.params["entity"]
    body = call.record.json
    if not isinstance(body, list) or not body:
        raise invalid("InvalidType", "", "A non-empty array of tags is expected.")
    failures = []
    for index, item in enumerate(body):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip():
            failures.append(
                {
                    "request_id": request_id(item, index),
                    "errors": [
                        {"code": "NotBlank", "path": "name", "detail": "A tag needs a name."}
                    ],
                }
            )
    if failures:
        raise Invalid(failures)
    made = [
        {**resolve(call.amo, entity, item, "name"), "request_id": request_id(item, n)}
        for n, item in enumerate(body)
    ]
    return hal({"_embedded": {"tags": made}})
