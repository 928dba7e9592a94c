"""Leads, contacts and companies as amoCRM stores and shows them.

The shapes follow the documentation's examples
(https://www.amocrm.ru/developers/content/crm_platform/leads-api "Одна сделка",
…/contacts-api, …/companies-api): every documented key present, ``null`` where
unset (``loss_reason_id``, ``source_id``, ``closed_at``, ``closest_task_at``,
``score``), ``_embedded.tags`` and ``_embedded.companies`` always, the other
linked entities only with ``with=`` (``contacts`` on leads, ``leads`` on contacts
and companies, ``contacts`` on companies), as the official library's
``LeadModel::CONTACTS`` / ``ContactModel::LEADS`` with-constants ask for them.

Links live on both records (``_linked``, never shown): a lead linked to a contact
is in the contact's ``leads`` too, as in amoCRM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = [
    "ENTITIES",
    "LINKABLE",
    "PIPELINE",
    "USER_ID",
    "WRITABLE",
    "identity",
    "php_int",
    "searchable",
    "shape_errors",
    "shown",
]

ENTITIES: Final = ("leads", "contacts", "companies")
#: What each entity can be linked to (official library ``getAvailableLinkTypes``).
LINKABLE: Final[dict[str, tuple[str, ...]]] = {
    "leads": ("contacts", "companies"),
    "contacts": ("leads", "companies"),
    "companies": ("leads", "contacts"),
}
#: The one pipeline of the fake account: id, name and statuses (id, name, type).
PIPELINE: Final[dict[str, Any]] = {
    "id": 1,
    "name": "Воронка",
    "statuses": [
        (10, "Неразобранное", 1),
        (11, "Первичный контакт", 0),
        (12, "Переговоры", 0),
        (142, "Успешно реализовано", 0),
        (143, "Закрыто и не реализовано", 0),
    ],
}
#: The account's one user (an administrator; ``GET /users/1``).
USER_ID: Final = 1
FIRST_STATUS: Final = 11
INCOMING: Final = 10
CLOSED: Final = frozenset({142, 143})

#: Keys a PATCH may change, per entity (custom fields and tags are handled apart).
WRITABLE: Final[dict[str, tuple[str, ...]]] = {
    "leads": (
        "name",
        "price",
        "status_id",
        "pipeline_id",
        "responsible_user_id",
        "created_by",
        "updated_by",
        "created_at",
        "closed_at",
        "loss_reason_id",
        "source_id",
        "closest_task_at",
    ),
    "contacts": (
        "name",
        "first_name",
        "last_name",
        "responsible_user_id",
        "created_by",
        "updated_by",
        "created_at",
    ),
    "companies": ("name", "responsible_user_id", "created_by", "updated_by", "created_at"),
}
_INTS: Final = frozenset(
    {
        "price",
        "status_id",
        "pipeline_id",
        "responsible_user_id",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "closed_at",
        "loss_reason_id",
        "source_id",
        "closest_task_at",
    }
)
_TEXTS: Final = frozenset({"name", "first_name", "last_name"})
_INT64: Final = 2**63


def php_int(value: Any) -> bool:
    """Whether ``value`` is what amoCRM's "This value should be of type int." takes: a
    JSON integer PHP reads as an ``int``; not a boolean, not a float, and not a number
    past 64 bits, which PHP's ``json_decode`` reads as a float (**[inference]**)."""
    return isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64


def blank(entity: str, key: int, moment: int) -> dict[str, Any]:
    """A new record with every documented key, before the item's values are applied."""
    record: dict[str, Any] = {
        "id": key,
        "name": "",
        "responsible_user_id": 1,
        "group_id": 0,
        # The token's user (its JWT's ``sub``), the account's one user: what a real
        # account writes for a change made through the API with a user's token.
        "created_by": USER_ID,
        "updated_by": USER_ID,
        "created_at": moment,
        "updated_at": moment,
        "closest_task_at": None,
        "is_deleted": False,
        "custom_fields_values": None,
        "account_id": 1,
        "_embedded": {"tags": []},
        "_linked": {},
    }
    if entity == "leads":
        record.update(
            {
                "name": f"Сделка #{key}",
                "price": 0,
                "status_id": FIRST_STATUS,
                "pipeline_id": PIPELINE["id"],
                "loss_reason_id": None,
                "source_id": None,
                "closed_at": None,
                "score": None,
                "labor_cost": None,
            }
        )
    elif entity == "contacts":
        record.update({"first_name": "", "last_name": "", "is_unsorted": False})
    return record


def apply(entity: str, record: dict[str, Any], item: Mapping[str, Any], moment: int) -> None:
    """Write an item's plain values onto a record (checked before)."""
    for key in WRITABLE[entity]:
        if key in item:
            record[key] = item[key]
    if (
        entity == "contacts"
        and "name" not in item
        and ("first_name" in item or "last_name" in item)
    ):
        parts = (record.get("first_name"), record.get("last_name"))
        record["name"] = " ".join(str(part) for part in parts if part)
    if entity == "leads":
        if record["status_id"] in CLOSED and record["closed_at"] is None:
            record["closed_at"] = moment
        elif record["status_id"] not in CLOSED and "closed_at" not in item:
            record["closed_at"] = None
    record["updated_at"] = item.get("updated_at", moment)


def shape_errors(entity: str, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Type checks on one item: numbers are ints, names text, ``_embedded`` lists of objects."""
    errors: list[dict[str, Any]] = []
    for key, value in item.items():
        if key in _INTS and value is not None and not php_int(value):
            errors.append(
                {"code": "InvalidType", "path": key, "detail": "This value should be of type int."}
            )
        elif key in _TEXTS and not isinstance(value, str):
            errors.append(
                {
                    "code": "InvalidType",
                    "path": key,
                    "detail": "This value should be of type string.",
                }
            )
    if entity == "leads":
        status = item.get("status_id")
        statuses = [status_id for status_id, _, _ in PIPELINE["statuses"]]
        if isinstance(status, int) and not isinstance(status, bool) and status not in statuses:
            errors.append(
                {
                    "code": "NotSupportedChoice",
                    "path": "status_id",
                    "detail": "The value you selected is not a valid choice.",
                }
            )
        pipeline = item.get("pipeline_id")
        if (
            isinstance(pipeline, int)
            and not isinstance(pipeline, bool)
            and pipeline != PIPELINE["id"]
        ):
            errors.append(
                {
                    "code": "NotSupportedChoice",
                    "path": "pipeline_id",
                    "detail": "The value you selected is not a valid choice.",
                }
            )
    for key in ("tags_to_add", "tags_to_delete"):
        value = item.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(entry, dict) for entry in value)
        ):
            errors.append(
                {"code": "InvalidType", "path": key, "detail": "An array of objects is expected."}
            )
    embedded = item.get("_embedded")
    if embedded is None:
        return errors
    if not isinstance(embedded, dict):
        return [
            *errors,
            {"code": "InvalidType", "path": "_embedded", "detail": "An object is expected."},
        ]
    tags = embedded.get("tags")
    if isinstance(tags, list) and any(
        isinstance(tag, dict) and not isinstance(tag.get("name", ""), str) for tag in tags
    ):
        errors.append(
            {"code": "InvalidType", "path": "_embedded.tags", "detail": "A tag's name is text."}
        )
    for kind in ("tags", "contacts", "companies", "leads"):
        value = embedded.get(kind)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(entry, dict) for entry in value)
        ):
            errors.append(
                {
                    "code": "InvalidType",
                    "path": f"_embedded.{kind}",
                    "detail": "An array of objects is expected.",
                }
            )
    return errors


def tags(
    current: list[dict[str, Any]],
    item: Mapping[str, Any],
    resolve: Callable[[Mapping[str, Any], str], dict[str, Any]],
) -> list[dict[str, Any]]:
    """The tags after a write: ``_embedded.tags`` replaces them; ``tags_to_add`` and
    ``tags_to_delete`` edit them. ``resolve`` gives the catalogue's tag for ``{name}`` or
    ``{id}`` (:mod:`.tags`)."""
    embedded = item.get("_embedded")
    result = list(current)
    if isinstance(embedded, dict) and isinstance(embedded.get("tags"), list):
        result = []
        for number, tag in enumerate(embedded["tags"]):
            _add_tag(result, resolve(tag, f"_embedded.tags.{number}"))
    for number, tag in enumerate(item.get("tags_to_add") or []):
        _add_tag(result, resolve(tag, f"tags_to_add.{number}"))
    gone = item.get("tags_to_delete") or []
    names = {t.get("name") for t in gone if isinstance(t, dict)}
    ids = {t.get("id") for t in gone if isinstance(t, dict)}
    return [t for t in result if t["name"] not in names and t["id"] not in ids]


def _add_tag(result: list[dict[str, Any]], tag: Mapping[str, Any]) -> None:
    if all(t["id"] != tag["id"] for t in result):
        result.append({"id": tag["id"], "name": tag["name"], "color": tag["color"]})


def shown(
    entity: str, record: Mapping[str, Any], base: str, with_: frozenset[str]
) -> dict[str, Any]:
    """A record as ``GET`` shows it, with ``_links`` under ``base`` and the asked ``with``."""
    out = {k: v for k, v in record.items() if k != "_linked"}
    linked: dict[str, list[dict[str, Any]]] = record.get("_linked", {})
    embedded: dict[str, Any] = {"tags": list(record.get("_embedded", {}).get("tags", []))}
    if entity != "companies":
        embedded["companies"] = [
            _ref(base, "companies", link) for link in linked.get("companies", [])
        ]
    wanted = {"leads": ("contacts",), "contacts": ("leads",), "companies": ("contacts", "leads")}
    for kind in wanted[entity]:
        if kind in with_:
            refs = [_ref(base, kind, link) for link in linked.get(kind, [])]
            if kind == "contacts" and entity == "leads":
                for ref, link in zip(refs, linked.get(kind, []), strict=True):
                    ref["is_main"] = bool(link.get("metadata", {}).get("main_contact"))
            embedded[kind] = refs
    out["_embedded"] = embedded
    out["_links"] = {"self": {"href": f"{base}/{entity}/{record['id']}"}}
    return out


def _ref(base: str, kind: str, link: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": link["id"], "_links": {"self": {"href": f"{base}/{kind}/{link['id']}"}}}


def identity(stored_fields: list[dict[str, Any]] | None) -> str:
    """Duplicate control's key: the first phone, else the first e-mail, digits and case folded."""
    for code in ("PHONE", "EMAIL"):
        for field in stored_fields or []:
            if field.get("field_code") == code and field.get("values"):
                value = str(field["values"][0].get("value", ""))
                folded = (
                    "".join(ch for ch in value if ch.isdigit())
                    if code == "PHONE"
                    else value.lower()
                )
                return f"{code}:{folded}"
    return ""


def searchable(record: Mapping[str, Any]) -> str:
    """What ``query=`` searches: the name and every custom-field value, lower-cased, one
    a line (a phone-like query matches the digits of one of them)."""
    texts = [str(record.get("name", ""))]
    for field in record.get("custom_fields_values") or []:
        texts += [str(value.get("value", "")) for value in field.get("values", [])]
    return "\n".join(texts).lower()
