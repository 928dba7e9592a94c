"""What the CRM methods share, and the ones beside the entities: custom fields
(``crm.{entity}.userfield.*``), timeline comments and the duplicate search."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .filters import compile_filter
from .schema import (
    ENTITY_TYPE_IDS,
    PAGE,
    USER_TYPES,
    BitrixError,
    array_param,
    items,
    php_int,
    shown_value,
    text,
    whole_number,
)

if TYPE_CHECKING:
    from mockserver.crm.base import Clock
    from mockserver.crm.store import Store

__all__ = ["Extras", "Result"]

Result = tuple[Any, dict[str, Any] | None]
_UF_NAME: Final = re.compile(r"[A-Z0-9_]{1,50}")
#: Custom fields per entity, and an enumeration's items (**decision**: the fake's own
#: bounds; every record view carries every custom field, and an item's id is its field's
#: id × 100 + its place, so a 100th item would take the next field's first id).
MAX_USERFIELDS: Final = 500
MAX_LIST_ITEMS: Final = 99
#: The most one custom field's description may weigh as JSON (labels, SETTINGS, XML_ID,
#: LIST items): 500 fields per entity must not each hold a request body (**decision**).
MAX_USERFIELD_BYTES: Final = 32 * 1024


def _weighed(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec``, or ``ERROR_CORE`` when it weighs more than :data:`MAX_USERFIELD_BYTES`."""
    size = len(json.dumps(spec, ensure_ascii=False, default=str).encode("utf-8", "replace"))
    if size > MAX_USERFIELD_BYTES:
        raise BitrixError(
            "ERROR_CORE",
            f"A custom field's description is at most {MAX_USERFIELD_BYTES // 1024} KiB "
            f"(labels, SETTINGS, XML_ID and LIST; the fake's bound); this one is {size} bytes",
        )
    return spec


class Extras:
    """The portal that mixes this in has a store, a clock and a user."""

    store: Store
    clock: Clock
    user_id: str

    def _now_text(self) -> str:
        return self.clock.now().isoformat(timespec="seconds")

    def userfields(self, entity: str) -> dict[str, dict[str, Any]]:
        """The entity's custom fields by ``FIELD_NAME`` (``UF_CRM_…``)."""
        defined: dict[str, dict[str, dict[str, Any]]] = self.store.meta.get("userfields", {})
        return defined.get(entity, {})

    def _fields_param(self, params: Mapping[str, Any], *, required: bool = False) -> dict[str, Any]:
        """``fields`` with upper-case names. ``required`` (an entity's ``.add`` and
        ``.update``): absent, ``null``, ``""`` or a scalar is the documented "Parameter
        'fields' must be array." (``crm-deal-add.md``, ``crm-contact-add.md``: "fields is
        not an object"; the Russian edition's ``crm-contact-company-add.md``: "not passed,
        or passed as a string or number"), as PHP's ``is_array`` check refuses them; an
        empty object (or ``[]``, the same array in PHP) is an array, and passes."""
        fields = params.get("fields")
        if fields == []:
            return {}
        if fields in ("", None) and not required:
            return {}
        if not isinstance(fields, Mapping):
            raise BitrixError("", "Parameter 'fields' must be array.")
        return {str(key).upper(): value for key, value in fields.items()}

    def _find(self, entity: str, params: Mapping[str, Any], key: str = "id") -> dict[str, Any]:
        # (int)$arParams['ID'] (CCrmRestHelper::resolveEntityID), then "<= 0" refused.
        number = php_int(params.get(key))
        if number <= 0:
            raise BitrixError("", "ID is not defined or invalid.")
        record = self.store.records[entity].get(number)
        if record is None:
            raise BitrixError("", "Not found")
        return record

    # --- crm.{entity}.userfield.* ----------------------------------------------------

    def userfield_call(self, entity: str, op: str, params: Mapping[str, Any]) -> Result:
        defined: dict[str, dict[str, dict[str, Any]]] = dict(self.store.meta.get("userfields", {}))
        mine = dict(defined.get(entity, {}))
        if op == "list":
            listed = _listed(list(mine.values()), params)
            return [dict(spec) for spec in listed], {"total": len(listed)}
        if op == "add":
            # `add(is_array($fields) ? $fields : $arParams)`: without a `fields` array the
            # call's own parameters describe the field.
            given = params.get("fields")
            described = given if isinstance(given, Mapping) else params
            described = {str(key).upper(): value for key, value in described.items()}
            spec = _weighed(self._new_userfield(entity, described, mine))
            mine[spec["FIELD_NAME"]] = spec
            result: Any = int(spec["ID"])
        else:
            # `UserFieldProxy::get`/`update`/`delete` (the `rest` module's
            # `lib/userfieldproxy.php`): `(int)$ID`, refused when 0 or less, then looked up.
            number = php_int(params.get("id"))
            if number <= 0:
                raise BitrixError("", "ID is not defined or invalid.")
            found = next((name for name, spec in mine.items() if spec["ID"] == str(number)), None)
            if found is None:
                raise BitrixError("ERROR_NOT_FOUND", f"The entity with ID '{number}' is not found.")
            if op == "get":
                return dict(mine[found]), None
            if op == "delete":
                del mine[found]
            else:  # update: labels, sort, mandatory, list
                changes = self._fields_param(params)
                spec = dict(mine[found])
                for key in ("SORT", "MANDATORY", "XML_ID", "SETTINGS", "EDIT_FORM_LABEL"):
                    if key in changes:
                        spec[key] = changes[key]
                if "MANDATORY" in changes:
                    # `CUserTypeEntity::Update`: `if ($arFields["MANDATORY"] !== "Y")` it is
                    # "N" (no case folding on this path; MULTIPLE cannot change at all).
                    spec["MANDATORY"] = "Y" if changes["MANDATORY"] == "Y" else "N"
                mine[found] = _weighed(spec)
            result = True
        defined[entity] = mine
        self.store.set_meta("userfields", defined)
        return result, None

    def _new_userfield(
        self, entity: str, fields: Mapping[str, Any], mine: Mapping[str, Any]
    ) -> dict[str, Any]:
        # `UserFieldProxy::add`: both trimmed, each missing one said, together.
        kind = text(fields.get("USER_TYPE_ID")).strip(_PHP_TRIM)
        raw = text(fields.get("FIELD_NAME")).strip(_PHP_TRIM).upper()
        missing = [
            f"The '{key}' field is not found."
            for key, value in (("USER_TYPE_ID", kind), ("FIELD_NAME", raw))
            if not value
        ]
        if missing:
            raise BitrixError("", "\n".join(missing))
        # The CRM's prefix is `UF_CRM_`: a name with another `UF_` has it put after `UF_`.
        if raw.startswith("UF_CRM_"):
            name = raw
        else:
            name = "UF_CRM_" + (raw[3:] if raw.startswith("UF_") else raw)
        if not _UF_NAME.fullmatch(name):
            raise BitrixError(
                "ERROR_CORE",
                f"FIELD_NAME: got {shown_value(raw)}, expected Latin capitals, digits and _",
            )
        if name in mine:
            raise BitrixError("ERROR_CORE", f"A field named {name} already exists.")
        if len(mine) >= MAX_USERFIELDS:
            raise BitrixError(
                "ERROR_CORE",
                f"The fake portal keeps at most {MAX_USERFIELDS} custom fields "
                f"per entity; {entity} has {len(mine)}",
            )
        if len(items(fields.get("LIST"))) > MAX_LIST_ITEMS:
            raise BitrixError(
                "ERROR_CORE", f"LIST: at most {MAX_LIST_ITEMS} LIST items (the fake's bound)"
            )
        if kind not in USER_TYPES:
            raise BitrixError(
                "ERROR_CORE",
                f"USER_TYPE_ID: got {shown_value(kind)}, expected one of {sorted(USER_TYPES)}",
            )
        number = int(self.store.meta.get("userfield_id", 0)) + 1
        self.store.set_meta("userfield_id", number)
        options = []
        for index, option in enumerate(items(fields.get("LIST"))):
            entry = (
                {str(k).upper(): v for k, v in option.items()}
                if isinstance(option, Mapping)
                else {"VALUE": option}
            )
            options.append(
                {
                    "ID": str(number * 100 + index + 1),
                    "SORT": text(entry.get("SORT") or (index + 1) * 10),
                    "VALUE": text(entry.get("VALUE")),
                    "DEF": text(entry.get("DEF") or "N"),
                    "XML_ID": text(entry.get("XML_ID") or f"{name}_{index + 1}"),
                }
            )
        label = fields.get("LABEL") or fields.get("EDIT_FORM_LABEL") or name
        return {
            "ID": str(number),
            "ENTITY_ID": f"CRM_{entity.upper()}",
            "FIELD_NAME": name,
            "USER_TYPE_ID": kind,
            "XML_ID": fields.get("XML_ID"),
            # `CUserTypeEntity::Add`: `intval($arFields["SORT"]) <= 0` is 100.
            "SORT": str(sort if (sort := php_int(fields.get("SORT"))) > 0 else 100),
            # `UserFieldProxy::add`: `mb_strtoupper($fields['MULTIPLE']) === 'Y' ? 'Y' : 'N'`,
            # so "y" is Y and "1", `true` (PHP's text "1") or "maybe" are N; a boolean
            # field is never multiple.
            "MULTIPLE": "N" if kind == "boolean" else _php_flag(fields.get("MULTIPLE")),
            "MANDATORY": _php_flag(fields.get("MANDATORY")),
            "SHOW_FILTER": "N",
            "SHOW_IN_LIST": "Y",
            "EDIT_IN_LIST": "Y",
            "IS_SEARCHABLE": "N",
            "EDIT_FORM_LABEL": label,
            "LIST_COLUMN_LABEL": label,
            "LIST_FILTER_LABEL": label,
            "SETTINGS": fields.get("SETTINGS") or {},
            **({"LIST": options} if kind == "enumeration" else {}),
        }

    # --- crm.timeline.comment.*, crm.duplicate.findbycomm -----------------------------

    def comment_call(self, op: str, params: Mapping[str, Any]) -> Result:
        if op == "add":
            fields = self._fields_param(params)
            owner_type = text(fields.get("ENTITY_TYPE")).lower()
            if not fields.get("ENTITY_ID") or not owner_type or "COMMENT" not in fields:
                raise BitrixError(
                    "100", "Required fields are not provided: ENTITY_ID, ENTITY_TYPE, COMMENT"
                )
            if not text(fields["COMMENT"]).strip():
                raise BitrixError("INVALID_ARG_VALUE", "Empty comment")
            owner = whole_number(text(fields["ENTITY_ID"]))
            if (
                owner_type not in ENTITY_TYPE_IDS
                or owner is None
                or owner not in self.store.records[owner_type]
            ):
                raise BitrixError("OWNER_NOT_FOUND", "Owner of the element not found")
            new_id = self.store.next_id("comment")
            record = {
                "ID": str(new_id),
                "CREATED": self._now_text(),
                "ENTITY_ID": owner,
                "ENTITY_TYPE": owner_type,
                "AUTHOR_ID": text(fields.get("AUTHOR_ID") or self.user_id),
                "COMMENT": text(fields["COMMENT"]),
                "FILES": [],
            }
            self.store.put("comment", new_id, record)
            return new_id, None
        if op in ("get", "delete"):
            try:
                found = self._find("comment", params)
            except BitrixError:
                raise BitrixError("NOT_FOUND", "Not found.") from None
            if op == "delete":
                self.store.delete("comment", int(found["ID"]))
                return None, None
            return dict(found), None
        comments = [dict(c) for _, c in sorted(self.store.records["comment"].items())]
        filters = params.get("filter") or {}
        if isinstance(filters, Mapping):
            tests = [compile_filter(key, value) for key, value in filters.items()]
            comments = [c for c in comments if all(test(c) for test in tests)]
        start = max(whole_number(text(params.get("start") or 0)) or 0, 0)
        extra: dict[str, Any] = {"total": len(comments)}
        if start + PAGE < len(comments):
            extra = {"next": start + PAGE, **extra}
        return comments[start : start + PAGE], extra

    def find_by_comm(self, params: Mapping[str, Any]) -> Result:
        kind = text(params.get("type")).upper()
        if not kind:
            raise BitrixError("Communication type is not defined", "Parameter 'type' is required.")
        if kind not in ("EMAIL", "PHONE"):
            raise BitrixError(
                f"Communication type '{kind}' is not supported in current context",
                "Parameter 'type' is invalid.",
            )
        values = [text(value) for value in items(params.get("values")) if text(value)]
        if not values:
            raise BitrixError(
                "Communication values is not defined", "Parameter 'values' is required."
            )
        values = values[:20]
        wanted_type = text(params.get("entity_type")).upper()
        if wanted_type and wanted_type not in ("LEAD", "CONTACT", "COMPANY"):
            raise BitrixError(
                f"Entity type '{wanted_type}' is not supported in current context",
                "Parameter 'entity_type' must be LEAD, CONTACT or COMPANY.",
            )
        owners = [wanted_type.lower()] if wanted_type else ["lead", "contact", "company"]
        wanted = {_comm_key(kind, value) for value in values}
        found: dict[str, list[int]] = {}
        for owner in owners:
            ids = [
                key
                for key, record in sorted(self.store.records[owner].items())
                if any(
                    _comm_key(kind, entry["VALUE"]) in wanted for entry in record.get(kind) or []
                )
            ]
            if ids:
                found[owner.upper()] = ids
                if len(ids) >= 20:  # "the other types are not returned"
                    break
        return (found or []), None


#: The characters PHP's ``trim`` takes off by default.
_PHP_TRIM: Final = " \t\n\r\0\x0b"
#: What ``CUserTypeEntity::GetList`` filters on (each an exact ``=``) and orders by.
_UF_FILTERS: Final = (
    "ID",
    "ENTITY_ID",
    "FIELD_NAME",
    "USER_TYPE_ID",
    "XML_ID",
    "SORT",
    "MULTIPLE",
    "MANDATORY",
    "SHOW_FILTER",
    "SHOW_IN_LIST",
    "EDIT_IN_LIST",
    "IS_SEARCHABLE",
)
_UF_ORDERS: Final = ("ID", "ENTITY_ID", "FIELD_NAME", "USER_TYPE_ID", "XML_ID", "SORT")


def _listed(specs: list[dict[str, Any]], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``crm.{entity}.userfield.list``'s ``filter`` and ``order`` as the proxy hands them
    to ``CUserTypeEntity::GetList`` (``main``'s ``CAllUserTypeEntity``): both
    must be arrays; a filter key it knows is an exact match (case aside, MySQL's
    collation, **[inference]**; a list or empty value is skipped, an unknown key
    ignored); an order key it knows sorts (anything but ``ASC`` is ``DESC``), and no
    such key is ``SORT`` then ``ID``, both up."""
    filters = array_param(params, "filter")
    order = array_param(params, "order")
    for key, value in filters.items():
        name = str(key).upper()
        if name not in _UF_FILTERS or isinstance(value, list | Mapping) or text(value) == "":
            continue
        if name in ("ID", "SORT"):  # int columns: MySQL compares the text as a number
            specs = [s for s in specs if php_int(s.get(name)) == php_int(value)]
        else:
            wanted = text(value).lower()
            specs = [s for s in specs if text(s.get(name)).lower() == wanted]
    keys = [
        (name, text(direction).upper() != "ASC")
        for name, direction in ((str(k).upper(), d) for k, d in order.items())
        if name in _UF_ORDERS
    ] or [("SORT", False), ("ID", False)]
    for name, descending in reversed(keys):
        specs = sorted(
            specs,
            key=lambda s: php_int(s.get(name)) if name in ("ID", "SORT") else text(s.get(name)),
            reverse=descending,
        )
    return specs


def _php_flag(value: Any) -> str:
    """``Y`` when ``mb_strtoupper($value) === 'Y'``, else ``N``: only a text that is
    ``y`` or ``Y`` (a number or a boolean is never the text ``Y`` in PHP)."""
    return "Y" if isinstance(value, str) and value.upper() == "Y" else "N"


def _comm_key(kind: str, value: str) -> str:
    """Phones compare by digits (no extension), e-mails case-insensitively."""
    if kind == "PHONE":
        return re.sub(r"\D", "", value.split(",")[0].split(";")[0])
    return value.strip().lower()
