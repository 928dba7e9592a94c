"""What the dashboard shows, as JSON: journal pages, a request's detail, stubs, CRMs (pure).

The journal is paged on the server, newest first: a page walks the journal
back from a cursor (``before``, a request number) and stops once it has
``limit`` rows and knows whether one more exists, so the first page of a
100 000-entry journal costs a page's worth of work, whatever the filter
matches; a filter that matches rarely walks further (at most the whole journal).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from webhook_core.template import MISSING

if TYPE_CHECKING:
    from mockserver.journal import RecordedRequest
    from mockserver.server import MockServer

__all__ = [
    "FilterError",
    "JournalFilter",
    "crm_view",
    "journal_page",
    "request_detail",
    "row",
    "stubs_view",
]

PAGE_DEFAULT: Final = 100
PAGE_MAX: Final = 500
#: How much of a body the detail view sends (the rest is cut, and the cut is said).
BODY_LIMIT: Final = 256 * 1024
#: Records per entity and calls the CRM view sends (the newest).
CRM_ROWS: Final = 200
_FILTER_KEYS: Final = ("method", "path", "status", "matched", "q", "before", "limit")


class FilterError(ValueError):
    """A filter the dashboard cannot use: ``errors`` is ``[{field, message}]``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


@dataclass(frozen=True)
class JournalFilter:
    """Which requests a journal page shows. Empty fields match everything."""

    method: str = ""
    path: str = ""
    #: ``404``, ``4xx``, or ``none`` (no status sent: a connection fault).
    status: str = ""
    #: ``matched``, ``unmatched`` or empty.
    matched: str = ""
    #: Text looked for, case-insensitively, in the URL, the headers and the body.
    text: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> tuple[JournalFilter, int | None, int]:
        """The filter, the ``before`` cursor and the page size from a query string."""
        errors = [
            {"field": name, "message": f"unknown filter (known: {', '.join(_FILTER_KEYS)})"}
            for name in sorted(set(query) - set(_FILTER_KEYS))
        ]
        getall = getattr(query, "getall", None)  # a query string may name a filter twice
        if getall is not None:
            errors += [
                {"field": name, "message": f"given {count} times; give it once"}
                for name in sorted(set(query))
                if (count := len(getall(name))) > 1
            ]
        status = query.get("status", "").strip().lower()
        if status and not (
            status == "none"
            or (is_number(status) and len(status) == 3)
            or (len(status) == 3 and status[0] in "12345" and status[1:] == "xx")
        ):
            errors.append(
                {
                    "field": "status",
                    "message": f"a status (404), a class (4xx) or none; got {status!r}",
                }
            )
        matched = query.get("matched", "").strip().lower()
        if matched not in ("", "matched", "unmatched"):
            errors.append({"field": "matched", "message": f"matched or unmatched; got {matched!r}"})
        before = _number(query, "before", errors, minimum=1)
        limit = _number(query, "limit", errors, minimum=1)
        if limit is not None and limit > PAGE_MAX:
            errors.append({"field": "limit", "message": f"at most {PAGE_MAX}; got {limit}"})
        if errors:
            raise FilterError(errors)
        made = cls(
            method=query.get("method", "").strip().upper(),
            path=query.get("path", "").strip(),
            status=status,
            matched=matched,
            text=query.get("q", "").strip().lower(),
        )
        return made, before, limit or PAGE_DEFAULT

    @property
    def empty(self) -> bool:
        return not (self.method or self.path or self.status or self.matched or self.text)

    def accepts(self, entry: RecordedRequest) -> bool:
        if self.method and entry.method != self.method:
            return False
        if self.path and self.path.lower() not in entry.path.lower():
            return False
        if self.status:
            status = entry.status
            if self.status == "none":
                if status is not None:
                    return False
            elif self.status.endswith("xx"):
                if status is None or str(status)[0] != self.status[0]:
                    return False
            elif str(status) != self.status:
                return False
        if self.matched and (entry.stub_id is None) != (self.matched == "unmatched"):
            return False
        if self.text:
            return self.text in _haystack(entry)
        return True


def _haystack(entry: RecordedRequest) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in entry.raw_headers)
    return f"{entry.method} {entry.url}\n{headers}\n{entry.text[:BODY_LIMIT]}".lower()


def is_number(text: str) -> bool:
    """``text`` is a whole number the dashboard reads: ASCII digits, at most 18."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _number(
    query: Mapping[str, str], name: str, errors: list[dict[str, str]], *, minimum: int
) -> int | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    # isdigit() alone takes '²' and '١', which int() then refuses or reads.
    if not is_number(text) or int(text) < minimum:
        shown = text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
        errors.append(
            {"field": name, "message": f"a whole number, {minimum} or more; got {shown!r}"}
        )
        return None
    return int(text)


def row(entry: RecordedRequest) -> dict[str, Any]:
    """One line of the journal table."""
    return {
        "seq": entry.seq,
        "method": entry.method,
        "url": entry.url[:2000],
        "status": entry.status,
        "stub_id": entry.stub_id,
        "fault": entry.fault,
        "refused": entry.refused,
        "answering": entry.answering,
        "note": (entry.note or "")[:300] or None,
        "received_at": entry.received_at.isoformat(),
        "size": len(entry.body),
    }


def journal_page(
    entries: Sequence[RecordedRequest], wanted: JournalFilter, *, before: int | None, limit: int
) -> dict[str, Any]:
    """A page of ``entries`` (oldest first, as the journal keeps them), newest first."""
    rows: list[dict[str, Any]] = []
    more = False
    for entry in reversed(entries):
        if before is not None and entry.seq >= before:
            continue
        if not wanted.accepts(entry):
            continue
        if len(rows) == limit:
            more = True
            break
        rows.append(row(entry))
    return {"rows": rows, "more": more, "total": len(entries)}


def _body_view(entry: RecordedRequest) -> dict[str, Any]:
    """The body as the detail shows it: JSON as data, a form decoded as PHP's ``$_POST``."""
    if not entry.body:
        return {"kind": "empty"}
    text = entry.text
    cut = len(text) > BODY_LIMIT
    shown = text[:BODY_LIMIT]
    if entry.form is not MISSING:
        return {"kind": "form", "value": entry.form, "text": shown, "cut": cut}
    if entry.json is not MISSING:
        return {"kind": "json", "value": entry.json, "text": shown, "cut": cut}
    return {"kind": "text", "text": shown, "cut": cut}


def request_detail(server: MockServer, entry: RecordedRequest) -> dict[str, Any]:
    """A request's detail: headers, body, query, and which stub answered or came closest."""
    detail = row(entry)
    detail |= {
        "url": entry.url,
        "path": entry.path,
        "query_string": entry.query_string,
        "query": entry.query if entry.query_string else None,
        "headers": [list(pair) for pair in entry.raw_headers],
        "body": _body_view(entry),
        "note": entry.note,
        "answered_by": None,
        "near_misses": None,
    }
    if entry.stub_id is not None and entry.stub_id.startswith("crm:"):
        detail["answered_by"] = {"crm": entry.stub_id.removeprefix("crm:")}
    elif entry.stub_id is not None:
        found = server.registry.get(entry.stub_id)
        detail["answered_by"] = {
            "id": entry.stub_id,
            "label": found.stub.label() if found else f"stub ({entry.stub_id}), since removed",
            "source": found.stub.source if found else None,
            "calls": found.calls if found else None,
        }
    elif not entry.refused:
        misses = server.near_misses(entry)
        detail["near_misses"] = [miss.to_json() for miss in misses]
        detail["stub_count"] = len(server.registry)
    return detail


def _pattern_text(pattern: Any) -> str:
    data = pattern.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_defaults=True)
    return json.dumps(data, ensure_ascii=False)[:500]


def stubs_view(server: MockServer) -> list[dict[str, Any]]:
    """Every stub in the order they are tried, with its call count and where it came from."""
    out = []
    for entry in server.registry.entries():
        stub = entry.stub
        out.append(
            {
                "id": stub.id,
                "name": stub.name,
                "label": stub.label(),
                "priority": stub.priority,
                "method": stub.request.method,
                "request": _pattern_text(stub.request),
                "responses": len(entry.answers),
                "calls": entry.calls,
                "optional": stub.optional,
                "source": stub.source,
                "state": stub.state.model_dump(mode="json", exclude_none=True)
                if stub.state
                else None,
            }
        )
    return out


def crm_view(server: MockServer) -> list[dict[str, Any]]:
    """Each fake CRM: records per entity (the newest), calls, faults, tokens or webhooks."""
    out = []
    for profile in server.profiles:
        data = profile.to_json()
        entities = []
        for entity in sorted(profile.store.records):
            records = profile.records(entity)
            entities.append(
                {"entity": entity, "count": len(records), "records": records[-CRM_ROWS:]}
            )
        faults = [
            {
                "method": fault.method,
                "kind": fault.kind,
                "call": fault.call,
                "status": fault.status,
                "code": fault.code,
                "seen": fault.seen,
            }
            for fault in profile.faults
        ]
        tokens = data.get("tokens")
        out.append(
            {
                "name": profile.name,
                "entities": entities,
                "calls": profile.calls[-CRM_ROWS:],
                "call_count": len(profile.calls),
                "faults": faults,
                "tokens": (
                    [{"token": token, "integration": who} for token, who in tokens.items()]
                    if isinstance(tokens, dict)
                    else None
                ),
                "webhooks": data.get("webhooks"),
                "blocked": data.get("blocked"),
            }
        )
    return out
