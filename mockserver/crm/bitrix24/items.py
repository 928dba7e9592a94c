"""The universal ``crm.item.*`` methods over the classic entities' store.

``crm.item.add``, ``.get``, ``.list``, ``.update``, ``.delete`` and ``.fields``
(``api-reference/crm/universal/crm-item-*.md`` in bitrix24/b24restdocs) for the system
types the fake keeps: ``entityTypeId`` 1 (lead), 2 (deal), 3 (contact), 4 (company).
Each call is translated into the classic method's own (:class:`~.records.Records`), so a
lead written by ``crm.lead.add`` is the item ``crm.item.get`` reads, and the reverse;
only the names and the answer's shape differ:

- field names are camelCase (``TITLE`` is ``title``, ``ASSIGNED_BY_ID`` ``assignedById``),
  with the renames the docs show (``DATE_CREATE`` is ``createdTime``, ``CREATED_BY_ID``
  ``createdBy``, a lead's ``STATUS_ID`` its ``stageId``, ``crm-item-get.md``'s example);
- a custom field ``UF_CRM_1720019876534`` is ``ufCrm_1720019876534`` (the example in
  ``crm-item-get.md``): an underscore before a letter goes, the letter upper-cased, one
  before a digit stays; ``useOriginalUfNames=Y`` keeps ``UF_CRM_…`` both ways;
- the multifields are one ``fm`` list of ``{id, typeId, valueType, value}``;
- numbers are numbers (``id``, ``assignedById``, ``opportunity``), ``Y``/``N`` stay texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .extras import Result
from .filters import split_key
from .records import multifields
from .schema import ENTITIES, FIELDS, BitrixError, items, php_int, text, whole_number

if TYPE_CHECKING:
    from .records import Records

__all__ = ["OPS", "item_call", "item_entity"]

OPS: Final = ("add", "get", "list", "update", "delete", "fields")
#: ``data-types.md#object_type``: the system types' ids.
_TYPES: Final = {1: "lead", 2: "deal", 3: "contact", 4: "company"}
#: Names the item API does not derive from the classic ones (``crm-item-get.md``).
_RENAMED: Final = {
    "DATE_CREATE": "createdTime",
    "DATE_MODIFY": "updatedTime",
    "CREATED_BY_ID": "createdBy",
    "MODIFY_BY_ID": "updatedBy",
    "MOVED_BY_ID": "movedBy",
}
_LEAD_RENAMED: Final = {"STATUS_ID": "stageId", "STATUS_SEMANTIC_ID": "stageSemanticId"}
_NUMBERS: Final = frozenset(
    {"integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_quote", "crm_category"}
)
_TRUE: Final = ("Y", "y", "1", "true", True, 1)


def camel(name: str) -> str:
    """``ASSIGNED_BY_ID`` as ``assignedById``, ``UF_CRM_1720019876534`` as
    ``ufCrm_1720019876534`` (an underscore before a digit stays)."""
    head, *rest = name.lower().split("_")
    return head + "".join(part.capitalize() if part[:1].isalpha() else "_" + part for part in rest)


def item_entity(params: Mapping[str, Any]) -> str:
    entity = _TYPES.get(php_int(params.get("entitytypeid")))
    if entity is None or entity not in ENTITIES:
        # crm-item-list.md, "Possible Error Codes": an invalid entityTypeId.
        raise BitrixError("NOT_FOUND", "Smart process not found")
    return entity


class _Names:
    """One entity's names both ways, the custom fields as the call wants them."""

    def __init__(self, records: Records, entity: str, original_uf: bool) -> None:
        self.to_item: dict[str, str] = {}
        renamed = {**_RENAMED, **(_LEAD_RENAMED if entity == "lead" else {})}
        for name in FIELDS[entity]:
            self.to_item[name] = renamed.get(name, camel(name))
        self.custom = set(records.userfields(entity))
        for name in self.custom:
            self.to_item[name] = name if original_uf else camel(name)
        self.to_classic = {item: classic for classic, item in self.to_item.items()}

    def classic(self, name: Any) -> str | None:
        return self.to_classic.get(str(name))


def item_call(records: Records, op: str, params: Mapping[str, Any]) -> Result:
    entity = item_entity(params)
    names = _Names(records, entity, params.get("useoriginalufnames") in _TRUE)
    if op == "fields":
        described = records.describe_fields(entity)
        fields = {
            names.to_item[name]: {**spec, "upperName": name}
            for name, spec in described.items()
            if name in names.to_item
        }
        return {"fields": fields}, None
    if op == "list":
        return _list(records, entity, names, params)
    if op == "add":
        new_id = records.add(entity, {"fields": _classic_fields(entity, names, params)})
        return {"item": _shown(records, entity, names, new_id)}, None
    record_id = _item_id(records, entity, params)
    if op == "get":
        return {"item": _shown(records, entity, names, record_id)}, None
    if op == "update":
        fields = _classic_fields(entity, names, params)
        records.update(entity, {"id": record_id, "fields": fields})
        return {"item": _shown(records, entity, names, record_id)}, None
    records.store.delete(entity, record_id)  # op == "delete": crm-item-delete.md, []
    return [], None


def _item_id(records: Records, entity: str, params: Mapping[str, Any]) -> int:
    number = php_int(params.get("id"))
    if number <= 0 or number not in records.store.records[entity]:
        raise BitrixError("NOT_FOUND", "Element not found")  # crm-item-get.md's example
    return number


def _classic_fields(entity: str, names: _Names, params: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` in the classic names; a name the item API does not have is ignored
    (``crm-item-add.md``: "An incorrect field in fields will be ignored")."""
    fields = params.get("fields")
    if fields == []:
        fields = {}
    if not isinstance(fields, Mapping):
        raise BitrixError("INVALID_ARG_VALUE", "Parameter 'fields' must be an object")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "fm" and multifields(entity):  # a deal has none: an unknown field
            for entry in items(value):
                kind = text(entry.get("typeId")).upper() if isinstance(entry, Mapping) else ""
                if kind not in multifields(entity) or not isinstance(entry, Mapping):
                    raise BitrixError(
                        "INVALID_ARG_VALUE",
                        "fm: each entry is an object whose typeId is one of "
                        f"{', '.join(multifields(entity))}; got {text(entry)[:80]!r}",
                    )
                one = {"VALUE": entry.get("value"), "VALUE_TYPE": entry.get("valueType")}
                if entry.get("id") is not None:
                    one["ID"] = entry.get("id")
                out.setdefault(kind, []).append(one)
            continue
        classic = names.classic(key)
        if classic is not None and classic != "ID":
            out[classic] = value
    return out


def _shown(records: Records, entity: str, names: _Names, record_id: int) -> dict[str, Any]:
    classic = records.shown(entity, records.store.records[entity][record_id])
    return {**_item(entity, names, classic), "entityTypeId": _type_id(entity)}


def _type_id(entity: str) -> int:
    return next(number for number, name in _TYPES.items() if name == entity)


def _item(entity: str, names: _Names, classic: Mapping[str, Any]) -> dict[str, Any]:
    kinds = FIELDS[entity]
    out: dict[str, Any] = {}
    fm: list[dict[str, Any]] = []
    for name, value in classic.items():
        if name in multifields(entity):
            for entry in value or []:
                fm.append(
                    {
                        "id": whole_number(text(entry.get("ID"))),
                        "valueType": entry.get("VALUE_TYPE"),
                        "value": entry.get("VALUE"),
                        "typeId": name,
                    }
                )
            continue
        item_name = names.to_item.get(name)
        if item_name is None:
            continue
        out[item_name] = _typed(kinds.get(name), value)
    out["fm"] = fm
    return out


def _typed(kind: str | None, value: Any) -> Any:
    if value is None or value == "":
        return None if kind in _NUMBERS or kind == "double" else value
    if kind in _NUMBERS:
        number = whole_number(text(value))
        return value if number is None else number
    if kind == "double":
        try:
            return float(text(value))
        except ValueError:
            return value
    return value


def _list(records: Records, entity: str, names: _Names, params: Mapping[str, Any]) -> Result:
    """``crm-item-list.md``: ``select``, ``filter`` (the classic operators), ``order``
    (``ASC``/``DESC``), ``start``; a field the entity lacks is the documented
    ``INVALID_ARG_VALUE``. ``logic``/nested filters are refused, not ignored."""
    filters = params.get("filter") or {}
    order = params.get("order") or {}
    if not isinstance(filters, Mapping):
        raise BitrixError("INVALID_ARG_VALUE", "Invalid filter: an object is expected")
    if not isinstance(order, Mapping):
        raise BitrixError("INVALID_ARG_VALUE", "Invalid order: an object is expected")
    classic_filter: dict[str, Any] = {}
    for key, value in filters.items():
        operator, _ = split_key(key)
        field = str(key)[len(operator) :]
        if isinstance(value, Mapping) or str(key).lower() == "logic":
            # crm-item-list.md allows nesting with "logic": "OR"; this fake does not.
            raise BitrixError(
                "INVALID_ARG_VALUE",
                f"Invalid filter: nested conditions ('{key}') are not supported by this fake",
            )
        classic = names.classic(field)
        if classic is None:
            raise BitrixError(
                "INVALID_ARG_VALUE", f"Invalid filter: field '{field}' is not allowed in filter"
            )
        classic_filter[operator + classic] = value
    classic_order: dict[str, str] = {}
    for key, direction in order.items():
        classic = names.classic(key)
        if classic is None:
            raise BitrixError(
                "INVALID_ARG_VALUE", f"Invalid order: field '{key}' is not allowed in order"
            )
        if text(direction).upper() not in ("ASC", "DESC"):
            raise BitrixError(
                "INVALID_ARG_VALUE",
                "Invalid order: allowed sort directions are ASC, DESC. "
                f"But got '{text(direction)}' for field '{key}'",
            )
        classic_order[classic] = text(direction).upper()
    select = params.get("select")
    wanted = {str(name) for name in items(select)} if select not in (None, "") else {"*"}
    page, extra = records.list(
        entity,
        {
            "filter": classic_filter,
            "order": classic_order,
            "start": max(php_int(params.get("start", 0)), 0),
            "select": ["*", "UF_*", *multifields(entity)],
        },
    )
    shown = []
    for classic in page:
        item = _item(entity, names, classic)
        if "*" not in wanted:
            item = {key: value for key, value in item.items() if key in wanted or key == "id"}
        shown.append(item)
    return {"items": shown}, extra
