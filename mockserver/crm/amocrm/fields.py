"""The account's custom fields: the seeded catalogue, the check of ``custom_fields_values``
on every write, the stored (read-back) shape, and ``GET /api/v4/{entity}/custom_fields``.

A value names its field by ``field_id`` or ``field_code``; a select, multiselect or
multitext value names its option by ``value`` (the option's text), ``enum_id`` or
``enum_code`` (https://www.amocrm.ru/developers/content/crm_platform/custom-fields,
"Примеры заполнения разных типов полей"; the official library's
``BaseEnumCodeCustomFieldValueModel::toApi`` sends ``value``, ``enum_id`` and
``enum_code``). Read back, every value carries what the field has: ``enum_id`` and
``enum_code`` for options, as the documentation's lead example shows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

from .entities import php_int

__all__ = ["DATE_TYPES", "DEFAULT_FIELDS", "ENUM_TYPES", "Catalogue", "timestamp"]

#: Types whose values pick one of the field's options (``enums``).
ENUM_TYPES: Final = frozenset({"select", "multiselect", "radiobutton", "multitext", "category"})
NUMERIC: Final = frozenset({"numeric", "price", "monetary"})
#: PHP's numeric strings (``is_numeric``): white space, a sign, digits with a point, an exponent.
_PHP_NUMERIC: Final = re.compile(
    r"[ \t\n\r\v\f]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\r\v\f]*"
)
#: Types whose value is a moment: a Unix timestamp, or a date text the official library
#: sends (``DateCustomFieldValueModel::toApi``: RFC 3339; its older releases ``Y-m-d``,
#: and ``Y-m-d H:i:s`` for ``date_time``). Kept and read back as the timestamp.
DATE_TYPES: Final = frozenset({"date", "date_time", "birthday"})

#: A seeded catalogue: id → code, name, type, entity and options (option text → enum id).
DEFAULT_FIELDS: Final[dict[int, dict[str, Any]]] = {
    101: {
        "code": "PHONE",
        "name": "Телефон",
        "type": "multitext",
        "entity": "contacts",
        "enums": {
            "WORK": 1001,
            "WORKDD": 1002,
            "MOB": 1003,
            "FAX": 1004,
            "HOME": 1005,
            "OTHER": 1006,
        },
    },
    102: {
        "code": "EMAIL",
        "name": "Email",
        "type": "multitext",
        "entity": "contacts",
        "enums": {"WORK": 1011, "PRIV": 1012, "OTHER": 1013},
    },
    201: {
        "code": "SOURCE",
        "name": "Источник",
        "type": "select",
        "entity": "leads",
        "enums": {"chatbot": 2001, "site": 2002, "call": 2003},
    },
    202: {"code": None, "name": "Комментарий", "type": "text", "entity": "leads", "enums": {}},
    203: {
        "code": None,
        "name": "Бюджет клиента",
        "type": "numeric",
        "entity": "leads",
        "enums": {},
    },
    301: {
        "code": "PHONE",
        "name": "Телефон",
        "type": "multitext",
        "entity": "companies",
        "enums": {
            "WORK": 3001,
            "WORKDD": 3002,
            "MOB": 3003,
            "FAX": 3004,
            "HOME": 3005,
            "OTHER": 3006,
        },
    },
}

#: Types ``POST /{entity}/custom_fields`` creates (the documentation's list, less the
#: catalogue- and chat-bound ones).
CREATABLE: Final = frozenset(
    {
        "text", "numeric", "checkbox", "select", "multiselect", "date", "url", "textarea",
        "radiobutton", "streetaddress", "birthday", "date_time", "price", "monetary",
    }
)  # fmt: skip
#: Fields an account may have, per entity type (amoCRM's own cap is in the hundreds).
MAX_FIELDS: Final = 500
#: The most options a created field has, and the longest name or option text it keeps
#: (**decision**: the documentation gives no bound; 500 fields may be created).
MAX_OPTIONS: Final = 999
MAX_TEXT: Final = 255
FIRST_CREATED_ID: Final = 1_000_000

_CHOICE = "The value you selected is not a valid choice."


def _given(value: Any) -> Any:
    """A value as the request means it: ``enum_id: null`` and ``enum_code: null`` are not
    given. A client that sends back what it read (amocrm-api's models do: a select reads
    back with ``enum_code: null``) is not refused for it (**[inference]**)."""
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if v is not None or k not in ("enum_id", "enum_code")}


def timestamp(value: Any) -> int | None:
    """A date field's value as a Unix timestamp, or ``None`` when it is none: an int
    PHP reads as one, digits (the library's ``is_numeric`` branch), or an ISO 8601 /
    RFC 3339 date or date-time in ASCII (without an offset: the account's time, UTC
    here) between year 1 and 9999. ``2024-02-30``, ``tomorrow``, ``1e3`` are not."""
    if php_int(value):
        return int(value)
    if not isinstance(value, str) or len(value) > 40 or not value.isascii():
        return None
    raw = value.strip()
    if raw.isdigit() and len(raw) <= 18:
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _error(code: str, path: str, detail: str) -> dict[str, Any]:
    return {"code": code, "path": path, "detail": detail}


class Catalogue:
    """The fields of one account; ``check`` lists what is wrong, ``stored`` what is kept."""

    def __init__(self, fields: Mapping[int, Mapping[str, Any]]) -> None:
        self.fields: dict[int, dict[str, Any]] = {}
        for key, spec in fields.items():
            entry = dict(spec)
            entry.setdefault("code", None)
            entry.setdefault("name", entry["code"] or f"Field {key}")
            entry.setdefault("enums", {})
            if entry.get("entity") not in ("leads", "contacts", "companies"):
                raise ValueError(
                    f"fields[{key}].entity: got {entry.get('entity')!r}, "
                    "expected leads, contacts or companies"
                )
            if not isinstance(entry.get("type"), str) or not entry["type"]:
                raise ValueError(
                    f"fields[{key}].type: got {entry.get('type')!r}, expected a field type "
                    "such as text, numeric, select or multitext"
                )
            enums = entry["enums"]
            if not isinstance(enums, Mapping) or not all(
                isinstance(text, str) and isinstance(enum_id, int) and not isinstance(enum_id, bool)
                for text, enum_id in enums.items()
            ):
                raise ValueError(
                    f"fields[{key}].enums: got {enums!r}, expected option text → enum id "
                    "(such as {'WORK': 1001})"
                )
            self.fields[int(key)] = entry

    def problems(self, entity: str, spec: Any) -> list[dict[str, Any]]:
        """What is wrong with a field to create (``POST /{entity}/custom_fields``)."""
        if not isinstance(spec, dict):
            return [_error("InvalidType", "", "An object is expected.")]
        errors = []
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(_error("NotBlank", "name", "This value should not be blank."))
        elif len(name) > MAX_TEXT:
            errors.append(_error("Length", "name", f"At most {MAX_TEXT} characters."))
        kind = spec.get("type")
        if not isinstance(kind, str) or kind not in CREATABLE:  # a list or object: no type
            errors.append(
                _error("NotSupportedChoice", "type", f"The type is one of {sorted(CREATABLE)}.")
            )
            kind = None
        code = spec.get("code")
        if code is not None and (not isinstance(code, str) or not code.isidentifier()):
            errors.append(_error("InvalidType", "code", "A code is latin letters and digits."))
        elif code is not None and any(
            f["entity"] == entity and f["code"] == code.upper() for f in self.fields.values()
        ):
            errors.append(_error("NotUnique", "code", f"{entity} already have a field {code!r}."))
        enums = spec.get("enums")
        if kind in ENUM_TYPES and not (
            isinstance(enums, list)
            and enums
            and all(isinstance(e, dict) and isinstance(e.get("value"), str) for e in enums)
        ):
            errors.append(
                _error("NotBlank", "enums", "A list of options {value, sort} is expected.")
            )
        elif kind in ENUM_TYPES and isinstance(enums, list):
            errors += _option_problems(enums)
        return errors

    def add(self, entity: str, key: int, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Keep a checked field; its options get ids from ``key`` on."""
        options = spec.get("enums") if spec["type"] in ENUM_TYPES else None
        entry = {
            "code": spec["code"].upper() if spec.get("code") else None,
            "name": spec["name"].strip(),
            "type": spec["type"],
            "entity": entity,
            # Option ids are the account's: room for MAX_OPTIONS under each field's id
            # (key * 10 gave a field's 10th option the next field's first id).
            "enums": {o["value"]: key * 1000 + n for n, o in enumerate(options or [], 1)},
            "created": True,
        }
        self.fields[key] = entry
        return entry

    def change_problems(self, entity: str, spec: Any) -> list[dict[str, Any]]:
        """What is wrong with a change to a field (``PATCH /{entity}/custom_fields``):
        ``{id, name?, sort?, enums?}``; the ``type`` and ``code`` stay as they are, and a
        predefined field (``PHONE``, ``EMAIL``, ...) is not changed (**[inference]**: the
        account's own, as it cannot be deleted)."""
        if not isinstance(spec, dict):
            return [_error("InvalidType", "", "An object is expected.")]
        key = spec.get("id")
        field = self.fields.get(key) if isinstance(key, int) and not isinstance(key, bool) else None
        if field is None or field["entity"] != entity:
            return [_error("NotFound", "id", "Entity not found.")]
        if not field.get("created") and field["code"] is not None:
            return [_error("NotSupportedChoice", "id", f"The field {field['code']} is predefined.")]
        errors = []
        if "name" in spec:
            name = spec["name"]
            if not isinstance(name, str) or not name.strip():
                errors.append(_error("NotBlank", "name", "This value should not be blank."))
            elif len(name) > MAX_TEXT:
                errors.append(_error("Length", "name", f"At most {MAX_TEXT} characters."))
        for fixed in ("type", "code"):
            given = spec.get(fixed)
            now = field[fixed]
            if given is not None and (
                not isinstance(given, str) or given.upper() != str(now).upper()
            ):
                errors.append(
                    _error("NotSupportedChoice", fixed, f"A field's {fixed} stays {now!r}.")
                )
        sort = spec.get("sort")
        if sort is not None and (
            isinstance(sort, bool) or not isinstance(sort, int) or not 0 <= sort < 2**31
        ):
            errors.append(_error("InvalidType", "sort", "This value should be of type int."))
        if "enums" in spec:
            enums = spec["enums"]
            if field["type"] not in ENUM_TYPES:
                errors.append(_error("NotSupportedChoice", "enums", "This field has no options."))
            elif not (
                isinstance(enums, list)
                and enums
                and all(isinstance(e, dict) and isinstance(e.get("value"), str) for e in enums)
            ):
                errors.append(
                    _error("NotBlank", "enums", "A list of options {id?, value, sort} is expected.")
                )
            else:
                errors += _option_problems(enums)
                known = set(field["enums"].values())
                wrong = [
                    index
                    for index, o in enumerate(enums)
                    if o.get("id") is not None
                    and (isinstance(o["id"], bool) or not isinstance(o["id"], int))
                ]
                if wrong:
                    return errors + [
                        _error("InvalidType", f"enums.{i}.id", "This value should be of type int.")
                        for i in wrong
                    ]
                ids = [o.get("id") for o in enums if o.get("id") is not None]
                if len(ids) != len(set(ids)):
                    errors.append(_error("NotUnique", "enums", "An option id is given twice."))
                errors += [
                    _error("NotFound", f"enums.{index}.id", "This field has no such option.")
                    for index, option in enumerate(enums)
                    if option.get("id") is not None and option.get("id") not in known
                ]
        return errors

    def change(self, spec: Mapping[str, Any]) -> None:
        """Apply a checked change. The options given are the field's options after it:
        one with an ``id`` keeps it (its text may change), one without gets a new id, one
        not given is gone (**[inference]**: the documentation's edit takes the list)."""
        field = self.fields[spec["id"]]
        if "name" in spec:
            field["name"] = spec["name"].strip()
        if spec.get("sort") is not None:
            field["sort"] = spec["sort"]
        if "enums" in spec:
            key = spec["id"]
            before = set(field["enums"].values())
            kept = {o["id"] for o in spec["enums"] if o.get("id") is not None}
            # Ids not in use first; an option removed now gives its id up last.
            span = range(key * 1000 + 1, key * 1000 + MAX_OPTIONS + 1)
            fresh = iter([n for n in span if n not in before] + sorted(before - kept))
            field["enums"] = {
                o["value"]: o["id"] if o.get("id") is not None else next(fresh)
                for o in spec["enums"]
            }

    def field_id(self, entity: str, item: Mapping[str, Any]) -> int | None:
        """The id an item of ``custom_fields_values`` names (by id or code), if it is known."""
        key = item.get("field_id")
        if key is None and "field_code" in item:
            code = item["field_code"]
            return next(
                (k for k, f in self.fields.items() if f["entity"] == entity and f["code"] == code),
                None,
            )
        if isinstance(key, bool) or not isinstance(key, int):
            return None
        field = self.fields.get(key)
        return key if field is not None and field["entity"] == entity else None

    def check(self, entity: str, values: Any, prefix: str) -> list[dict[str, Any]]:
        """Every problem of one entity's ``custom_fields_values``, with its dotted path."""
        if values is None:
            return []
        if not isinstance(values, list):
            return [_error("InvalidType", prefix, "An array is expected.")]
        errors: list[dict[str, Any]] = []
        if len(values) > 40:
            errors.append(
                _error("TooManyValues", prefix, "No more than 40 custom field values per entity.")
            )
        for index, item in enumerate(values):
            where = f"{prefix}.{index}"
            if not isinstance(item, dict):
                errors.append(_error("InvalidType", where, "An object is expected."))
                continue
            key = self.field_id(entity, item)
            if key is None:
                spot = (
                    "field_code" if "field_id" not in item and "field_code" in item else "field_id"
                )
                errors.append(_error("NotSupportedChoice", f"{where}.{spot}", _CHOICE))
                continue
            listed = item.get("values")
            if listed is None:
                continue  # null clears the field
            if not isinstance(listed, list):
                errors.append(_error("InvalidType", f"{where}.values", "An array is expected."))
                continue
            for number, value in enumerate(listed):
                errors += self._check_value(
                    self.fields[key], _given(value), f"{where}.values.{number}"
                )
        return errors

    def _check_value(self, field: Mapping[str, Any], value: Any, spot: str) -> list[dict[str, Any]]:
        if not isinstance(value, dict):
            return [_error("InvalidType", spot, "An object is expected.")]
        enums: dict[str, int] = field["enums"]
        kind = field["type"]
        if kind == "checkbox" and not isinstance(value.get("value"), bool):
            return [_error("InvalidType", f"{spot}.value", "true or false is expected.")]
        if kind not in ENUM_TYPES:
            for key in ("enum_code", "enum_id"):
                if key in value:
                    return [
                        _error("FieldNotExpected", f"{spot}.{key}", "This field was not expected.")
                    ]
            if "value" not in value:
                return [_error("NotBlank", f"{spot}.value", "This value should not be blank.")]
            if isinstance(value["value"], (dict, list)):
                return [_error("InvalidType", f"{spot}.value", "A text or a number is expected.")]
            if kind in NUMERIC and not _numeric(value["value"]):
                return [_error("InvalidType", f"{spot}.value", "This value should be a number.")]
            if kind in DATE_TYPES and timestamp(value["value"]) is None:
                return [
                    _error(
                        "InvalidType",
                        f"{spot}.value",
                        "A date is expected: a Unix timestamp or an RFC 3339 date.",
                    )
                ]
            return []
        if "enum_id" in value and value["enum_id"] not in enums.values():
            return [_error("NotSupportedChoice", f"{spot}.enum_id", _CHOICE)]
        if "enum_code" in value and value["enum_code"] not in enums:
            return [_error("NotSupportedChoice", f"{spot}.enum_code", _CHOICE)]
        if kind == "multitext":
            if not isinstance(value.get("value"), (str, int)) or value.get("value") == "":
                return [_error("NotBlank", f"{spot}.value", "This value should not be blank.")]
            return []
        if "enum_id" not in value and str(value.get("value")) not in enums:
            return [_error("NotSupportedChoice", f"{spot}.value", _CHOICE)]
        return []

    def stored(self, entity: str, values: Any) -> list[dict[str, Any]] | None:
        """The read-back shape of checked ``custom_fields_values`` (``None`` when empty)."""
        if not values:
            return None
        out = []
        for item in values:
            key = self.field_id(entity, item)
            assert key is not None  # checked before
            if item.get("values") is None:
                continue
            field = self.fields[key]
            out.append(
                {
                    "field_id": key,
                    "field_name": field["name"],
                    "field_code": field["code"],
                    "field_type": field["type"],
                    "values": [self._stored_value(field, _given(v)) for v in item["values"]],
                }
            )
        return out or None

    def merged(
        self, entity: str, current: list[dict[str, Any]] | None, values: Any
    ) -> list[dict[str, Any]] | None:
        """An update's ``custom_fields_values`` laid over the stored ones: a field it names
        gets the new values (``values: null`` clears it), a field it does not name keeps
        its own (the official library's ``NullCustomFieldValueCollection`` exists because
        leaving a field out does not clear it)."""
        if not isinstance(values, list):
            return current
        kept = {f["field_id"]: f for f in current or []}
        for item in values:
            key = self.field_id(entity, item)
            assert key is not None  # checked before
            shown = self.stored(entity, [item])
            if shown is None:
                kept.pop(key, None)
            else:  # in its place, when it had one
                kept[key] = shown[0]
        return list(kept.values()) or None

    @staticmethod
    def _stored_value(field: Mapping[str, Any], value: Mapping[str, Any]) -> dict[str, Any]:
        enums: dict[str, int] = field["enums"]
        if field["type"] in DATE_TYPES:
            return {"value": timestamp(value["value"])}
        if field["type"] not in ENUM_TYPES:
            return {"value": value["value"]}
        by_id: dict[Any, str] = {enum_id: text for text, enum_id in enums.items()}
        if field["type"] == "multitext":
            code: str | None = value.get("enum_code")
            if code is None:
                code = by_id.get(value.get("enum_id"), next(iter(enums), ""))
            return {"value": value["value"], "enum_id": enums.get(code or ""), "enum_code": code}
        text = by_id[value["enum_id"]] if "enum_id" in value else str(value["value"])
        return {"value": text, "enum_id": enums[text], "enum_code": None}

    def described(self, entity: str, base: str) -> list[dict[str, Any]]:
        """``GET /api/v4/{entity}/custom_fields`` items, in id order."""
        return [
            {
                "id": key,
                "name": field["name"],
                "type": field["type"],
                "account_id": 1,
                "code": field["code"],
                "sort": field.get("sort", 500 + index),
                "is_api_only": False,
                "enums": [
                    {"id": enum_id, "value": text, "sort": number * 10}
                    for number, (text, enum_id) in enumerate(field["enums"].items(), 1)
                ]
                or None,
                "group_id": None,
                "required_statuses": [],
                "is_deletable": bool(field.get("created")) or field["code"] is None,
                "is_predefined": not field.get("created") and field["code"] is not None,
                "entity_type": entity,
                "remind": None,
                "settings": None,
                "_links": {"self": {"href": f"{base}/{entity}/custom_fields/{key}"}},
            }
            for index, (key, field) in enumerate(sorted(self.fields.items()))
            if field["entity"] == entity
        ]


def _numeric(value: Any) -> bool:
    """What PHP's ``is_numeric`` takes (ASCII digits, a sign, a point, an exponent, white
    space around; not ``nan``, ``inf``, ``1_000``, ``٣`` or hex, all of which Python's
    ``float`` reads) and is a finite amount (``1e400`` is not)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if not isinstance(value, str) or not _PHP_NUMERIC.fullmatch(value):
        return False
    return math.isfinite(float(value))


def _option_problems(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A created field's options: at most :data:`MAX_OPTIONS`, each a distinct text of at
    most :data:`MAX_TEXT` characters (two alike would be one option)."""
    if len(options) > MAX_OPTIONS:
        return [_error("TooManyValues", "enums", f"At most {MAX_OPTIONS} options.")]
    errors = []
    seen: set[str] = set()
    for index, option in enumerate(options):
        value = option["value"]
        if len(value) > MAX_TEXT:
            errors.append(
                _error("Length", f"enums.{index}.value", f"At most {MAX_TEXT} characters.")
            )
        elif value in seen:
            errors.append(
                _error("NotUnique", f"enums.{index}.value", f"The option {value!r} is given twice.")
            )
        seen.add(value)
    return errors
