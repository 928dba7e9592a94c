"""Tasks, and the ``closest_task_at`` they give their lead, contact or company.

https://www.amocrm.ru/developers/content/crm_platform/tasks-api (and the official
library's ``Tasks`` service and ``TasksFilter``): ``POST /api/v4/tasks`` takes an
array of ``{text, complete_till, entity_id?, entity_type?, task_type_id?,
responsible_user_id?, duration?, is_completed?, result?}`` (``text`` and
``complete_till`` required); ``PATCH /api/v4/tasks`` (array with ids) and
``/tasks/{id}`` (an object) edit, ``is_completed: true`` with ``result.text``
closes one; ``GET /api/v4/tasks`` lists with ``filter[responsible_user_id]``,
``filter[is_completed]``, ``filter[task_type]``, ``filter[entity_type]``,
``filter[entity_id]``, ``filter[id]``, ``filter[updated_at]`` and
``order[created_at|complete_till|id]``. Tasks have no ``DELETE`` in the API.

An entity's ``closest_task_at`` is the earliest ``complete_till`` of its open tasks
(``null`` when it has none), kept up to date on every task write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .entities import ENTITIES, USER_ID, php_int
from .listing import parse_listing
from .problems import Invalid, hal, invalid, request_id
from .relations import known

if TYPE_CHECKING:
    from .routes import Call

__all__ = ["add_tasks", "get_task", "list_tasks", "update_task", "update_tasks"]

TASK_TYPES: Final = (1, 2)
#: Tasks kept in memory (the oldest are forgotten first; the SQLite copy keeps them).
MAX_TASKS: Final = 50_000
ORDERS: Final = ("created_at", "complete_till", "id")
_INTS: Final = (
    "complete_till",
    "entity_id",
    "task_type_id",
    "responsible_user_id",
    "duration",
    "created_by",
    "created_at",
)


def _errors(call: Call, item: Mapping[str, Any], creating: bool) -> list[dict[str, Any]]:
    errors = []
    for key in _INTS:
        value = item.get(key)
        if key in item and not php_int(value):
            errors.append(
                {"code": "InvalidType", "path": key, "detail": "This value should be of type int."}
            )
    if creating:
        for key in ("text", "complete_till"):
            if key not in item:
                errors.append(
                    {"code": "NotBlank", "path": key, "detail": "This value should not be blank."}
                )
    if "text" in item and (not isinstance(item["text"], str) or not item["text"].strip()):
        errors.append(
            {"code": "NotBlank", "path": "text", "detail": "This value should not be blank."}
        )
    if "is_completed" in item and not isinstance(item["is_completed"], bool):
        errors.append(
            {"code": "InvalidType", "path": "is_completed", "detail": "true or false is expected."}
        )
    if isinstance(item.get("task_type_id"), int) and item["task_type_id"] not in TASK_TYPES:
        errors.append(
            {
                "code": "NotSupportedChoice",
                "path": "task_type_id",
                "detail": "The value you selected is not a valid choice.",
            }
        )
    result = item.get("result")
    if result is not None and not (
        isinstance(result, dict) and isinstance(result.get("text", ""), str)
    ):
        errors.append(
            {"code": "InvalidType", "path": "result", "detail": "An object {text} is expected."}
        )
    kind = item.get("entity_type")
    if "entity_type" in item and kind not in ENTITIES:
        errors.append(
            {
                "code": "NotSupportedChoice",
                "path": "entity_type",
                "detail": "leads, contacts or companies.",
            }
        )
    elif (
        "entity_id" in item
        and isinstance(kind, str)
        and not known(call.amo.store.records[kind], item["entity_id"])
    ):
        errors.append({"code": "NotFound", "path": "entity_id", "detail": "Entity not found."})
    elif "entity_id" in item and kind is None:
        errors.append(
            {"code": "NotBlank", "path": "entity_type", "detail": "entity_id needs entity_type."}
        )
    return errors


def _items(call: Call, creating: bool) -> list[dict[str, Any]]:
    body = call.record.json
    if not isinstance(body, list) or not body or not all(isinstance(i, dict) for i in body):
        raise invalid("InvalidType", "", "An array of tasks is expected.")
    if len(body) > 250:
        raise invalid("TooManyEntities", "", "No more than 250 tasks per request.")
    failures = []
    for index, item in enumerate(body):
        errors = _errors(call, item, creating)
        if not creating and not known(call.amo.store.records["tasks"], item.get("id")):
            errors.append({"code": "NotFound", "path": "id", "detail": "Task not found."})
        if errors:
            failures.append({"request_id": request_id(item, index), "errors": errors})
    if failures:
        raise Invalid(failures)
    return body


def _link(call: Call, task: Mapping[str, Any]) -> dict[str, Any]:
    return {"self": {"href": f"{call.base}/tasks/{task['id']}"}}


def _write(call: Call, task: dict[str, Any], item: Mapping[str, Any]) -> None:
    for key in (*_INTS, "text", "entity_type", "is_completed"):
        if key in item:
            task[key] = item[key]
    if "result" in item:
        task["result"] = dict(item["result"] or {})
    task["updated_at"] = call.moment
    call.amo.store.put("tasks", task["id"], task)


def closest(call: Call, kind: str | None, key: Any) -> None:
    """Set an entity's ``closest_task_at`` from its open tasks."""
    if kind not in ENTITIES or not known(call.amo.store.records[kind], key):
        return
    due = [
        t["complete_till"]
        for t in call.amo.store.records["tasks"].values()
        if t["entity_type"] == kind and t["entity_id"] == key and not t["is_completed"]
    ]
    record = call.amo.store.records[kind][key]
    value = min(due) if due else None
    if record.get("closest_task_at") != value:
        call.amo.store.put(kind, key, {**record, "closest_task_at": value})


def add_tasks(call: Call) -> web.Response:
    answered = []
    for index, item in enumerate(_items(call, creating=True)):
        key = call.amo.store.next_id("tasks")
        task: dict[str, Any] = {
            "id": key,
            "created_by": USER_ID,
            "updated_by": USER_ID,
            "created_at": call.moment,
            "updated_at": call.moment,
            "responsible_user_id": 1,
            "group_id": 0,
            "entity_id": None,
            "entity_type": None,
            "is_completed": False,
            "task_type_id": 1,
            "text": "",
            "duration": 0,
            "complete_till": 0,
            "result": {},
            "account_id": 1,
        }
        _write(call, task, item)
        closest(call, task["entity_type"], task["entity_id"])
        answered.append(
            {
                "id": key,
                "request_id": request_id(item, index),
                "_links": _link(call, task),
            }
        )
    kept = call.amo.store.records["tasks"]
    while len(kept) > MAX_TASKS:
        del kept[next(iter(kept))]
    return hal(
        {"_links": {"self": {"href": f"{call.base}/tasks"}}, "_embedded": {"tasks": answered}}
    )


def _update(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answered = []
    for index, item in enumerate(items):
        task = dict(call.amo.store.records["tasks"][item["id"]])
        before = (task["entity_type"], task["entity_id"])
        _write(call, task, item)
        closest(call, *before)
        closest(call, task["entity_type"], task["entity_id"])
        answered.append(
            {
                "id": task["id"],
                "updated_at": task["updated_at"],
                "request_id": request_id(item, index),
                "_links": _link(call, task),
            }
        )
    return answered


def update_tasks(call: Call) -> web.Response:
    answered = _update(call, _items(call, creating=False))
    return hal(
        {"_links": {"self": {"href": f"{call.base}/tasks"}}, "_embedded": {"tasks": answered}}
    )


def update_task(call: Call) -> web.Response:
    body = call.record.json
    if not isinstance(body, dict):
        raise invalid("InvalidType", "", "An object is expected.")
    key = int(call.params["id"])
    if key not in call.amo.store.records["tasks"]:
        return web.Response(status=204)
    errors = _errors(call, body, creating=False)
    if errors:
        raise Invalid([{"request_id": "0", "errors": errors}])
    (answer,) = _update(call, [{**body, "id": key}])
    del answer["request_id"]
    return hal(answer)


def get_task(call: Call) -> web.Response:
    task = call.amo.store.records["tasks"].get(int(call.params["id"]))
    if task is None:
        return web.Response(status=204)
    return hal({**task, "_links": _link(call, task)})


def list_tasks(call: Call) -> web.Response:
    from .routes import page_links

    listing = parse_listing(call.record.query, ORDERS)
    tasks = listing.select(
        list(call.amo.store.records["tasks"].values()), lambda t: str(t["text"]).lower()
    )
    chunk = tasks[(listing.page - 1) * listing.limit : listing.page * listing.limit]
    if not chunk:
        return web.Response(status=204)
    return hal(
        {
            "_page": listing.page,
            "_links": page_links(
                call, "tasks", listing.page, listing.page * listing.limit < len(tasks)
            ),
            "_embedded": {"tasks": [{**t, "_links": _link(call, t)} for t in chunk]},
        }
    )
