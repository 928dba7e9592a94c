"""``GET /api/v4/account`` (with ``with=``), the pipelines, and the custom-field catalogue.

Account (https://www.amocrm.ru/developers/content/crm_platform/account-info): the
plain keys always; ``with=`` adds ``amojo_id``, ``amojo_rights``, ``uuid``,
``version``, ``is_api_filter_enabled`` and, under ``_embedded``, ``users_groups``,
``task_types``, ``entity_names`` and ``datetime_settings`` (the official library's
``AccountModel`` with-constants). Custom fields:
``GET /api/v4/{entity}/custom_fields`` (https://www.amocrm.ru/developers/content/
crm_platform/custom-fields) with ``_total_items``, ``_page`` and ``_links``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .entities import PIPELINE
from .listing import parse_listing
from .problems import hal

if TYPE_CHECKING:
    from .routes import Call

__all__ = [
    "change_fields",
    "get_account",
    "get_field",
    "get_pipeline",
    "get_status",
    "list_fields",
    "list_pipelines",
]


def get_account(call: Call) -> web.Response:
    amo = call.amo
    with_ = parse_listing(call.record.query).with_
    body: dict[str, Any] = {
        "id": 1,
        "name": amo.subdomain,
        "subdomain": amo.subdomain,
        "created_at": 1_577_836_800,
        "created_by": 1,
        "updated_at": 1_577_836_800,
        "updated_by": 1,
        "current_user_id": 1,
        "country": "RU",
        "currency": "RUB",
        "currency_symbol": "₽",
        "customers_mode": "disabled",
        "is_unsorted_on": True,
        "mobile_feature_version": 0,
        "is_loss_reason_enabled": True,
        "is_helpbot_enabled": False,
        "is_technical_account": False,
        "contact_name_display_order": 1,
        "_links": {"self": {"href": f"{call.base}/account"}},
    }
    stable = uuid.uuid5(uuid.NAMESPACE_DNS, f"{amo.subdomain}.amocrm.ru")
    if "amojo_id" in with_:
        body["amojo_id"] = str(uuid.uuid5(stable, "amojo"))
    if "amojo_rights" in with_:
        body["amojo_rights"] = {"can_direct": True, "can_create_groups": True}
    if "uuid" in with_:
        body["uuid"] = str(stable)
    if "version" in with_:
        body["version"] = 1
    if "is_api_filter_enabled" in with_:
        body["is_api_filter_enabled"] = True
    embedded: dict[str, Any] = {}
    if "users_groups" in with_:
        embedded["users_groups"] = [{"id": 0, "name": "Отдел продаж", "uuid": None}]
    if "task_types" in with_:
        embedded["task_types"] = [
            {"id": 1, "name": "Связаться", "color": None, "icon_id": None, "code": "FOLLOW_UP"},
            {"id": 2, "name": "Встреча", "color": None, "icon_id": None, "code": "MEETING"},
        ]
    if "entity_names" in with_:
        embedded["entity_names"] = {
            "leads": {"ru": {"gender": "f", "plural_form": {"dative": "сделкам"}}},
        }
    if "datetime_settings" in with_:
        embedded["datetime_settings"] = {
            "date_pattern": "d.m.Y H:i",
            "short_date_pattern": "d.m.Y",
            "short_time_pattern": "H:i",
            "date_format": "d.m.Y",
            "time_format": "H:i:s",
            "timezone": "Europe/Moscow",
            "timezone_offset": "+03:00",
        }
    if embedded:
        body["_embedded"] = embedded
    return hal(body)


def _pipeline(call: Call) -> dict[str, Any]:
    key = PIPELINE["id"]
    return {
        "id": key,
        "name": PIPELINE["name"],
        "sort": 1,
        "is_main": True,
        "is_unsorted_on": True,
        "is_archive": False,
        "account_id": 1,
        "_links": {"self": {"href": f"{call.base}/leads/pipelines/{key}"}},
        "_embedded": {
            "statuses": [
                {
                    "id": status,
                    "name": name,
                    "sort": 10 * number,
                    "is_editable": status not in (142, 143) and kind == 0,
                    "pipeline_id": key,
                    "color": "#99ccff",
                    "type": kind,
                    "account_id": 1,
                    "_links": {
                        "self": {"href": f"{call.base}/leads/pipelines/{key}/statuses/{status}"}
                    },
                }
                for number, (status, name, kind) in enumerate(PIPELINE["statuses"], 1)
            ]
        },
    }


def list_pipelines(call: Call) -> web.Response:
    return hal(
        {
            "_total_items": 1,
            "_links": {"self": {"href": f"{call.base}/leads/pipelines"}},
            "_embedded": {"pipelines": [_pipeline(call)]},
        }
    )


def get_pipeline(call: Call) -> web.Response:
    if int(call.params["id"]) != PIPELINE["id"]:
        return web.Response(status=204)
    return hal(_pipeline(call))


def list_fields(call: Call) -> web.Response:
    from .routes import page_links

    entity = call.params["entity"]
    listing = parse_listing(call.record.query)
    fields = call.amo.catalogue.described(entity, call.base)
    chunk = fields[(listing.page - 1) * listing.limit : listing.page * listing.limit]
    if not chunk:
        return web.Response(status=204)
    return hal(
        {
            "_total_items": len(fields),
            "_page": listing.page,
            "_page_count": -(-len(fields) // listing.limit),
            "_links": page_links(
                call,
                f"{entity}/custom_fields",
                listing.page,
                listing.page * listing.limit < len(fields),
            ),
            "_embedded": {"custom_fields": chunk},
        }
    )


def get_field(call: Call) -> web.Response:
    entity = call.params["entity"]
    key = int(call.params["id"])
    found = [f for f in call.amo.catalogue.described(entity, call.base) if f["id"] == key]
    if not found:
        return web.Response(status=204)
    return hal(found[0])


def add_fields(call: Call) -> web.Response:
    """``POST /{entity}/custom_fields``: an array of ``{name, type, code?, enums?}``."""
    from .fields import FIRST_CREATED_ID, MAX_FIELDS
    from .problems import Invalid, invalid

    entity = call.params["entity"]
    specs = call.record.json
    if not isinstance(specs, list) or not specs:
        raise invalid("InvalidType", "", "An array of fields is expected.")
    catalogue = call.amo.catalogue
    mine = sum(1 for f in catalogue.fields.values() if f["entity"] == entity)
    if mine + len(specs) > MAX_FIELDS:
        raise invalid("TooManyEntities", "", f"No more than {MAX_FIELDS} fields per entity type.")
    failures = [
        {"request_id": str(index), "errors": errors}
        for index, spec in enumerate(specs)
        if (errors := catalogue.problems(entity, spec))
    ]
    if failures:
        raise Invalid(failures)
    made = []
    for spec in specs:
        key = FIRST_CREATED_ID + call.amo.store.next_id("custom_fields")
        catalogue.add(entity, key, spec)
        made.append(key)
    call.amo.save_fields()
    shown = [f for f in catalogue.described(entity, call.base) if f["id"] in made]
    return hal(
        {
            "_total_items": len(shown),
            "_links": {"self": {"href": f"{call.base}/{entity}/custom_fields"}},
            "_embedded": {"custom_fields": shown},
        }
    )


def change_fields(call: Call) -> web.Response:
    """``PATCH /{entity}/custom_fields`` (an array of ``{id, name?, sort?, enums?}``) and
    ``PATCH /{entity}/custom_fields/{id}`` (one object): the fields as they are after,
    as ``POST`` shows the fields it made. One item wrong refuses the batch."""
    from .problems import Invalid, invalid

    entity = call.params["entity"]
    body = call.record.json
    one = "id" in call.params
    if one:
        if not isinstance(body, dict):
            raise invalid("InvalidType", "", "An object is expected.")
        specs = [{**body, "id": int(call.params["id"])}]
    elif not isinstance(body, list) or not body:
        raise invalid("InvalidType", "", "An array of fields is expected.")
    else:
        specs = body
    if len(specs) > 250:
        raise invalid("TooManyEntities", "", "No more than 250 fields in one request.")
    catalogue = call.amo.catalogue
    failures = [
        {"request_id": str(index), "errors": errors}
        for index, spec in enumerate(specs)
        if (errors := catalogue.change_problems(entity, spec))
    ]
    if failures:
        raise Invalid(failures)
    for spec in specs:
        catalogue.change(spec)
    call.amo.save_fields()
    changed = {spec["id"] for spec in specs}
    shown = [f for f in catalogue.described(entity, call.base) if f["id"] in changed]
    if one:
        return hal(shown[0])
    return hal(
        {
            "_total_items": len(shown),
            "_links": {"self": {"href": f"{call.base}/{entity}/custom_fields"}},
            "_embedded": {"custom_fields": shown},
        }
    )


def delete_field(call: Call) -> web.Response:
    """``DELETE /{entity}/custom_fields/{id}``: 204; a predefined field cannot go."""
    from .problems import problem

    entity = call.params["entity"]
    key = int(call.params["id"])
    field = call.amo.catalogue.fields.get(key)
    if field is None or field["entity"] != entity:
        return problem(404, "Not Found", f"{entity} have no custom field {key}")
    if not field.get("created") and field["code"] is not None:
        return problem(
            403, "Forbidden", f"the field {field['code']} is predefined: it cannot be deleted"
        )
    del call.amo.catalogue.fields[key]
    call.amo.save_fields()
    return web.Response(status=204)


#: The account's one user: the owner every record is assigned to by default.
USER: dict[str, Any] = {
    "id": 1,
    "name": "Администратор",
    "email": "admin@example.invalid",
    "lang": "ru",
    "rights": {
        "leads": {"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"},
        "contacts": {"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"},
        "companies": {"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"},
        "tasks": {"edit": "A", "delete": "A"},
        "mail_access": True,
        "catalog_access": True,
        "is_admin": True,
        "is_free": False,
        "is_active": True,
        "group_id": None,
        "role_id": None,
    },
}


def list_users(call: Call) -> web.Response:
    """``GET /api/v4/users`` (https://www.amocrm.ru/developers/content/crm_platform/users-api)."""
    return hal(
        {
            "_total_items": 1,
            "_page": 1,
            "_page_count": 1,
            "_links": {"self": {"href": f"{call.base}/users"}},
            "_embedded": {
                "users": [{**USER, "_links": {"self": {"href": f"{call.base}/users/1"}}}]
            },
        }
    )


def get_user(call: Call) -> web.Response:
    if int(call.params["id"]) != USER["id"]:
        return web.Response(status=204)
    return hal({**USER, "_links": {"self": {"href": f"{call.base}/users/1"}}})


def list_statuses(call: Call) -> web.Response:
    """``GET /api/v4/leads/pipelines/{id}/statuses``."""
    if int(call.params["id"]) != PIPELINE["id"]:
        return web.Response(status=204)
    statuses = _pipeline(call)["_embedded"]["statuses"]
    return hal(
        {
            "_total_items": len(statuses),
            "_links": {"self": {"href": f"{call.base}/leads/pipelines/{PIPELINE['id']}/statuses"}},
            "_embedded": {"statuses": statuses},
        }
    )


def get_status(call: Call) -> web.Response:
    """``GET /api/v4/leads/pipelines/{id}/statuses/{status}``: the official library's
    ``Statuses::getOne`` (``leads/pipelines/%s/statuses`` + ``/{id}``), and the address
    every status's ``_links.self`` gives. 204 for a status the pipeline does not have, as
    for a missing pipeline."""
    if int(call.params["id"]) != PIPELINE["id"]:
        return web.Response(status=204)
    for status in _pipeline(call)["_embedded"]["statuses"]:
        if status["id"] == int(call.params["status"]):
            return hal(status)
    return web.Response(status=204)
