"""Leads, contacts, deals and companies with their life cycle (add, get, update, delete,
list, fields), multifields, userfields (``UF_CRM_*``), timeline comments and the
duplicate search, as the classic ``crm.*`` methods of bitrix24/b24restdocs describe them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .schema import (
    DEFAULTS,
    ENTITY_TYPE_IDS,
    FIELDS,
    MULTIFIELDS,
    PAGE,
    READ_ONLY,
    USER_TYPES,
    BitrixError,
    items,
    stored,
    text,
)

if TYPE_CHECKING:
    from mockserver.crm.base import Clock, Store

__all__ = ["Records"]

Result = tuple[Any, dict[str, Any] | None]
_UF_NAME: Final = re.compile(r"[A-Z0-9_]{1,50}")
#: The ``VALUE_TYPE``s each multifield takes (``api-reference/crm/data-types.md``).
VALUE_TYPES: Final = {
    "PHONE": ("WORK", "MOBILE", "FAX", "HOME", "PAGER", "MAILING", "OTHER"),
    "EMAIL": ("WORK", "HOME", "MAILING", "OTHER"),
    "WEB": ("WORK", "HOME", "FACEBOOK", "VK", "LIVEJOURNAL", "TWITTER", "OTHER"),
    "IM": (
        "TELEGRAM",
        "VK",
        "SKYPE",
        "VIBER",
        "BITRIX24",
        "OPENLINE",
        "IMOL",
        "ICQ",
        "MSN",
        "JABBER",
        "FACEBOOK",
        "INSTAGRAM",
        "WHATSAPP",
        "OTHER",
    ),
    "LINK": ("USER", "OTHER"),
}


def multifields(entity: str) -> tuple[str, ...]:
    """Deals have no phones or e-mails of their own (``crm.deal.fields``): their contacts do."""
    return () if entity == "deal" else MULTIFIELDS


class Records:
    """The CRM methods. The portal that mixes this in has a store, a clock and a user."""

    store: Store
    clock: Clock
    user_id: str
    required: dict[str, tuple[str, ...]]

    # --- helpers -------------------------------------------------------------------

    def _now_text(self) -> str:
        return self.clock.now().isoformat(timespec="seconds")

    def userfields(self, entity: str) -> dict[str, dict[str, Any]]:
        """The entity's custom fields by ``FIELD_NAME`` (``UF_CRM_…``)."""
        defined: dict[str, dict[str, dict[str, Any]]] = self.store.meta.get("userfields", {})
        return defined.get(entity, {})

    def _fields_param(self, params: Mapping[str, Any]) -> dict[str, Any]:
        fields = params.get("fields", {})
        if fields in ("", None):
            return {}
        if not isinstance(fields, Mapping):
            raise BitrixError("", "Parameter 'fields' must be array.")
        return {str(key).upper(): value for key, value in fields.items()}

    def _multifield(self, kind: str, entry: Any) -> dict[str, str] | None:
        if not isinstance(entry, Mapping):
            entry = {"VALUE": entry}
        entry = {str(k).upper(): v for k, v in entry.items()}
        value = text(entry.get("VALUE", ""))
        if not value:
            return None
        value_type = text(entry.get("VALUE_TYPE") or "WORK").upper()
        if value_type not in VALUE_TYPES[kind]:
            allowed = ", ".join(VALUE_TYPES[kind])
            raise BitrixError(
                "", f"{kind} VALUE_TYPE: got {value_type!r}, expected one of {allowed}"
            )
        number = int(self.store.meta.get("multifield_id", 0)) + 1
        self.store.set_meta("multifield_id", number)
        return {"ID": str(number), "VALUE_TYPE": value_type, "VALUE": value, "TYPE_ID": kind}

    def _write(self, entity: str, record: dict[str, Any], fields: Mapping[str, Any]) -> None:
        """Apply ``fields`` to ``record``: unknown names are ignored, as the API does."""
        kinds = FIELDS[entity]
        custom = self.userfields(entity)
        for name, value in fields.items():
            if name in multifields(entity):
                record[name] = self._merge_multifield(name, record.get(name) or [], value)
            elif name in kinds and name not in READ_ONLY:
                record[name] = stored(name, kinds[name], value)
            elif name in custom:
                record[name] = self._userfield_value(custom[name], value)
        if entity in ("lead", "deal"):
            linked = record.get("COMPANY_ID") not in (None, "0") or record.get(
                "CONTACT_ID"
            ) not in (None, "0")
            record["IS_RETURN_CUSTOMER"] = "Y" if linked else "N"
        for kind in ("PHONE", "EMAIL"):
            if f"HAS_{kind}" in kinds:
                record[f"HAS_{kind}"] = "Y" if record.get(kind) else "N"

    def _userfield_value(self, definition: Mapping[str, Any], value: Any) -> Any:
        kind = str(definition["USER_TYPE_ID"])
        name = str(definition["FIELD_NAME"])
        if kind == "enumeration":
            known = {str(option["ID"]) for option in definition.get("LIST", [])}
            for option in items(value) if definition["MULTIPLE"] == "Y" else [value]:
                if text(option) and text(option) not in known:
                    raise BitrixError(
                        "", f'Invalid value for the "{name}" field: no list item {text(option)!r}'
                    )
        kind = {"employee": "user", "money": "string"}.get(kind, kind)
        if definition["MULTIPLE"] == "Y":
            values = [stored(name, kind, item) for item in items(value)]
            return [item for item in values if item is not None]
        return stored(name, kind, value)

    def _check(self, entity: str, record: Mapping[str, Any]) -> None:
        for entry in record.get("EMAIL") or []:
            if "@" not in entry["VALUE"]:
                raise BitrixError(
                    "ERROR_CORE",
                    f"The field Work e-mail contains an invalid address: {entry['VALUE']}",
                )
        required = list(self.required.get(entity, ()))
        required += [
            name for name, spec in self.userfields(entity).items() if spec["MANDATORY"] == "Y"
        ]
        missing = [name for name in required if not record.get(name)]
        if missing:
            raise BitrixError("", f"Required fields are not filled in: {', '.join(missing)}.")

    def shown(self, entity: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record as ``.get`` returns it: every field, ``null`` when never set."""
        out = {name: record.get(name) for name in FIELDS[entity]}
        for name, spec in self.userfields(entity).items():
            out[name] = record.get(name, [] if spec["MULTIPLE"] == "Y" else None)
        for name in multifields(entity):
            if record.get(name):
                out[name] = [dict(entry) for entry in record[name]]
        return out

    def _find(self, entity: str, params: Mapping[str, Any], key: str = "id") -> dict[str, Any]:
        raw = params.get(key)
        try:
            number = int(str(raw))
        except ValueError:
            raise BitrixError("", "ID is not defined or invalid.") from None
        if number <= 0:
            raise BitrixError("", "ID is not defined or invalid.")
        record = self.store.records[entity].get(number)
        if record is None:
            raise BitrixError("", "Not found")
        return record

    # --- crm.{entity}.* ------------------------------------------------------------

    def entity_call(self, entity: str, op: str, params: Mapping[str, Any]) -> Result:
        if op == "add":
            return self.add(entity, params), None
        if op == "get":
            return self.shown(entity, self._find(entity, params)), None
        if op == "update":
            return self.update(entity, params), None
        if op == "delete":
            record = self._find(entity, params)
            self.store.delete(entity, int(record["ID"]))
            return True, None
        if op == "fields":
            return self.describe_fields(entity), None
        return self.list(entity, params)

    def add(self, entity: str, params: Mapping[str, Any]) -> int:
        record: dict[str, Any] = dict(DEFAULTS[entity])
        self._write(entity, record, self._fields_param(params))
        self._check(entity, record)
        new_id = self.store.next_id(entity)
        moment = self._now_text()
        record.update(
            {
                "ID": str(new_id),
                "DATE_CREATE": moment,
                "DATE_MODIFY": moment,
                "CREATED_BY_ID": self.user_id,
                "MODIFY_BY_ID": self.user_id,
            }
        )
        if record.get("ASSIGNED_BY_ID") is None:
            record["ASSIGNED_BY_ID"] = self.user_id
        if "MOVED_TIME" in FIELDS[entity]:
            record.update({"MOVED_BY_ID": self.user_id, "MOVED_TIME": moment})
        if entity in ("lead", "deal") and not record.get("TITLE"):
            record["TITLE"] = f"{entity.capitalize()} #{new_id}"
        if entity == "company" and not record.get("TITLE"):
            record["TITLE"] = f"Company #{new_id}"
        self.store.put(entity, new_id, record)
        return new_id

    def update(self, entity: str, params: Mapping[str, Any]) -> bool:
        record = self._find(entity, params)
        changed = dict(record.items())
        for name in MULTIFIELDS:
            if name in changed:
                changed[name] = [dict(entry) for entry in changed[name]]
        self._write(entity, changed, self._fields_param(params))
        self._check(entity, changed)
        changed["DATE_MODIFY"] = self._now_text()
        changed["MODIFY_BY_ID"] = self.user_id
        self.store.put(entity, int(record["ID"]), changed)
        return True

    def _merge_multifield(
        self, kind: str, current: list[dict[str, str]], value: Any
    ) -> list[dict[str, str]]:
        """No ID: appended. An ID: overwrites that entry, or deletes it (DELETE=Y, empty VALUE)."""
        entries = [dict(entry) for entry in current]
        for item in items(value):
            if not isinstance(item, Mapping):
                item = {"VALUE": item}
            item = {str(k).upper(): v for k, v in item.items()}
            if "ID" not in item:
                added = self._multifield(kind, item)
                if added:
                    entries.append(added)
                continue
            target = next((e for e in entries if e["ID"] == text(item["ID"])), None)
            if target is None:
                continue
            if text(item.get("DELETE")).upper() == "Y" or not text(item.get("VALUE", "")):
                entries.remove(target)
                continue
            target["VALUE"] = text(item["VALUE"])
            if "VALUE_TYPE" in item:
                target["VALUE_TYPE"] = text(item["VALUE_TYPE"]).upper()
        return entries

    def describe_fields(self, entity: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kind in FIELDS[entity].items():
            out[name] = {
                "type": kind,
                "isRequired": name in self.required.get(entity, ()),
                "isReadOnly": name in READ_ONLY,
                "isImmutable": False,
                "isMultiple": False,
                "isDynamic": False,
                "title": name.replace("_", " ").title(),
            }
        for name in multifields(entity):
            out[name] = {
                "type": "crm_multifield",
                "isRequired": False,
                "isReadOnly": False,
                "isImmutable": False,
                "isMultiple": True,
                "isDynamic": False,
                "title": name.title(),
            }
        for name, spec in self.userfields(entity).items():
            field: dict[str, Any] = {
                "type": spec["USER_TYPE_ID"],
                "isRequired": spec["MANDATORY"] == "Y",
                "isReadOnly": False,
                "isImmutable": False,
                "isMultiple": spec["MULTIPLE"] == "Y",
                "isDynamic": True,
                "title": name,
                "listLabel": spec.get("LIST_COLUMN_LABEL") or name,
                "formLabel": spec.get("EDIT_FORM_LABEL") or name,
                "filterLabel": spec.get("LIST_FILTER_LABEL") or name,
                "settings": spec.get("SETTINGS", {}),
            }
            if spec["USER_TYPE_ID"] == "enumeration":
                field["items"] = [
                    {"ID": option["ID"], "VALUE": option["VALUE"]} for option in spec["LIST"]
                ]
            out[name] = field
        return out

    def list(self, entity: str, params: Mapping[str, Any]) -> Result:
        records = [self.shown(entity, r) for _, r in sorted(self.store.records[entity].items())]
        filters = params.get("filter") or {}
        if filters and not isinstance(filters, Mapping):
            raise BitrixError("", "Parameter 'filter' must be array.")
        if isinstance(filters, Mapping):
            records = [r for r in records if all(passes(r, k, v) for k, v in filters.items())]
        order = params.get("order") or {}
        if isinstance(order, Mapping):
            for key, direction in reversed(list(order.items())):
                field = str(key).upper()
                records.sort(
                    key=lambda r: sort_key(r.get(field)),
                    reverse=str(direction).upper() == "DESC",
                )
        records = [self._selected(entity, r, params.get("select")) for r in records]
        try:
            start = int(str(params.get("start", 0) or 0))
        except ValueError:
            start = 0
        if start == -1:  # no count: keyset paging with filter[>ID] (huge-data.md)
            return records[:PAGE], {}
        start = max(start, 0)
        page = records[start : start + PAGE]
        extra: dict[str, Any] = {"total": len(records)}
        if start + PAGE < len(records):
            extra = {"next": start + PAGE, **extra}
        return page, extra

    def _selected(self, entity: str, record: dict[str, Any], select: Any) -> dict[str, Any]:
        """``select``: ``*`` is every standard field, ``UF_*`` every custom field; the
        multifields only when named. Nothing selected is ``*``."""
        names = [str(name).upper() for name in items(select)] or ["*"]
        wanted: set[str] = {"ID"}
        for name in names:
            if name == "*":
                wanted |= set(FIELDS[entity])
            elif name == "UF_*":
                wanted |= set(self.userfields(entity))
            else:
                wanted.add(name)
        out = {key: value for key, value in record.items() if key in wanted}
        for name in multifields(entity):
            if name in wanted and name not in out:
                out[name] = []
        return out

    # --- crm.{entity}.userfield.* ----------------------------------------------------

    def userfield_call(self, entity: str, op: str, params: Mapping[str, Any]) -> Result:
        defined: dict[str, dict[str, dict[str, Any]]] = dict(self.store.meta.get("userfields", {}))
        mine = dict(defined.get(entity, {}))
        if op == "list":
            return [dict(spec) for spec in mine.values()], {"total": len(mine)}
        if op == "add":
            spec = self._new_userfield(entity, self._fields_param(params), mine)
            mine[spec["FIELD_NAME"]] = spec
            result: Any = int(spec["ID"])
        else:
            found = next(
                (name for name, spec in mine.items() if spec["ID"] == text(params.get("id"))),
                None,
            )
            if found is None:
                raise BitrixError("", "Not found")
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
                mine[found] = spec
            result = True
        defined[entity] = mine
        self.store.set_meta("userfields", defined)
        return result, None

    def _new_userfield(
        self, entity: str, fields: Mapping[str, Any], mine: Mapping[str, Any]
    ) -> dict[str, Any]:
        raw = text(fields.get("FIELD_NAME")).upper()
        if not raw:
            raise BitrixError("ERROR_CORE", "FIELD_NAME is required.")
        name = raw if raw.startswith("UF_CRM_") else "UF_CRM_" + raw
        if not _UF_NAME.fullmatch(name):
            raise BitrixError(
                "ERROR_CORE", f"FIELD_NAME: got {raw!r}, expected Latin capitals, digits and _"
            )
        if name in mine:
            raise BitrixError("ERROR_CORE", f"A field named {name} already exists.")
        kind = text(fields.get("USER_TYPE_ID") or "string")
        if kind not in USER_TYPES:
            raise BitrixError(
                "ERROR_CORE", f"USER_TYPE_ID: got {kind!r}, expected one of {sorted(USER_TYPES)}"
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
            "SORT": text(fields.get("SORT") or 100),
            "MULTIPLE": stored("MULTIPLE", "char", fields.get("MULTIPLE") or "N"),
            "MANDATORY": stored("MANDATORY", "char", fields.get("MANDATORY") or "N"),
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
            owner = text(fields["ENTITY_ID"])
            if (
                owner_type not in ENTITY_TYPE_IDS
                or not owner.isdigit()
                or int(owner) not in self.store.records[owner_type]
            ):
                raise BitrixError("OWNER_NOT_FOUND", "Owner of the element not found")
            new_id = self.store.next_id("comment")
            record = {
                "ID": str(new_id),
                "CREATED": self._now_text(),
                "ENTITY_ID": int(owner),
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
            comments = [c for c in comments if all(passes(c, k, v) for k, v in filters.items())]
        raw_start = text(params.get("start") or 0)
        start = max(int(raw_start), 0) if raw_start.lstrip("-").isdigit() else 0
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


def _comm_key(kind: str, value: str) -> str:
    """Phones compare by digits (no extension), e-mails case-insensitively."""
    if kind == "PHONE":
        return re.sub(r"\D", "", value.split(",")[0].split(";")[0])
    return value.strip().lower()


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (-1, "")
    raw = text(value)
    try:
        return (0, float(raw))
    except ValueError:
        return (1, raw)


_OPERATORS: Final = (">=", "<=", "!=", "!@", "=%", "%=", ">", "<", "!", "@", "%", "=")


def passes(record: Mapping[str, Any], key: str, expected: Any) -> bool:
    """Bitrix filter keys: ``ID``, ``>ID``, ``>=ID``, ``<ID``, ``<=ID``, ``!ID``, ``@ID``
    (in a list), ``!@ID``, ``%TITLE`` (contains), ``=%TITLE``/``%=TITLE`` (LIKE)."""
    operator = ""
    name = str(key)
    for prefix in _OPERATORS:
        if name.startswith(prefix):
            operator, name = prefix, name[len(prefix) :]
            break
    actual = record.get(name.upper())
    if isinstance(actual, list) and actual and isinstance(actual[0], Mapping):
        values = [entry["VALUE"] for entry in actual]
        return any(passes({"X": value}, operator + "X", expected) for value in values)
    if isinstance(actual, list):
        return any(passes({"X": value}, operator + "X", expected) for value in actual)
    options = (
        [text(item) for item in items(expected)] if isinstance(expected, list | Mapping) else None
    )
    raw = text(actual)
    wanted = text(expected)
    if operator in ("%", "=%", "%="):
        pattern = wanted.lower().replace("%", "")
        if operator == "=%":
            return (
                raw.lower().startswith(pattern) if wanted.endswith("%") else raw.lower() == pattern
            )
        if operator == "%=":
            return (
                raw.lower().endswith(pattern) if wanted.startswith("%") else raw.lower() == pattern
            )
        return pattern in raw.lower()
    if operator in ("!", "!=", "!@"):
        return raw not in options if options is not None else raw != wanted
    if operator in (">", "<", ">=", "<="):
        if actual is None:
            return False
        left, right = sort_key(raw), sort_key(wanted)
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[
            operator
        ]
    if options is not None:
        return raw in options
    if wanted == "" and actual is None:
        return True
    return raw == wanted
