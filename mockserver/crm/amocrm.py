"""A fake amoCRM / Kommo account behind API v4: ``/api/v4/leads``, ``/api/v4/contacts``,
``/api/v4/leads/complex``.

Bearer tokens the operator issues and revokes; the subdomain from the Host
header (``example.amocrm.ru``) or the path (``/amocrm/example/api/v4/...``);
array bodies with ``request_id`` echoed; ``hal+json`` answers with
``_embedded``/``_links``, ``_page`` paging (limit up to 250) and 204 with an
empty body when nothing is found; ``custom_fields_values`` checked against a
seeded field catalogue (400 ``validation-errors`` with dotted paths); duplicate
control on ``/complex``; 7 requests a second per integration inside 50 per
account (429), and an account blocked after repeated violations (403 with an
nginx HTML page) until reset.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from aiohttp import web

from mockserver.models import CRM_SUBDOMAIN, CRM_SUBDOMAIN_TEXT

from .base import CrmProfile, now

if TYPE_CHECKING:
    from mockserver.journal import RecordedRequest

__all__ = ["DEFAULT_FIELDS", "AmoCRM"]

#: A seeded catalogue of custom fields: id → (code, type, entity, enum options).
DEFAULT_FIELDS: Final[dict[int, dict[str, Any]]] = {
    101: {
        "code": "PHONE",
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
        "type": "multitext",
        "entity": "contacts",
        "enums": {"WORK": 1011, "PRIV": 1012, "OTHER": 1013},
    },
    201: {
        "code": "SOURCE",
        "type": "select",
        "entity": "leads",
        "enums": {"chatbot": 2001, "site": 2002, "call": 2003},
    },
    202: {"code": None, "type": "text", "entity": "leads", "enums": {}},
}
PROBLEM: Final = "application/problem+json"
HAL: Final = "application/hal+json"
BLOCKED_PAGE: Final = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class _Invalid(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("validation failed")


class AmoCRM(CrmProfile):
    """The fake account. Issue a token with :meth:`issue_token`; send it as a Bearer token."""

    name: ClassVar[str] = "amocrm"

    def __init__(
        self,
        *,
        subdomain: str = "example",
        fields: Mapping[int, Mapping[str, Any]] | None = None,
        duplicate_control: bool = True,
        per_integration: int = 7,
        per_account: int = 50,
        block_after: int = 5,
        limit_body: str = "problem",
        data: str | Path | None = None,
    ) -> None:
        if not CRM_SUBDOMAIN.fullmatch(subdomain):
            raise ValueError(f"subdomain: got {subdomain!r}, expected {CRM_SUBDOMAIN_TEXT}")
        super().__init__(data=data)
        self.subdomain = subdomain
        catalogue: Mapping[int, Mapping[str, Any]] = fields or DEFAULT_FIELDS
        self.fields = {int(k): dict(v) for k, v in catalogue.items()}
        self.duplicate_control = duplicate_control
        self.per_integration = per_integration
        self.per_account = per_account
        self.block_after = block_after
        if limit_body not in ("problem", "empty", "html"):
            raise ValueError(f"limit_body: got {limit_body!r}, expected problem, empty or html")
        #: What a 429 carries: problem+json, nothing, or an HTML page (real ones vary).
        self.limit_body = limit_body
        self.tokens: dict[str, str] = dict(self.store.meta.get("tokens", {}))
        self.blocked = False
        self._hits: dict[str, deque[float]] = {}
        self._violations: deque[float] = deque()

    # --- operator ------------------------------------------------------------------

    def issue_token(self, integration: str = "integration") -> str:
        """A long-lived token for ``integration`` (each integration has its own 7/s budget)."""
        token = "amo-" + secrets.token_urlsafe(24)
        self.tokens[token] = integration
        self.store.set_meta("tokens", self.tokens)
        return token

    def revoke_token(self, token: str) -> None:
        self.tokens.pop(token, None)
        self.store.set_meta("tokens", self.tokens)

    def is_blocked(self) -> bool:
        """True once repeated rate-limit violations blocked the account (until ``unblock``)."""
        return self.blocked

    def unblock(self) -> None:
        self.blocked = False
        self._violations.clear()

    def reset(self) -> None:
        tokens = dict(self.tokens)
        super().reset()
        self.tokens = tokens
        self.store.set_meta("tokens", tokens)
        self.unblock()
        self._hits.clear()

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "tokens": dict(self.tokens), "blocked": self.blocked}

    def describe(self, base_url: str) -> str:
        token = next(iter(self.tokens), None) or self.issue_token()
        return (
            f"API {base_url}/amocrm/{self.subdomain}/api/v4 (or Host: "
            f"{self.subdomain}.amocrm.ru), token {token}"
        )

    # --- routing -------------------------------------------------------------------

    def _route(self, record: RecordedRequest) -> tuple[str, str] | None:
        """(subdomain, path under /api/v4) when this request is for amoCRM."""
        path = record.path
        if path.startswith("/amocrm/"):
            rest = path.removeprefix("/amocrm/")
            sub, _, tail = rest.partition("/")
            if tail.startswith("api/v4"):
                return sub, "/" + tail.removeprefix("api/v4").lstrip("/")
            return None
        if path.startswith("/api/v4"):
            host = record.headers.get("host", "").split(":")[0]
            sub = host.split(".")[0] if host.count(".") >= 2 else self.subdomain
            return sub, "/" + path.removeprefix("/api/v4").lstrip("/")
        return None

    def claims(self, record: RecordedRequest) -> bool:
        return self._route(record) is not None

    def _problem(
        self, status: int, title: str, detail: str, extra: Mapping[str, Any] | None = None
    ) -> web.Response:
        body = {
            "title": title,
            "type": f"https://httpstatus.es/{status}",
            "status": status,
            "detail": detail,
            **(extra or {}),
        }
        return web.json_response(body, status=status, content_type=PROBLEM)

    def _too_many(self) -> web.Response:
        if self.limit_body == "empty":
            return web.Response(status=429)
        if self.limit_body == "html":
            return web.Response(
                status=429,
                content_type="text/html",
                text="<html><body>429 Too Many Requests</body></html>",
            )
        return self._problem(
            429, "Too Many Requests", "Превышено допустимое количество запросов в секунду"
        )

    def _hal(self, body: Any, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, content_type=HAL)

    def _limited(self, integration: str) -> bool:
        moment = now().timestamp()
        account = self._hits.setdefault("*", deque())
        mine = self._hits.setdefault(integration, deque())
        for window in (account, mine):
            while window and window[0] <= moment - 1:
                window.popleft()
        if len(mine) >= self.per_integration or len(account) >= self.per_account:
            self._violations.append(moment)
            while self._violations and self._violations[0] <= moment - 60:
                self._violations.popleft()
            if len(self._violations) >= self.block_after:
                self.blocked = True
            return True
        mine.append(moment)
        account.append(moment)
        return False

    def call_name(self, record: RecordedRequest) -> str:
        route = self._route(record)
        return f"{record.method} {route[1] if route else record.path}"

    async def answer(self, record: RecordedRequest, request: web.BaseRequest) -> web.StreamResponse:
        route = self._route(record)
        assert route is not None
        subdomain, path = route
        if self.blocked:
            return web.Response(status=403, text=BLOCKED_PAGE, content_type="text/html")
        if subdomain != self.subdomain:
            return self._problem(401, "Unauthorized", f"Account {subdomain!r} not found")
        auth = record.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        integration = self.tokens.get(token)
        if integration is None:
            return self._problem(401, "Unauthorized", "Неверный логин или пароль")
        if self._limited(integration):
            if self.is_blocked():
                return web.Response(status=403, text=BLOCKED_PAGE, content_type="text/html")
            return self._too_many()
        method = f"{record.method} {path}"
        fault = self.due_fault(method)
        if fault is not None and fault.kind == "error":
            return self._problem(fault.status, fault.code, fault.message)
        if fault is not None and fault.kind == "html":
            return fault.gateway_page()
        try:
            response = self.dispatch(record, path, request.url.origin())
        except _Invalid as exc:
            response = self._problem(
                400, "Bad Request", "Request validation failed", {"validation-errors": exc.errors}
            )
        if fault is not None and fault.kind in ("commit_then_drop", "commit_then_hang"):
            await self.drop_connection(
                request, hang=fault.seconds if fault.kind.endswith("hang") else None
            )
        return response

    # --- the API -------------------------------------------------------------------

    def dispatch(self, record: RecordedRequest, path: str, origin: Any) -> web.Response:
        base = f"{origin}/api/v4"
        parts = [part for part in path.split("/") if part]
        if not parts or parts[0] not in ("leads", "contacts"):
            return self._problem(404, "Not Found", f"{record.method} {path} is not an API method")
        entity = parts[0]
        if entity == "leads" and parts[1:] == ["complex"] and record.method == "POST":
            return self._complex(record)
        if len(parts) == 1 and record.method == "POST":
            return self._create(entity, record, base)
        if len(parts) == 1 and record.method == "PATCH":
            return self._update_many(entity, record, base)
        if len(parts) == 1 and record.method == "GET":
            return self._list(entity, record, base)
        if len(parts) == 2 and parts[1].isdigit():
            key = int(parts[1])
            if record.method == "GET":
                found = self.store.records[entity].get(key)
                return (
                    self._hal(self._shown(entity, found, base))
                    if found
                    else web.Response(status=204)
                )
            if record.method == "PATCH":
                body = record.json
                if not isinstance(body, dict):
                    raise _Invalid(
                        [
                            {
                                "request_id": "0",
                                "errors": [
                                    {
                                        "code": "InvalidType",
                                        "path": "",
                                        "detail": "An object is expected.",
                                    }
                                ],
                            }
                        ]
                    )
                body = {**body, "id": key}
                return self._update_many(entity, record, base, items=[body])
        return self._problem(405, "Method Not Allowed", f"{record.method} {path}")

    def _items(self, record: RecordedRequest) -> list[dict[str, Any]]:
        body = record.json
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise _Invalid(
                [
                    {
                        "request_id": "0",
                        "errors": [
                            {
                                "code": "InvalidType",
                                "path": "",
                                "detail": "An array of objects is expected.",
                            }
                        ],
                    }
                ]
            )
        return body

    def _check_fields(self, entity: str, values: Any, prefix: str) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        if values is None:
            return errors
        if not isinstance(values, list):
            return [{"code": "InvalidType", "path": prefix, "detail": "An array is expected."}]
        if len(values) > 40:
            errors.append(
                {
                    "code": "TooManyValues",
                    "path": prefix,
                    "detail": "No more than 40 custom field values per entity.",
                }
            )
        by_code = {f["code"]: key for key, f in self.fields.items() if f["code"]}
        for index, item in enumerate(values):
            where = f"{prefix}.{index}"
            if not isinstance(item, dict):
                errors.append(
                    {"code": "InvalidType", "path": where, "detail": "An object is expected."}
                )
                continue
            key = item.get("field_id")
            if key is None and "field_code" in item:
                key = by_code.get(item["field_code"])
                if key is None:
                    errors.append(
                        {
                            "code": "NotSupportedChoice",
                            "path": f"{where}.field_code",
                            "detail": "The value you selected is not a valid choice.",
                        }
                    )
                    continue
            field = self.fields.get(key) if isinstance(key, int) else None
            if field is None or field["entity"] != entity:
                errors.append(
                    {
                        "code": "NotSupportedChoice",
                        "path": f"{where}.field_id",
                        "detail": "The value you selected is not a valid choice.",
                    }
                )
                continue
            for number, value in enumerate(item.get("values") or []):
                spot = f"{where}.values.{number}"
                if not isinstance(value, dict):
                    errors.append(
                        {"code": "InvalidType", "path": spot, "detail": "An object is expected."}
                    )
                    continue
                enums = field["enums"]
                if "enum_code" in value and not enums:
                    errors.append(
                        {
                            "code": "FieldNotExpected",
                            "path": f"{spot}.enum_code",
                            "detail": "This field was not expected.",
                        }
                    )
                elif "enum_code" in value and value["enum_code"] not in enums:
                    errors.append(
                        {
                            "code": "NotSupportedChoice",
                            "path": f"{spot}.enum_code",
                            "detail": "The value you selected is not a valid choice.",
                        }
                    )
                elif field["type"] == "select" and str(value.get("value")) not in enums:
                    errors.append(
                        {
                            "code": "NotSupportedChoice",
                            "path": f"{spot}.value",
                            "detail": "The value you selected is not a valid choice.",
                        }
                    )
        return errors

    def _validate(self, entity: str, items: list[dict[str, Any]]) -> None:
        failures = []
        for index, item in enumerate(items):
            request_id = str(item.get("request_id", index))
            errors = self._check_fields(
                entity, item.get("custom_fields_values"), "custom_fields_values"
            )
            errors += _shape_errors(item)
            if entity == "leads" and "price" in item and not isinstance(item["price"], int):
                errors.append(
                    {
                        "code": "InvalidType",
                        "path": "price",
                        "detail": "This value should be of type int.",
                    }
                )
            if errors:
                failures.append({"request_id": request_id, "errors": errors})
        if failures:
            raise _Invalid(failures)

    def _new_record(self, entity: str, item: Mapping[str, Any]) -> dict[str, Any]:
        moment = int(now().timestamp())
        key = self.store.next_id(entity)
        record: dict[str, Any] = {
            "id": key,
            "responsible_user_id": item.get("responsible_user_id", 1),
            "group_id": 0,
            "created_by": item.get("created_by", 0),
            "updated_by": 0,
            "created_at": item.get("created_at", moment),
            "updated_at": moment,
            "custom_fields_values": self._stored_fields(item.get("custom_fields_values")),
            "account_id": 1,
            "is_deleted": False,
            "_embedded": {
                "tags": [
                    {"id": i + 1, "name": t.get("name")}
                    for i, t in enumerate(_embedded(item).get("tags") or [])
                ]
            },
        }
        if entity == "leads":
            record.update(
                {
                    "name": item.get("name", f"Сделка #{key}"),
                    "price": item.get("price", 0),
                    "status_id": item.get("status_id", 1),
                    "pipeline_id": 1,
                    "loss_reason_id": None,
                    "closed_at": None,
                    "score": None,
                }
            )
        else:
            name = item.get("name") or " ".join(
                str(part) for part in (item.get("first_name"), item.get("last_name")) if part
            )
            record.update(
                {
                    "name": name,
                    "first_name": item.get("first_name", ""),
                    "last_name": item.get("last_name", ""),
                }
            )
        self.store.put(entity, key, record)
        return record

    def _stored_fields(self, values: Any) -> list[dict[str, Any]] | None:
        if not values:
            return None
        by_code = {f["code"]: key for key, f in self.fields.items() if f["code"]}
        out = []
        for item in values:
            key = int(item.get("field_id") or by_code[item.get("field_code")])
            field = self.fields[key]
            shown_values = []
            for value in item.get("values") or []:
                entry = {"value": value.get("value")}
                code = value.get("enum_code")
                if code is not None:
                    entry.update({"enum_code": code, "enum_id": field["enums"][code]})
                shown_values.append(entry)
            out.append(
                {
                    "field_id": key,
                    "field_name": field["code"] or f"Field {key}",
                    "field_code": field["code"],
                    "field_type": field["type"],
                    "values": shown_values,
                }
            )
        return out

    def _shown(self, entity: str, record: Mapping[str, Any], base: str) -> dict[str, Any]:
        return {**record, "_links": {"self": {"href": f"{base}/{entity}/{record['id']}"}}}

    def _create(self, entity: str, record: RecordedRequest, base: str) -> web.Response:
        items = self._items(record)
        self._validate(entity, items)
        created = []
        for index, item in enumerate(items):
            stored = self._new_record(entity, item)
            created.append(
                {
                    "id": stored["id"],
                    "request_id": str(item.get("request_id", index)),
                    "_links": {"self": {"href": f"{base}/{entity}/{stored['id']}"}},
                }
            )
        return self._hal(
            {"_links": {"self": {"href": f"{base}/{entity}"}}, "_embedded": {entity: created}}
        )

    def _update_many(
        self,
        entity: str,
        record: RecordedRequest,
        base: str,
        items: list[dict[str, Any]] | None = None,
    ) -> web.Response:
        items = items if items is not None else self._items(record)
        self._validate(entity, items)
        missing = [
            {
                "request_id": str(item.get("request_id", index)),
                "errors": [{"code": "NotFound", "path": "id", "detail": "Entity not found."}],
            }
            for index, item in enumerate(items)
            if self.store.records[entity].get(_id(item)) is None
        ]
        if missing:
            raise _Invalid(missing)
        updated = []
        for index, item in enumerate(items):
            current = dict(self.store.records[entity][item["id"]])
            for key in (
                "name",
                "price",
                "status_id",
                "responsible_user_id",
                "first_name",
                "last_name",
            ):
                if key in item:
                    current[key] = item[key]
            if "custom_fields_values" in item:
                current["custom_fields_values"] = self._stored_fields(item["custom_fields_values"])
            current["updated_at"] = int(now().timestamp())
            self.store.put(entity, current["id"], current)
            updated.append(
                {
                    "id": current["id"],
                    "updated_at": current["updated_at"],
                    "request_id": str(item.get("request_id", index)),
                    "_links": {"self": {"href": f"{base}/{entity}/{current['id']}"}},
                }
            )
        return self._hal(
            {"_links": {"self": {"href": f"{base}/{entity}"}}, "_embedded": {entity: updated}}
        )

    def _list(self, entity: str, record: RecordedRequest, base: str) -> web.Response:
        query = record.query if isinstance(record.query, dict) else {}
        try:
            page = max(1, int(query.get("page", 1)))
            limit = int(query.get("limit", 50))
        except (TypeError, ValueError):
            raise _Invalid(
                [
                    {
                        "request_id": "0",
                        "errors": [
                            {
                                "code": "InvalidType",
                                "path": "page",
                                "detail": "A number is expected.",
                            }
                        ],
                    }
                ]
            ) from None
        if not 1 <= limit <= 250:
            raise _Invalid(
                [
                    {
                        "request_id": "0",
                        "errors": [
                            {"code": "Range", "path": "limit", "detail": "limit must be 1 to 250."}
                        ],
                    }
                ]
            )
        records = [r for _, r in sorted(self.store.records[entity].items())]
        search = str(query.get("query", "")).lower()
        if search:
            records = [r for r in records if search in _searchable(r)]
        chunk = records[(page - 1) * limit : page * limit]
        if not chunk:
            return web.Response(status=204)
        links: dict[str, Any] = {"self": {"href": f"{base}/{entity}?page={page}&limit={limit}"}}
        if page * limit < len(records):
            links["next"] = {"href": f"{base}/{entity}?page={page + 1}&limit={limit}"}
        return self._hal(
            {
                "_page": page,
                "_links": links,
                "_embedded": {entity: [self._shown(entity, r, base) for r in chunk]},
            }
        )

    def _complex(self, record: RecordedRequest) -> web.Response:
        items = self._items(record)
        if len(items) > 50:
            raise _Invalid(
                [
                    {
                        "request_id": "0",
                        "errors": [
                            {
                                "code": "TooManyEntities",
                                "path": "",
                                "detail": "No more than 50 leads.",
                            }
                        ],
                    }
                ]
            )
        failures = []
        for index, item in enumerate(items):
            embedded = _embedded(item)
            errors = self._check_fields(
                "leads", item.get("custom_fields_values"), "custom_fields_values"
            )
            errors += _shape_errors(item)
            if errors:
                failures.append(
                    {"request_id": str(item.get("request_id", index)), "errors": errors}
                )
                continue
            for kind in ("contacts", "companies"):
                if len(embedded.get(kind) or []) > 1:
                    errors.append(
                        {
                            "code": "TooManyEntities",
                            "path": f"_embedded.{kind}",
                            "detail": f"No more than one of {kind} per lead.",
                        }
                    )
            for number, contact in enumerate(embedded.get("contacts") or []):
                errors += self._check_fields(
                    "contacts",
                    contact.get("custom_fields_values"),
                    f"_embedded.contacts.{number}.custom_fields_values",
                )
            if errors:
                failures.append(
                    {"request_id": str(item.get("request_id", index)), "errors": errors}
                )
        if failures:
            raise _Invalid(failures)
        out = []
        for index, item in enumerate(items):
            embedded = _embedded(item)
            request_id = [str(item.get("request_id", index))]
            contacts = embedded.get("contacts") or []
            twin = self._duplicate(contacts[0]) if contacts and self.duplicate_control else None
            if twin is not None:
                out.append(
                    {
                        "id": twin["lead_id"],
                        "contact_id": twin["contact_id"],
                        "company_id": twin.get("company_id"),
                        "request_id": request_id,
                        "merged": True,
                    }
                )
                continue
            lead = self._new_record("leads", item)
            contact = self._new_record("contacts", contacts[0]) if contacts else None
            companies = embedded.get("companies") or []
            company_id = None
            if companies:
                company_id = self.store.next_id("companies")
                self.store.put(
                    "companies",
                    company_id,
                    {"id": company_id, "name": companies[0].get("name", "")},
                )
            if contact is not None:
                lead["_embedded"]["contacts"] = [{"id": contact["id"]}]
                self.store.put("leads", lead["id"], lead)
                self.store.set_meta(
                    f"dup:{_identity(contact)}",
                    {"lead_id": lead["id"], "contact_id": contact["id"], "company_id": company_id},
                )
            out.append(
                {
                    "id": lead["id"],
                    "contact_id": contact["id"] if contact else None,
                    "company_id": company_id,
                    "request_id": request_id,
                    "merged": False,
                }
            )
        return web.json_response(out, content_type=HAL)

    def _duplicate(self, contact: Mapping[str, Any]) -> dict[str, Any] | None:
        identity = _identity(self._stored_view(contact))
        if not identity:
            return None
        found = self.store.meta.get(f"dup:{identity}")
        return dict(found) if isinstance(found, dict) else None

    def _stored_view(self, contact: Mapping[str, Any]) -> dict[str, Any]:
        return {"custom_fields_values": self._stored_fields(contact.get("custom_fields_values"))}


def _embedded(item: Mapping[str, Any]) -> dict[str, Any]:
    embedded = item.get("_embedded")
    return embedded if isinstance(embedded, dict) else {}


def _shape_errors(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Structure checks: ``_embedded`` an object, its lists lists of objects, ``name`` text."""
    errors: list[dict[str, Any]] = []
    invalid = "InvalidType"
    if "name" in item and not isinstance(item["name"], str):
        errors.append({"code": invalid, "path": "name", "detail": "This value should be text."})
    embedded = item.get("_embedded")
    if embedded is None:
        return errors
    if not isinstance(embedded, dict):
        return [*errors, {"code": invalid, "path": "_embedded", "detail": "An object is expected."}]
    for kind in ("tags", "contacts", "companies"):
        value = embedded.get(kind)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(entry, dict) for entry in value)
        ):
            errors.append(
                {
                    "code": invalid,
                    "path": f"_embedded.{kind}",
                    "detail": "An array of objects is expected.",
                }
            )
    return errors


def _id(item: Mapping[str, Any]) -> int:
    value = item.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _identity(contact: Mapping[str, Any]) -> str:
    """Duplicate control's key: the first phone, else the first e-mail, digits and case folded."""
    for code in ("PHONE", "EMAIL"):
        for field in contact.get("custom_fields_values") or []:
            if field.get("field_code") == code and field.get("values"):
                value = str(field["values"][0].get("value", ""))
                return (
                    code
                    + ":"
                    + (
                        "".join(ch for ch in value if ch.isdigit())
                        if code == "PHONE"
                        else value.lower()
                    )
                )
    return ""


def _searchable(record: Mapping[str, Any]) -> str:
    texts = [str(record.get("name", ""))]
    for field in record.get("custom_fields_values") or []:
        texts += [str(value.get("value", "")) for value in field.get("values", [])]
    return " ".join(texts).lower()
