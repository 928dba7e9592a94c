"""Leads, contacts, deals and companies with their life cycle (add, get, update, delete,
list, fields), multifields and custom-field values, as the classic ``crm.*`` methods of
bitrix24/b24restdocs describe them (the userfield, timeline and duplicate methods are in
``extras``)."""

from __future__ import annotations

import bisect
import builtins
import html
import itertools
from collections.abc import Callable, Mapping
from typing import Any, Final

from .dates import DATE_KINDS
from .extras import Extras, Result
from .filters import compile_date_filter, compile_filter, filter_field, sort_key, split_key
from .schema import (
    DEFAULTS,
    FIELDS,
    MULTIFIELDS,
    PAGE,
    READ_ONLY,
    UNREADABLE,
    BitrixError,
    array_param,
    field_value,
    items,
    list_start,
    php_text,
    shown_value,
    stored,
    text,
)

__all__ = ["Records"]

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


#: ``crm.contact.fields`` marks these three ``isRequired: true``: a contact is refused
#: without one of them (docs/crm-bitrix24.md).
CONTACT_NAMES: Final = ("NAME", "SECOND_NAME", "LAST_NAME")


#: The custom types whose single value may be an array: the REST layer reads dates
#: first (`CCrmRestProxyBase::internalizeFields`: one it cannot read is dropped, never
#: reaching the check), and the file type's class takes arrays.
_OWN_ARRAYS: Final = (*DATE_KINDS, "file")


def multifields(entity: str) -> tuple[str, ...]:
    """Deals have no phones or e-mails of their own (``crm.deal.fields``): their contacts do."""
    return () if entity == "deal" else MULTIFIELDS


class Records(Extras):
    """The CRM methods. The portal that mixes this in has a store, a clock and a user."""

    required: dict[str, tuple[str, ...]]
    #: A contact needs one of :data:`CONTACT_NAMES` (unless ``required`` names the
    #: contact's fields itself).
    contact_named: bool

    # --- helpers -------------------------------------------------------------------

    def _multifield(self, kind: str, entry: Any) -> dict[str, str] | None:
        """A new entry; its ``VALUE`` as ``tryInternalizeMultiFields`` reads it,
        ``trim((string)$v['VALUE'])`` (an array or an object is ``Array``)."""
        if not isinstance(entry, Mapping):
            entry = {"VALUE": entry}
        entry = {str(k).upper(): v for k, v in entry.items()}
        value = php_text(entry.get("VALUE"))
        if not value:
            return None
        value_type = text(entry.get("VALUE_TYPE") or "WORK").upper()
        if value_type not in VALUE_TYPES[kind]:
            allowed = ", ".join(VALUE_TYPES[kind])
            raise BitrixError(
                "", f"{kind} VALUE_TYPE: got {shown_value(value_type)}, expected one of {allowed}"
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
                kept = field_value(name, kinds[name], value)
                if kept is not UNREADABLE:  # a date the portal cannot read is dropped
                    record[name] = kept
            elif name in custom:
                kept = self._userfield_value(custom[name], value)
                if kept is not UNREADABLE:
                    record[name] = kept
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
        if (
            definition["MULTIPLE"] != "Y"
            and kind not in _OWN_ARRAYS
            and isinstance(value, list | Mapping)
        ):
            # `CUserTypeManager::CheckFields`: a single field given an array is refused
            # (USER_TYPE_FIELD_VALUE_IS_MULTIPLE) unless its type's class says
            # `canUseArrayValueForSingleField()`, as the file type's does.
            label = definition.get("EDIT_FORM_LABEL")
            if isinstance(label, Mapping):  # per language: the portal speaks English here
                label = label.get("en")
            shown = label if isinstance(label, str) and label else name
            # `HtmlFilter::encode` is htmlspecialchars with ENT_COMPAT: `'` stays.
            shown = html.escape(shown, quote=False).replace('"', "&quot;")
            raise BitrixError("", f'The field "{shown}" takes one value.')
        if kind == "enumeration":
            known = {str(option["ID"]) for option in definition.get("LIST", [])}
            for option in items(value) if definition["MULTIPLE"] == "Y" else [value]:
                if text(option) and text(option) not in known:
                    raise BitrixError(
                        "",
                        f'Invalid value for the "{name}" field: no list item {shown_value(option)}',
                    )
        kind = {"employee": "user", "money": "string"}.get(kind, kind)
        if definition["MULTIPLE"] == "Y":
            values = [stored(name, kind, item) for item in items(value)]
            return [item for item in values if item is not None and item is not UNREADABLE]
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
        if (
            entity == "contact"
            and self.contact_named
            and not any(text(record.get(name) or "").strip() for name in CONTACT_NAMES)
        ):
            missing += [name for name in CONTACT_NAMES if name not in missing]
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
        self._write(entity, record, self._fields_param(params, required=True))
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
        self._write(entity, changed, self._fields_param(params, required=True))
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
            value = php_text(item.get("VALUE"))
            if text(item.get("DELETE")).upper() == "Y" or not value:
                entries.remove(target)
                continue
            target["VALUE"] = value
            if "VALUE_TYPE" in item:
                target["VALUE_TYPE"] = text(item["VALUE_TYPE"]).upper()
        return entries

    def describe_fields(self, entity: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kind in FIELDS[entity].items():
            out[name] = {
                "type": kind,
                "isRequired": name in self.required.get(entity, ())
                or (entity == "contact" and self.contact_named and name in CONTACT_NAMES),
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
        """Filter and order on the fields they name, then show the page alone: a page of
        50 out of thousands costs the thousands' comparisons, not their full records;
        an ``ID`` range (``>ID``, ``<=ID``…) is cut by binary search first, and keyset
        paging (``start=-1`` in id order, ``huge-data.md``, b24pysdk's ``as_list_fast``)
        stops at the page's 50."""
        filters = array_param(params, "filter")
        order = array_param(params, "order")
        custom = self.userfields(entity)
        known = set(FIELDS[entity]) | set(custom) | set(multifields(entity))
        # Each known field once, its first direction: a field no record has sorts nothing,
        # and 10 000 of them must not cost 10 000 sorts.
        ordering: dict[str, bool] = {}  # field -> descending
        for key, direction in order.items():
            field = str(key).upper()
            if field in known and field not in ordering:
                ordering[field] = _descending(direction, custom=field in custom)
        tests = []
        kinds = self._kinds(entity)
        for key, value in filters.items():
            if kinds.get(filter_field(key)) in DATE_KINDS:
                dated = compile_date_filter(key, value)
                if dated is not None:  # an unreadable date: the condition is dropped
                    tests.append(dated)
                continue
            test = compile_filter(key, value)
            if filter_field(key) in known:
                tests.append(test)
            elif not test({}):  # a field no record has: the same verdict for every record
                tests = [lambda _: False]
                break
        view = self._view(entity, {filter_field(key) for key in filters} | set(ordering))
        table = self.store.records[entity]

        def kept(record_id: int) -> bool:
            seen = view(table[record_id])
            return all(test(seen) for test in tests)

        # start is a page (IRestService::getNavData): page intval(start / 50) + 1, so
        # 2 is the first page and 69 the second, a page past the last the first; any
        # negative start is the first 50 found, uncounted (nTopCount).
        start = list_start(params.get("start", 0))
        counted = start >= 0
        start = max(start, 0) // PAGE * PAGE
        select = params.get("select")
        ids = _id_range(sorted(table), filters)  # ids come increasing: sorted is O(n), in C
        by_id = all(k == "ID" and not descending for k, descending in ordering.items())
        if not counted and by_id:  # the first 50 found are the page
            found = itertools.islice((i for i in ids if kept(i)) if tests else ids, PAGE)
            return [self._selected(entity, self.shown(entity, table[i]), select) for i in found], {}
        if tests:
            ids = [record_id for record_id in ids if kept(record_id)]
        for field, descending in reversed(list(ordering.items())):
            ids.sort(key=lambda i: sort_key(view(table[i]).get(field)), reverse=descending)
        if start >= len(ids):
            # A page past the last is page 1: CDBResult::NavQuery falls back to it unless
            # the caller asks for checkOutOfRange, which the classic CRM lists do not.
            start = 0
        page = [
            self._selected(entity, self.shown(entity, table[i]), select)
            for i in ids[start : start + PAGE]
        ]
        if not counted:
            return page, {}
        extra: dict[str, Any] = {"total": len(ids)}
        if start + PAGE < len(ids):
            extra = {"next": start + PAGE, **extra}
        return page, extra

    def _kinds(self, entity: str) -> dict[str, str]:
        """Each field's type by name, the custom fields' ``USER_TYPE_ID`` included."""
        kinds = dict(FIELDS[entity])
        for name, spec in self.userfields(entity).items():
            kinds[name] = str(spec["USER_TYPE_ID"])
        return kinds

    def _view(
        self, entity: str, names: set[str]
    ) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
        """How to read the named fields of a record as :meth:`shown` has them (``null``
        when never set, ``[]`` for an unset multiple custom field, a multifield only when
        it has values), for filter and order; worked out once per list call."""
        userfields = self.userfields(entity)
        plain: dict[str, Any] = {}  # name -> what shown() has when the record lacks it
        multi: list[str] = []
        for name in names:
            spec = userfields.get(name)
            if spec is not None:
                plain[name] = [] if spec["MULTIPLE"] == "Y" else None
            elif name in multifields(entity):
                multi.append(name)
            elif name in FIELDS[entity]:
                plain[name] = None

        def view(record: Mapping[str, Any]) -> Mapping[str, Any]:
            out = {name: record.get(name, default) for name, default in plain.items()}
            for name in multi:
                out[name] = record.get(name) or None
            return out

        return view

    def _selected(self, entity: str, record: dict[str, Any], select: Any) -> dict[str, Any]:
        """``select``: ``*`` is every standard field, ``UF_*`` every custom field; the
        multifields only when named. Nothing selected is ``*``; so is a text that the
        CRM's ``getList`` leaves a text: it picks the fields only when ``(array)$select``
        names a multifield, ``*`` or a BB-text field (``COMMENTS``) and so earns the
        identity field as an array; any other text reaches ``CCrmEntityListBuilder``,
        whose non-array select is ``array()``, every field."""
        if not isinstance(select, list | Mapping) and select not in _picking_texts(entity):
            select = None
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


def _picking_texts(entity: str) -> tuple[str, ...]:
    """The texts a ``select`` may be and still pick fields (``CCrmRestProxyBase::getList``:
    ``findSelectedFmTypeIds`` and ``shouldAddIdentityFieldToSelect``, strict
    ``in_array``, so case counts)."""
    return (*multifields(entity), "*", "COMMENTS")


def _descending(direction: Any, *, custom: bool) -> bool:
    """Whether an ``order`` direction sorts down, as the portal reads it after
    ``mb_strtoupper``: for a standard field anything but ``ASC`` is ``DESC``
    (``CSqlUtil::PrepareSql``: ``if ($order != "ASC") $order = "DESC";``), for a custom
    field anything but ``DESC`` is ``ASC`` (``CCrmEntityListBuilder::Prepare`` orders the
    user fields itself: neither ``ASC`` nor ``DESC`` becomes ``ASC``)."""
    word = text(direction).upper()
    return word == "DESC" if custom else word != "ASC"


def _id_range(ids: builtins.list[int], filters: Mapping[str, Any]) -> builtins.list[int]:
    """The ids (in order) that the filter's numeric ``>ID``/``>=ID``/``<ID``/``<=ID``
    leave, by binary search; every other condition is checked record by record."""
    begin, end = 0, len(ids)
    for key, value in filters.items():
        operator, field = split_key(key)
        if field != "ID" or operator not in (">", ">=", "<", "<="):
            continue
        try:
            bound = float(text(value))
        except ValueError:
            continue
        if operator == ">":
            begin = max(begin, bisect.bisect_right(ids, bound))
        elif operator == ">=":
            begin = max(begin, bisect.bisect_left(ids, bound))
        elif operator == "<":
            end = min(end, bisect.bisect_left(ids, bound))
        else:
            end = min(end, bisect.bisect_right(ids, bound))
    return ids[begin:end] if begin or end < len(ids) else ids
