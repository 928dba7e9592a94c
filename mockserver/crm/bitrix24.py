"""A fake Bitrix24 portal behind an inbound webhook: ``/rest/{user_id}/{secret}/{method}[.json]``.

It keeps leads, contacts and deals the way the real REST API returns them
(strings everywhere, multifields with ids, ``Lead #12`` titles), takes
parameters in all four encodings (GET query, form and multipart with PHP
bracket names, JSON), answers in the ``{"result", "time"}`` envelope with
``total``/``next`` paging by 50, runs ``batch``, and fails like the real
thing: ``{"error", "error_description"}`` with the revised table's statuses
(each overridable), and the leaky-bucket rate limit (50 then 2 per second;
enterprise 250 then 5) on the clock the tests control.

Not emulated (yet): ``$result[...]`` references inside ``batch``, the
"operating" time limit, ``.xml`` answers (``.xml`` is answered in JSON).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from aiohttp import web

from mockserver.forms import parse_php_form
from mockserver.models import CRM_URL_WORD, CRM_URL_WORD_TEXT

from .base import CrmProfile

if TYPE_CHECKING:
    from mockserver.journal import RecordedRequest

__all__ = ["PLANS", "STATUSES", "Bitrix24", "BitrixError"]

#: Leaky bucket (capacity, drained per second) by plan.
PLANS: Final = {
    "standard": (50, 2.0),
    "enterprise": (250, 5.0),
    "unlimited": (float("inf"), 0.0),  # for rehearsals that are not about the limit
}

#: HTTP status of each system error (the revised table); a profile may override any.
STATUSES: Final = {
    "": 400,
    "INTERNAL_SERVER_ERROR": 500,
    "QUERY_LIMIT_EXCEEDED": 503,
    "NO_AUTH_FOUND": 401,
    "INVALID_CREDENTIALS": 401,
    "ERROR_METHOD_NOT_FOUND": 404,
    "insufficient_scope": 401,
    "ERROR_CORE": 400,
    "ERROR_BATCH_LENGTH_EXCEEDED": 400,
    "ERROR_BATCH_METHOD_NOT_ALLOWED": 400,
}

ENTITIES: Final = ("lead", "contact", "deal")
MULTIFIELDS: Final = ("PHONE", "EMAIL", "WEB", "IM")
FIELDS: Final = {
    "lead": (
        "TITLE",
        "NAME",
        "SECOND_NAME",
        "LAST_NAME",
        "STATUS_ID",
        "SOURCE_ID",
        "SOURCE_DESCRIPTION",
        "COMMENTS",
        "OPPORTUNITY",
        "CURRENCY_ID",
        "ASSIGNED_BY_ID",
        "COMPANY_TITLE",
        "POST",
        "ADDRESS",
        "BIRTHDATE",
        "CONTACT_ID",
        "COMPANY_ID",
        "OPENED",
        "UTM_SOURCE",
        "UTM_MEDIUM",
        "UTM_CAMPAIGN",
        "UTM_CONTENT",
        "UTM_TERM",
    ),
    "contact": (
        "NAME",
        "SECOND_NAME",
        "LAST_NAME",
        "TYPE_ID",
        "SOURCE_ID",
        "SOURCE_DESCRIPTION",
        "COMMENTS",
        "POST",
        "ADDRESS",
        "BIRTHDATE",
        "COMPANY_ID",
        "ASSIGNED_BY_ID",
        "OPENED",
    ),
    "deal": (
        "TITLE",
        "TYPE_ID",
        "STAGE_ID",
        "CATEGORY_ID",
        "OPPORTUNITY",
        "CURRENCY_ID",
        "CONTACT_ID",
        "COMPANY_ID",
        "COMMENTS",
        "ASSIGNED_BY_ID",
        "SOURCE_ID",
        "OPENED",
        "BEGINDATE",
        "CLOSEDATE",
    ),
}
DEFAULTS: Final = {
    "lead": {"STATUS_ID": "NEW", "OPPORTUNITY": "0.00", "CURRENCY_ID": "RUB", "OPENED": "Y"},
    "contact": {"TYPE_ID": "CLIENT", "OPENED": "Y"},
    "deal": {
        "STAGE_ID": "NEW",
        "CATEGORY_ID": "0",
        "OPPORTUNITY": "0.00",
        "CURRENCY_ID": "RUB",
        "OPENED": "Y",
    },
}
PAGE: Final = 50
BATCH_LIMIT: Final = 50


class BitrixError(Exception):
    """A method or system error: ``error`` code (often ``""``) and its description."""

    def __init__(self, code: str, description: str) -> None:
        self.code = code
        self.description = description
        super().__init__(f"{code or '(method error)'}: {description}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return list(value.values())
    return [] if value in (None, "") else [value]


class Bitrix24(CrmProfile):
    """The fake portal. ``webhook_path`` is what to append to the server's URL."""

    name: ClassVar[str] = "bitrix24"

    def __init__(
        self,
        *,
        user_id: str = "1",
        secret: str | None = None,
        scope: tuple[str, ...] = ("crm",),
        plan: str = "standard",
        statuses: Mapping[str, int] | None = None,
        required: Mapping[str, tuple[str, ...]] | None = None,
        data: str | Path | None = None,
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"plan: got {plan!r}, expected one of {', '.join(PLANS)}")
        for field, value in (("user_id", str(user_id)), ("secret", secret or "x")):
            if not CRM_URL_WORD.fullmatch(value):
                raise ValueError(f"{field}: got {value!r}, expected {CRM_URL_WORD_TEXT}")
        super().__init__(data=data)
        # With --data the portal keeps its identity: a restart without --bitrix24-secret
        # serves the webhook URL the integrator already configured.
        identity = self.store.meta.get("identity", {})
        self.user_id = str(user_id)
        self.secret = secret or str(identity.get("secret") or "b24" + secrets.token_hex(6))
        self.store.set_meta("identity", {"user_id": self.user_id, "secret": self.secret})
        self.scope = tuple(scope)
        stored = self.store.meta.get("webhooks", {})
        #: secret → (user id, scopes): the portal's inbound webhooks.
        self.webhooks: dict[str, tuple[str, tuple[str, ...]]] = {
            key: (str(value[0]), tuple(value[1])) for key, value in stored.items()
        }
        self.webhooks[self.secret] = (self.user_id, self.scope)
        self._save_webhooks()
        self.plan = plan
        self.capacity, self.drain = PLANS[plan]
        self.statuses = {**STATUSES, **(statuses or {})}
        self.required = {key: tuple(value) for key, value in (required or {}).items()}
        self._level = 0.0
        self._level_at: float | None = None

    @property
    def webhook_path(self) -> str:
        return f"/rest/{self.user_id}/{self.secret}/"

    def issue_webhook(self, user_id: str = "1", scope: tuple[str, ...] = ("crm",)) -> str:
        """A new inbound webhook; returns its path (``/rest/{user_id}/{secret}/``)."""
        secret = "b24" + secrets.token_hex(6)
        self.webhooks[secret] = (str(user_id), tuple(scope))
        self._save_webhooks()
        return f"/rest/{user_id}/{secret}/"

    def revoke_webhook(self, secret: str) -> None:
        self.webhooks.pop(secret, None)
        self._save_webhooks()

    def _save_webhooks(self) -> None:
        self.store.set_meta("webhooks", {k: [v[0], list(v[1])] for k, v in self.webhooks.items()})
        self.store.flush()  # rare (setup, the admin API): committed before the call returns

    def to_json(self) -> dict[str, Any]:
        hooks = [
            {"user_id": u, "secret": s, "scope": list(scope), "path": f"/rest/{u}/{s}/"}
            for s, (u, scope) in self.webhooks.items()
        ]
        return {**super().to_json(), "webhooks": hooks}

    def describe(self, base_url: str) -> str:
        return (
            f"webhook URL {base_url}{self.webhook_path} (plan {self.plan}; "
            f"records and calls at {base_url}/__admin/crm/{self.name})"
        )

    def reset(self) -> None:
        hooks = dict(self.webhooks)
        super().reset()
        self.store.set_meta("identity", {"user_id": self.user_id, "secret": self.secret})
        self.webhooks = hooks
        self._save_webhooks()
        self._level = 0.0
        self._level_at = None

    # --- the request ---------------------------------------------------------------

    def claims(self, record: RecordedRequest) -> bool:
        return record.path.startswith("/rest/")

    def _error(self, code: str, description: str, status: int | None = None) -> web.Response:
        body = {"error": code, "error_description": description}
        return web.json_response(body, status=status or self.statuses.get(code, 400))

    def _envelope(self, result: Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        moment = self.clock.now()
        stamp = moment.timestamp()
        timing = {
            "start": stamp,
            "finish": stamp,
            "duration": 0.0,
            "processing": 0.0,
            "date_start": moment.isoformat(timespec="seconds"),
            "date_finish": moment.isoformat(timespec="seconds"),
            "operating_reset_at": int(stamp) + 600,
            "operating": 0.0,
        }
        return {"result": result, **(extra or {}), "time": timing}

    def _take_token(self) -> bool:
        """Leaky bucket: each request adds one; the level drains ``drain`` per second."""
        moment = self.clock.now().timestamp()
        if self._level_at is not None:
            self._level = max(0.0, self._level - (moment - self._level_at) * self.drain)
        self._level_at = moment
        if self._level + 1 > self.capacity:
            return False
        self._level += 1
        return True

    def call_name(self, record: RecordedRequest) -> str:
        name = record.path.rsplit("/", 1)[-1]
        return name.removesuffix(".json").removesuffix(".xml").lower()

    async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        parts = record.path.removeprefix("/rest/").split("/")
        if len(parts) != 3 or not all(parts):
            return self._error("NO_AUTH_FOUND", "Wrong authorization data")
        user_id, secret, method = parts
        hook = self.webhooks.get(secret)
        if hook is None or hook[0] != user_id:
            return self._error(
                "INVALID_CREDENTIALS",
                "No active webhook with the specified user identifier and secret code was found",
            )
        method = method.removesuffix(".json").removesuffix(".xml").lower()
        if method not in self.methods():
            return self._error("ERROR_METHOD_NOT_FOUND", "Method not found!")
        if method.startswith("crm.") and "crm" not in hook[1]:
            return self._error(
                "insufficient_scope",
                "The request requires higher privileges than provided by the webhook token",
            )
        if not self._take_token():
            return self._error("QUERY_LIMIT_EXCEEDED", "Too many requests")
        fault = self.due_fault(method)
        if fault is not None and fault.kind == "error":
            return self._error(fault.code, fault.message, fault.status)
        if fault is not None and fault.kind == "html":
            return fault.gateway_page()
        if fault is not None and fault.kind == "redirect":
            raise web.HTTPFound(location=fault.location + record.url)
        try:
            params = self.params(record)
            result, extra = self.call(method, params)
            response = web.json_response(self._envelope(result, extra))
        except BitrixError as exc:
            result, response = None, self._error(exc.code, exc.description)
        if fault is not None and fault.kind in ("commit_then_drop", "commit_then_hang"):
            await self.drop_connection(
                request, hang=fault.seconds if fault.kind == "commit_then_hang" else None
            )
        return response

    def params(self, record: RecordedRequest) -> dict[str, Any]:
        """Query and body, merged (the body wins); top-level names are case-insensitive."""
        merged: dict[str, Any] = {}
        query = record.query
        if isinstance(query, dict):
            merged.update(query)
        body: Any = None
        content_type = record.content_type
        if content_type == "application/json" or (
            record.body[:1] in (b"{", b"[") and content_type != "multipart/form-data"
        ):
            body = record.json
            if not isinstance(body, dict):
                raise BitrixError("", "Request body must be a JSON object.")
        elif content_type == "multipart/form-data":
            body = parse_php_form(_multipart_as_query(record))
        elif record.body:
            body = record.form if isinstance(record.form, dict) else parse_php_form(record.text)
        if isinstance(body, dict):
            merged.update(body)
        return {str(key).lower(): value for key, value in merged.items()}

    # --- the methods ---------------------------------------------------------------

    def methods(self) -> set[str]:
        names = {
            f"crm.{entity}.{op}"
            for entity in ENTITIES
            for op in ("add", "get", "list", "update", "fields")
        }
        return names | {"batch"}

    def call(self, method: str, params: Mapping[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        """Run one method; return its ``result`` and extra envelope fields."""
        if method == "batch":
            return self._batch(params), None
        _, entity, op = method.split(".")
        if op == "add":
            return self._add(entity, params), None
        if op == "get":
            return self._get(entity, params), None
        if op == "update":
            return self._update(entity, params), None
        if op == "fields":
            return self._fields(entity), None
        return self._list(entity, params)

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
        value = _text(entry.get("VALUE", ""))
        if not value:
            return None
        number = int(self.store.meta.get("multifield_id", 0)) + 1
        self.store.set_meta("multifield_id", number)
        return {
            "ID": str(number),
            "VALUE_TYPE": _text(entry.get("VALUE_TYPE") or "WORK"),
            "VALUE": value,
            "TYPE_ID": kind,
        }

    def _check(self, entity: str, record: Mapping[str, Any]) -> None:
        for entry in record.get("EMAIL", []):
            if "@" not in entry["VALUE"]:
                raise BitrixError(
                    "ERROR_CORE",
                    f"The field Work e-mail contains an invalid address: {entry['VALUE']}",
                )
        missing = [name for name in self.required.get(entity, ()) if not record.get(name)]
        if missing:
            raise BitrixError("", f"Required fields are not filled in: {', '.join(missing)}.")

    def _add(self, entity: str, params: Mapping[str, Any]) -> int:
        fields = self._fields_param(params)
        record: dict[str, Any] = dict(DEFAULTS[entity])
        for name, value in fields.items():
            if name in MULTIFIELDS:
                entries = [self._multifield(name, item) for item in _items(value)]
                record[name] = [entry for entry in entries if entry]
            elif name in FIELDS[entity] or name.startswith("UF_"):
                record[name] = _text(value)
            # anything else is ignored, as the real API does
        self._check(entity, record)
        new_id = self.store.next_id(entity)
        moment = self.clock.now().isoformat(timespec="seconds")
        record.update(
            {
                "ID": str(new_id),
                "DATE_CREATE": moment,
                "DATE_MODIFY": moment,
                "CREATED_BY_ID": self.user_id,
                "MODIFY_BY_ID": self.user_id,
            }
        )
        record.setdefault("ASSIGNED_BY_ID", self.user_id)
        if entity in ("lead", "deal") and not record.get("TITLE"):
            record["TITLE"] = f"{entity.capitalize()} #{new_id}"
        for kind in ("PHONE", "EMAIL"):
            record[f"HAS_{kind}"] = "Y" if record.get(kind) else "N"
        self.store.put(entity, new_id, record)
        return new_id

    def _find(self, entity: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raw = params.get("id")
        try:
            key = int(str(raw))
        except ValueError:
            raise BitrixError("", "ID is not defined or invalid.") from None
        if key <= 0:
            raise BitrixError("", "ID is not defined or invalid.")
        record = self.store.records[entity].get(key)
        if record is None:
            raise BitrixError("", "Not found")
        return record

    def _get(self, entity: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._find(entity, params))

    def _update(self, entity: str, params: Mapping[str, Any]) -> bool:
        record = self._find(entity, params)
        fields = self._fields_param(params)
        changed = dict(record)
        for name, value in fields.items():
            if name in MULTIFIELDS:
                changed[name] = self._merge_multifield(name, changed.get(name, []), value)
            elif name in FIELDS[entity] or name.startswith("UF_"):
                changed[name] = _text(value)
        self._check(entity, changed)
        changed["DATE_MODIFY"] = self.clock.now().isoformat(timespec="seconds")
        for kind in ("PHONE", "EMAIL"):
            changed[f"HAS_{kind}"] = "Y" if changed.get(kind) else "N"
        self.store.put(entity, int(record["ID"]), changed)
        return True

    def _merge_multifield(
        self, kind: str, current: list[dict[str, str]], value: Any
    ) -> list[dict[str, str]]:
        """No ID: appended. An ID: overwrites that entry, or deletes it (DELETE=Y, empty VALUE)."""
        entries = [dict(entry) for entry in current]
        for item in _items(value):
            if not isinstance(item, Mapping):
                item = {"VALUE": item}
            item = {str(k).upper(): v for k, v in item.items()}
            if "ID" not in item:
                added = self._multifield(kind, item)
                if added:
                    entries.append(added)
                continue
            target = next((e for e in entries if e["ID"] == _text(item["ID"])), None)
            if target is None:
                continue
            if _text(item.get("DELETE")).upper() == "Y" or not _text(item.get("VALUE", "")):
                entries.remove(target)
                continue
            target["VALUE"] = _text(item["VALUE"])
            if "VALUE_TYPE" in item:
                target["VALUE_TYPE"] = _text(item["VALUE_TYPE"])
        return entries

    def _fields(self, entity: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ID": {"type": "integer", "isRequired": False, "isReadOnly": True, "title": "ID"}
        }
        for name in FIELDS[entity]:
            out[name] = {
                "type": "string",
                "isRequired": name in self.required.get(entity, ()),
                "isReadOnly": False,
                "title": name.replace("_", " ").title(),
            }
        for name in MULTIFIELDS:
            out[name] = {
                "type": "crm_multifield",
                "isRequired": False,
                "isReadOnly": False,
                "isMultiple": True,
                "title": name.title(),
            }
        return out

    def _list(
        self, entity: str, params: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        records = [dict(record) for _, record in sorted(self.store.records[entity].items())]
        filters = params.get("filter") or {}
        if isinstance(filters, Mapping):
            records = [r for r in records if all(_passes(r, k, v) for k, v in filters.items())]
        order = params.get("order") or {}
        if isinstance(order, Mapping):
            for key, direction in reversed(list(order.items())):
                field = str(key).upper()
                records.sort(
                    key=lambda r: _sort_key(r.get(field)),
                    reverse=str(direction).upper() == "DESC",
                )
        select = [str(name).upper() for name in _items(params.get("select"))]
        if select and "*" not in select:
            wanted = set(select) | {"ID"}
            records = [{k: v for k, v in r.items() if k in wanted} for r in records]
        elif not select or select == ["*"]:
            records = [{k: v for k, v in r.items() if k not in MULTIFIELDS} for r in records]
        try:
            start = int(str(params.get("start", 0) or 0))
        except ValueError:
            start = 0
        if start == -1:
            return records[:PAGE], {}
        page = records[start : start + PAGE]
        extra: dict[str, Any] = {"total": len(records)}
        if start + PAGE < len(records):
            extra = {"next": start + PAGE, **extra}
        return page, extra

    def _batch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        commands = params.get("cmd") or {}
        if isinstance(commands, list):
            commands = {str(index): command for index, command in enumerate(commands)}
        if not isinstance(commands, Mapping):
            raise BitrixError("", "Parameter 'cmd' must be array.")
        if len(commands) > BATCH_LIMIT:
            raise BitrixError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
        halt = _text(params.get("halt", "0")) in ("1", "true", "Y")
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        totals: dict[str, Any] = {}
        nexts: dict[str, Any] = {}
        for key, command in commands.items():
            text = str(command)
            method, _, query = text.partition("?")
            method = method.strip().lower().removesuffix(".json")
            try:
                if method == "batch":
                    raise BitrixError(
                        "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage"
                    )
                if method not in self.methods():
                    raise BitrixError("ERROR_METHOD_NOT_FOUND", "Method not found!")
                sub = parse_php_form(query)
                sub_params = (
                    {str(k).lower(): v for k, v in sub.items()} if isinstance(sub, dict) else {}
                )
                result, extra = self.call(method, sub_params)
                results[str(key)] = result
                if extra and "total" in extra:
                    totals[str(key)] = extra["total"]
                if extra and "next" in extra:
                    nexts[str(key)] = extra["next"]
            except BitrixError as exc:
                errors[str(key)] = {"error": exc.code, "error_description": exc.description}
                if halt:
                    break
        return {
            "result": results or [],
            "result_error": errors or [],
            "result_total": totals or [],
            "result_next": nexts or [],
            "result_time": [],
        }


def _sort_key(value: Any) -> tuple[int, Any]:
    text = _text(value)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def _passes(record: Mapping[str, Any], key: str, expected: Any) -> bool:
    """Bitrix filter keys: ``ID``, ``>ID``, ``>=ID``, ``<ID``, ``<=ID``, ``!ID``, ``%TITLE``."""
    operator = ""
    name = str(key)
    for prefix in (">=", "<=", ">", "<", "!", "%", "="):
        if name.startswith(prefix):
            operator, name = prefix, name[len(prefix) :]
            break
    actual = record.get(name.upper())
    if isinstance(actual, list):
        values = [entry["VALUE"] for entry in actual]
        return any(_passes({"X": value}, operator + "X", expected) for value in values)
    options = [_text(item) for item in _items(expected)] if isinstance(expected, list) else None
    text = _text(actual)
    wanted = _text(expected)
    if operator == "%":
        return wanted.lower() in text.lower()
    if operator == "!":
        return text not in options if options is not None else text != wanted
    if operator in (">", "<", ">=", "<="):
        left, right = _sort_key(text), _sort_key(wanted)
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[
            operator
        ]
    return text in options if options is not None else text == wanted


def _multipart_as_query(record: RecordedRequest) -> str:
    """A multipart/form-data body as an urlencoded text, so PHP bracket names decode alike."""
    from urllib.parse import quote_plus

    head = f"Content-Type: {record.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + record.body)
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        value = raw.decode(part.get_content_charset() or "utf-8", errors="replace")
        pairs.append(f"{quote_plus(str(name))}={quote_plus(value)}")
    return "&".join(pairs)
