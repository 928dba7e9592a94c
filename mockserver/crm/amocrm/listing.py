"""``GET /api/v4/{entity}``: ``filter[...]``, ``query``, ``order[...]``, ``page``/``limit``.

The filter keys are the official library's (amocrm/amocrm-api-php
``Filters/LeadsFilter.php``, ``ContactsFilter.php``, ``CompaniesFilter.php``,
``buildFilter``) and the documentation's (https://www.amocrm.ru/developers/content/
crm_platform/filters-api): ``id``, ``name`` (one or a list), ``price``,
``created_by``, ``updated_by``, ``responsible_user_id``, ``created_at``,
``updated_at``, ``closed_at``, ``closest_task_at`` (a value, a list, or a
``from``/``to`` range, ``BaseRangeFilter::toFilter``), ``statuses`` (a list of
``{pipeline_id, status_id}``), ``pipeline_id`` and ``custom_fields_values``
(``{field_id: [values]}`` or ``{field_id: {from, to}}``). ``order`` takes
``created_at``, ``updated_at`` or ``id`` with ``asc`` or ``desc``.

A malformed value (``filter[id]=abc``, ``order[id]=up``, ``limit=0``) is a 400
with ``validation-errors`` naming it (a ``limit`` over 250 is a page of 250, as API v4
serves it); a filter key the fake does not know is
ignored, as amoCRM ignores what it does not filter on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any, Final

from .problems import invalid

__all__ = ["MAX_LIMIT", "ORDER_FIELDS", "Listing", "number", "parse_listing"]

ORDER_FIELDS: Final = ("created_at", "updated_at", "id")
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
PHP_INT_MAX: Final = 2**63 - 1
#: The most entities a list page holds: a larger ``limit`` is served at this.
MAX_LIMIT: Final = 250
_SETS: Final = (
    "id",
    "created_by",
    "updated_by",
    "responsible_user_id",
    "pipeline_id",
    "entity_id",
    "task_type_id",
)
_TEXT_SETS: Final = ("name", "note_type", "entity_type")
#: Filter names that test another key of the record.
_ALIASES: Final = {"task_type": "task_type_id"}
_RANGES: Final = ("price", "created_at", "updated_at", "closed_at", "closest_task_at")

Predicate = Callable[[Mapping[str, Any]], bool]


class Listing:
    """A parsed list request: predicates, order, page and limit, and what ``with`` asked."""

    def __init__(self) -> None:
        self.tests: list[Predicate] = []
        self.query = ""
        self.order: tuple[str, bool] = ("id", False)
        self.page = 1
        self.limit = 50
        self.with_: frozenset[str] = frozenset()

    def select(
        self, records: list[dict[str, Any]], search: Callable[[Mapping[str, Any]], str]
    ) -> list[dict[str, Any]]:
        """The records that pass every test and the query, in the asked order."""
        chosen = records
        if len(self.tests) == 1:
            (test,) = self.tests
            chosen = [r for r in chosen if test(r)]
        elif self.tests:
            chosen = [r for r in chosen if all(test(r) for test in self.tests)]
        if self.query:
            digits = _phone_digits(self.query)
            chosen = [
                r
                for r in chosen
                if self.query in (text := search(r))
                or (digits and any(digits in _only_digits(part) for part in text.split("\n")))
            ]
        key, descending = self.order
        if key == "id":  # ids are unique and never null: C-speed sort, no tie-break
            return sorted(chosen, key=itemgetter("id"), reverse=descending)
        return sorted(chosen, key=lambda r: (r.get(key) or 0, r["id"]), reverse=descending)


def _phone_digits(query: str) -> str:
    """A query that reads as a phone number (digits, ``+``, ``-``, ``(``, ``)``, spaces):
    its digits, so ``+7 (999) 000-11-22`` finds ``+79990001122``; else ``""``."""
    if not any(ch.isdigit() for ch in query) or any(
        not (ch.isdigit() or ch in "+-() ") for ch in query
    ):
        return ""
    digits = "".join(ch for ch in query if ch.isdigit())
    return digits if len(digits) >= 5 else ""


def _only_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def number(value: Any, path: str) -> int:
    """A query's whole number: ASCII digits with an optional sign (not Python's ``int``,
    which takes ``٣``, ``1_0`` and `` 5``, and raises past 4 300 digits), held to PHP's
    64 bits, else ``InvalidType`` at ``path``."""
    text = str(value)
    if isinstance(value, bool) or not _INTEGER.fullmatch(text):
        shown = text if len(text) <= 80 else text[:80] + "…"
        raise invalid("InvalidType", path, f"A number is expected, got {shown!r}.")
    if len(text.lstrip("+-0")) > 19:  # past 64 bits PHP's (int) stops at PHP_INT_MAX
        return -PHP_INT_MAX if text.startswith("-") else PHP_INT_MAX
    return max(-PHP_INT_MAX, min(int(text), PHP_INT_MAX))


def _many(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else [value]


def _range_test(key: str, value: Any, path: str) -> Predicate:
    if isinstance(value, dict) and ("from" in value or "to" in value):
        low = number(value["from"], f"{path}.from") if "from" in value else None
        high = number(value["to"], f"{path}.to") if "to" in value else None

        def within(record: Mapping[str, Any]) -> bool:
            got = record.get(key)
            if got is None:
                return False
            return (low is None or got >= low) and (high is None or got <= high)

        return within
    wanted = {number(item, path) for item in _many(value)}
    return lambda record: record.get(key) in wanted


def _field_test(field_id: int, value: Any, path: str) -> Predicate:
    def values(record: Mapping[str, Any]) -> list[Any]:
        for field in record.get("custom_fields_values") or []:
            if field["field_id"] == field_id:
                return [v.get("value") for v in field["values"]] + [
                    v.get("enum_id") for v in field["values"] if v.get("enum_id") is not None
                ]
        return []

    if isinstance(value, dict) and ("from" in value or "to" in value):
        low = number(value["from"], f"{path}.from") if "from" in value else None
        high = number(value["to"], f"{path}.to") if "to" in value else None

        def within(record: Mapping[str, Any]) -> bool:
            for got in values(record):
                try:
                    number = float(got)
                except (TypeError, ValueError):
                    continue
                if (low is None or number >= low) and (high is None or number <= high):
                    return True
            return False

        return within
    wanted = {str(item) for item in _many(value)}
    return lambda record: any(str(got) in wanted for got in values(record))


def _statuses_test(value: Any) -> Predicate:
    pairs: list[tuple[int | None, int | None]] = []
    for index, entry in enumerate(_many(value)):
        if not isinstance(entry, dict):
            raise invalid("InvalidType", f"filter.statuses.{index}", "An object is expected.")
        pipeline = entry.get("pipeline_id")
        status = entry.get("status_id")
        pairs.append(
            (
                None
                if pipeline in (None, "")
                else number(pipeline, f"filter.statuses.{index}.pipeline_id"),
                None
                if status in (None, "")
                else number(status, f"filter.statuses.{index}.status_id"),
            )
        )
    return lambda record: any(
        (p is None or record.get("pipeline_id") == p)
        and (s is None or record.get("status_id") == s)
        for p, s in pairs
    )


def parse_listing(query: Any, orders: tuple[str, ...] = ORDER_FIELDS) -> Listing:
    """Read a list request's query (PHP-decoded), or raise :class:`Invalid` naming the bad part;
    ``orders`` are the fields ``order[...]`` may name."""
    listing = Listing()
    query = query if isinstance(query, dict) else {}
    listing.page = number(query.get("page", 1), "page")
    listing.limit = number(query.get("limit", 50), "limit")
    if listing.page < 1:
        raise invalid("Range", "page", "page must be 1 or more.")
    if listing.limit < 1:
        raise invalid("Range", "limit", "limit must be 1 or more.")
    # More than a page holds is a full page: "api/v4 returns at most 250 records on a page"
    # (amoCRM's answer in amocrm/amocrm-api-php issue #210), not a refusal.
    listing.limit = min(listing.limit, MAX_LIMIT)
    for name in ("query", "with"):  # a text (query[]=a was searched as "['a']")
        if isinstance(query.get(name), (dict, list)):
            raise invalid("InvalidType", name, "This value should be of type string.")
    listing.query = str(query.get("query", "")).strip().lower()
    with_ = query.get("with", "")
    listing.with_ = frozenset(part.strip() for part in str(with_).split(",") if part.strip())
    listing.order = _order(query.get("order"), orders)
    filters = query.get("filter")
    if filters is None or filters == "":
        return listing
    if not isinstance(filters, dict):
        raise invalid("InvalidType", "filter", "An object is expected (filter[key]=value).")
    for name, value in filters.items():
        path = f"filter.{name}"
        key = _ALIASES.get(name, name)
        if key in _SETS:
            listing.tests.append(_in(key, {number(item, path) for item in _many(value)}))
        elif key in _RANGES:
            listing.tests.append(_range_test(key, value, path))
        elif key in _TEXT_SETS:
            listing.tests.append(_in(key, {str(item) for item in _many(value)}))
        elif key == "is_completed":
            listing.tests.append(_in(key, {str(item) in ("1", "true") for item in _many(value)}))
        elif key == "statuses":
            listing.tests.append(_statuses_test(value))
        elif key == "custom_fields_values":
            if not isinstance(value, dict):
                raise invalid("InvalidType", path, "An object keyed by field id is expected.")
            for field_key, field_value in value.items():
                field_id = number(field_key, f"{path}.{field_key}")
                listing.tests.append(_field_test(field_id, field_value, f"{path}.{field_key}"))
    return listing


def _in(key: str, wanted: set[Any]) -> Predicate:
    return lambda record: record.get(key) in wanted


def _order(order: Any, orders: tuple[str, ...]) -> tuple[str, bool]:
    if order is None or order == "":
        return ("id", False)
    if not isinstance(order, dict) or len(order) != 1:
        raise invalid("InvalidType", "order", "One order[field]=asc|desc is expected.")
    ((key, direction),) = order.items()
    if key not in orders:
        raise invalid("NotSupportedChoice", f"order.{key}", f"Sort by {', '.join(orders)}.")
    if direction not in ("asc", "desc"):
        raise invalid("NotSupportedChoice", f"order.{key}", "The direction is asc or desc.")
    return (key, direction == "desc")
