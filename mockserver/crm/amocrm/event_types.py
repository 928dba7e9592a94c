"""``GET /api/v4/events/types``: the kinds of event the feed holds.

The official library's ``EventTypes`` service (``api/v4/events/types``, the items under
``_embedded.events_types``) and ``EventTypeModel`` (``key`` text, ``type`` int, ``lang``
text); the Kommo reference's ``language_code`` (``en``, ``es``, ``pt``; without it, the
user's language). Listed are the keys this fake's feed writes (``events.py``); the
numbers in ``type`` and the texts are **[inference]** (the stored pages did not give the
real list). Before, the path was taken for an event whose id is ``types`` and answered
204, as for no such event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web

from .problems import hal

if TYPE_CHECKING:
    from .routes import Call

__all__ = ["EVENT_TYPES", "list_event_types"]

#: ``key``: (Russian, English) names.
EVENT_TYPES: Final[dict[str, tuple[str, str]]] = {
    "lead_added": ("Новая сделка", "Lead added"),
    "contact_added": ("Новый контакт", "Contact added"),
    "company_added": ("Новая компания", "Company added"),
    "lead_status_changed": ("Изменение этапа продажи", "Lead status changed"),
    "entity_responsible_changed": ("Ответственный изменен", "Responsible user changed"),
    "name_field_changed": ("Изменение поля «Название»", "Name changed"),
    "sale_field_changed": ("Изменение поля «Бюджет»", "Sale value changed"),
    "entity_tag_added": ("Теги добавлены", "Tags added"),
    "entity_tag_deleted": ("Теги убраны", "Tags removed"),
    "lead_linked": ("Прикрепление сделки", "Lead linked"),
    "lead_unlinked": ("Открепление сделки", "Lead unlinked"),
    "contact_linked": ("Прикрепление контакта", "Contact linked"),
    "contact_unlinked": ("Открепление контакта", "Contact unlinked"),
    "company_linked": ("Прикрепление компании", "Company linked"),
    "company_unlinked": ("Открепление компании", "Company unlinked"),
    "common_note_added": ("Новое примечание", "Note added"),
    "incoming_call": ("Входящий звонок", "Incoming call"),
    "outgoing_call": ("Исходящий звонок", "Outgoing call"),
    "service_note_added": ("Новое системное примечание", "Service note added"),
    "geo_note_added": ("Новое примечание с гео-меткой", "Geolocation note added"),
    "attachment_note_added": ("Добавлен файл", "File added"),
    "incoming_sms": ("Входящее SMS", "Incoming SMS"),
    "outgoing_sms": ("Исходящее SMS", "Outgoing SMS"),
}


def list_event_types(call: Call) -> web.Response:
    query = call.record.query if isinstance(call.record.query, dict) else {}
    # The account's one user writes Russian; a language the fake has no texts for
    # (es, pt) gets the English ones.
    language = str(query.get("language_code") or "ru")
    english = language != "ru"
    return hal(
        {
            "_total_items": len(EVENT_TYPES),
            "_links": {"self": {"href": f"{call.base}/events/types"}},
            "_embedded": {
                "events_types": [
                    {"key": key, "type": number, "lang": names[english]}
                    for number, (key, names) in enumerate(EVENT_TYPES.items(), 1)
                ]
            },
        }
    )
