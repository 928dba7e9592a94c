"""What the fake portal knows about Bitrix24's data: the entities and their fields with the
documented types, the system errors' statuses, the plans' rate limits, and how a value
given by a client becomes the value the REST API hands back (strings, ``"1500.00"``)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from .dates import DATE_KINDS, instant, shown_date

__all__ = [
    "BATCH_LIMIT",
    "ENTITIES",
    "MULTIFIELDS",
    "PAGE",
    "PLANS",
    "STATUSES",
    "UNREADABLE",
    "BitrixError",
    "array_param",
    "field_types",
    "field_value",
    "items",
    "list_start",
    "php_int",
    "php_text",
    "shown_value",
    "text",
    "whole_number",
]

#: Leaky bucket (capacity, drained per second) by plan.
PLANS: Final = {
    "standard": (50, 2.0),
    "enterprise": (250, 5.0),
    "unlimited": (float("inf"), 0.0),  # for rehearsals that are not about the limit
}

#: HTTP status of each system error (``_includes/system-errors.md`` and ``error-codes.md``
#: in bitrix24/b24restdocs); a profile may override any. ``""`` is a method's own error:
#: a ``RestException`` thrown without a status is 400 (``getStatus()``:
#: ``STATUS_WRONG_REQUEST``), whatever its code, so the methods' codes are 400 too unless
#: their exception class says otherwise (``AccessException`` and ``AuthTypeException``: 403).
STATUSES: Final = {
    "": 400,
    "INTERNAL_SERVER_ERROR": 500,
    "ERROR_UNEXPECTED_ANSWER": 500,
    "QUERY_LIMIT_EXCEEDED": 503,
    "OPERATION_TIME_LIMIT": 429,
    "NO_AUTH_FOUND": 401,
    "INVALID_REQUEST": 401,
    "INVALID_CREDENTIALS": 401,
    "ACCESS_DENIED": 403,
    "WRONG_AUTH_TYPE": 403,
    "ERROR_METHOD_NOT_FOUND": 404,
    "insufficient_scope": 401,
    "expired_token": 401,
    "invalid_token": 401,
    "user_access_error": 401,
    "PORTAL_DELETED": 403,
    "ERROR_CORE": 400,
    "ERROR_NOT_FOUND": 400,
    "ERROR_EVENT_NOT_FOUND": 400,
    "NOT_FOUND": 400,
    "OWNER_NOT_FOUND": 400,
    "INVALID_ARG_VALUE": 400,
    "ERROR_BATCH_LENGTH_EXCEEDED": 400,
    "ERROR_BATCH_METHOD_NOT_ALLOWED": 405,
}

ENTITIES: Final = ("lead", "contact", "deal", "company")
MULTIFIELDS: Final = ("PHONE", "EMAIL", "WEB", "IM", "LINK")
PAGE: Final = 50
BATCH_LIMIT: Final = 50

_ADDRESS: Final = dict.fromkeys(
    (
        "ADDRESS",
        "ADDRESS_2",
        "ADDRESS_CITY",
        "ADDRESS_POSTAL_CODE",
        "ADDRESS_REGION",
        "ADDRESS_PROVINCE",
        "ADDRESS_COUNTRY",
        "ADDRESS_COUNTRY_CODE",
    ),
    "string",
)
_UTM: Final = dict.fromkeys(
    ("UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM"), "string"
)
_AUDIT: Final = {
    "ASSIGNED_BY_ID": "user",
    "CREATED_BY_ID": "user",
    "MODIFY_BY_ID": "user",
    "DATE_CREATE": "datetime",
    "DATE_MODIFY": "datetime",
    "OPENED": "char",
    "ORIGINATOR_ID": "string",
    "ORIGIN_ID": "string",
    "LAST_ACTIVITY_BY": "user",
    "LAST_ACTIVITY_TIME": "datetime",
}
#: Field → documented type, per entity (``crm.{entity}.fields`` in b24restdocs).
FIELDS: Final[dict[str, dict[str, str]]] = {
    "lead": {
        "ID": "integer",
        "TITLE": "string",
        "HONORIFIC": "crm_status",
        "NAME": "string",
        "SECOND_NAME": "string",
        "LAST_NAME": "string",
        "BIRTHDATE": "date",
        "COMPANY_TITLE": "string",
        "COMPANY_ID": "crm_company",
        "CONTACT_ID": "crm_contact",
        "IS_RETURN_CUSTOMER": "char",
        "SOURCE_ID": "crm_status",
        "SOURCE_DESCRIPTION": "string",
        "STATUS_ID": "crm_status",
        "STATUS_DESCRIPTION": "string",
        "STATUS_SEMANTIC_ID": "string",
        "POST": "string",
        "COMMENTS": "string",
        "CURRENCY_ID": "crm_currency",
        "OPPORTUNITY": "double",
        "IS_MANUAL_OPPORTUNITY": "char",
        "HAS_PHONE": "char",
        "HAS_EMAIL": "char",
        "HAS_IMOL": "char",
        "DATE_CLOSED": "datetime",
        "MOVED_BY_ID": "user",
        "MOVED_TIME": "datetime",
        **_ADDRESS,
        **_UTM,
        **_AUDIT,
    },
    "contact": {
        "ID": "integer",
        "HONORIFIC": "crm_status",
        "NAME": "string",
        "SECOND_NAME": "string",
        "LAST_NAME": "string",
        "PHOTO": "file",
        "BIRTHDATE": "date",
        "TYPE_ID": "crm_status",
        "SOURCE_ID": "crm_status",
        "SOURCE_DESCRIPTION": "string",
        "POST": "string",
        "COMMENTS": "string",
        "EXPORT": "char",
        "HAS_PHONE": "char",
        "HAS_EMAIL": "char",
        "HAS_IMOL": "char",
        "COMPANY_ID": "crm_company",
        "LEAD_ID": "crm_lead",
        **_ADDRESS,
        **_UTM,
        **_AUDIT,
    },
    "deal": {
        "ID": "integer",
        "TITLE": "string",
        "TYPE_ID": "crm_status",
        "CATEGORY_ID": "crm_category",
        "STAGE_ID": "crm_status",
        "STAGE_SEMANTIC_ID": "string",
        "IS_NEW": "char",
        "IS_RECURRING": "char",
        "IS_RETURN_CUSTOMER": "char",
        "IS_REPEATED_APPROACH": "char",
        "PROBABILITY": "integer",
        "CURRENCY_ID": "crm_currency",
        "OPPORTUNITY": "double",
        "IS_MANUAL_OPPORTUNITY": "char",
        "TAX_VALUE": "double",
        "COMPANY_ID": "crm_company",
        "CONTACT_ID": "crm_contact",
        "QUOTE_ID": "crm_quote",
        "BEGINDATE": "date",
        "CLOSEDATE": "date",
        "CLOSED": "char",
        "COMMENTS": "string",
        "ADDITIONAL_INFO": "string",
        "LOCATION_ID": "location",
        "SOURCE_ID": "crm_status",
        "SOURCE_DESCRIPTION": "string",
        "LEAD_ID": "crm_lead",
        "MOVED_BY_ID": "user",
        "MOVED_TIME": "datetime",
        **_UTM,
        **_AUDIT,
    },
    "company": {
        "ID": "integer",
        "TITLE": "string",
        "COMPANY_TYPE": "crm_status",
        "LOGO": "file",
        "LEAD_ID": "crm_lead",
        "HAS_PHONE": "char",
        "HAS_EMAIL": "char",
        "HAS_IMOL": "char",
        "INDUSTRY": "crm_status",
        "REVENUE": "double",
        "CURRENCY_ID": "crm_currency",
        "EMPLOYEES": "crm_status",
        "COMMENTS": "string",
        "IS_MY_COMPANY": "char",
        "BANKING_DETAILS": "string",
        **_ADDRESS,
        **_UTM,
        **_AUDIT,
    },
}
#: Set by the portal, never by a client (``isReadOnly`` in ``crm.*.fields``).
READ_ONLY: Final = frozenset(
    {
        "ID",
        "CREATED_BY_ID",
        "MODIFY_BY_ID",
        "DATE_CREATE",
        "DATE_MODIFY",
        "HAS_PHONE",
        "HAS_EMAIL",
        "HAS_IMOL",
        "IS_RETURN_CUSTOMER",
        "STATUS_SEMANTIC_ID",
        "STAGE_SEMANTIC_ID",
        "MOVED_BY_ID",
        "MOVED_TIME",
        "LAST_ACTIVITY_BY",
        "LAST_ACTIVITY_TIME",
        "IS_NEW",
    }
)
DEFAULTS: Final[dict[str, dict[str, str]]] = {
    "lead": {
        "STATUS_ID": "NEW",
        "STATUS_SEMANTIC_ID": "P",
        "OPPORTUNITY": "0.00",
        "IS_MANUAL_OPPORTUNITY": "N",
        "CURRENCY_ID": "RUB",
        "OPENED": "Y",
        "IS_RETURN_CUSTOMER": "N",
        "HAS_IMOL": "N",
    },
    "contact": {"TYPE_ID": "CLIENT", "OPENED": "Y", "EXPORT": "Y", "HAS_IMOL": "N"},
    "deal": {
        "STAGE_ID": "NEW",
        "STAGE_SEMANTIC_ID": "P",
        "CATEGORY_ID": "0",
        "OPPORTUNITY": "0.00",
        "IS_MANUAL_OPPORTUNITY": "N",
        "TAX_VALUE": "0.00",
        "CURRENCY_ID": "RUB",
        "OPENED": "Y",
        "CLOSED": "N",
        "IS_NEW": "Y",
        "IS_RECURRING": "N",
        "IS_RETURN_CUSTOMER": "N",
        "IS_REPEATED_APPROACH": "N",
    },
    "company": {
        "COMPANY_TYPE": "CUSTOMER",
        "OPENED": "Y",
        "IS_MY_COMPANY": "N",
        "REVENUE": "0.00",
        "CURRENCY_ID": "RUB",
        "HAS_IMOL": "N",
    },
}
#: The types a userfield can have (``crm.*.userfield.add``'s ``USER_TYPE_ID``).
USER_TYPES: Final = frozenset(
    {
        "string",
        "integer",
        "double",
        "boolean",
        "date",
        "datetime",
        "enumeration",
        "url",
        "address",
        "money",
        "file",
        "employee",
        "crm_status",
        "iblock_section",
        "iblock_element",
        "crm",
    }
)
#: The label ``crm.*.fields`` gives an entity type, and its owner id for the timeline.
ENTITY_TYPE_IDS: Final = {"lead": 1, "deal": 2, "contact": 3, "company": 4}


class BitrixError(Exception):
    """A method or system error: ``error`` code (often ``""``) and its description."""

    def __init__(self, code: str, description: str, status: int | None = None) -> None:
        self.code = code
        self.description = description
        self.status = status
        super().__init__(f"{code or '(method error)'}: {description}")


def array_param(params: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``filter`` or ``order`` as ``CCrmRestProxyBase::processMethodRequest`` takes it
    (the ``crm`` module's ``classes/general/restservice.php``), the entities' lists and
    the userfields' alike: absent or ``null`` is ``array()`` (PHP's ``isset``), any
    array is taken (a JSON list is keyed ``0``, ``1``…), and anything else set, ``""``
    and ``0`` included, is "Parameter 'filter' must be array." (or ``'order'``), a
    method error."""
    value = params.get(name)
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    if not isinstance(value, Mapping):
        raise BitrixError("", f"Parameter '{name}' must be array.")
    return value


def field_types(entity: str) -> dict[str, str]:
    return FIELDS[entity]


def text(value: Any) -> str:
    """A value as the REST API's strings have it (``Y``/``N`` for booleans)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


#: A money amount's bound: the portal keeps them as decimal(18,2) (**[inference]**).
MAX_AMOUNT: Final = 1e16
_INT64: Final = 2**63


def whole_number(raw: str) -> int | None:
    """``raw`` as a signed 64-bit integer (ASCII digits, an optional sign, spaces around),
    or ``None``: ``str.isdigit`` takes ``²`` and ``٣``, which ``int()`` refuses or reads,
    ``int()`` takes ``1_000`` and refuses more than 4 300 digits."""
    stripped = raw.strip()
    digits = stripped[1:] if stripped[:1] in ("-", "+") else stripped
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    number = int(stripped)
    return number if -_INT64 <= number < _INT64 else None


_LEADING_NUMBER: Final = re.compile(
    r"[ \t\n\r\v\f]*([+-]?)([0-9]+)(\.[0-9]*)?(?:[eE]([+-]?[0-9]+))?"
)


def php_int(value: Any) -> int:
    """``value`` as PHP's ``(int)`` (and ``intval``) casts it, as the portal reads an
    ``id`` (``CCrmRestHelper::resolveEntityID``) and ``start``: a text's leading number
    (``"1abc"`` and ``"1_000"`` are 1, ``"1e2"`` 100, ``" 7"`` 7, ``"abc"``, ``"²"`` and
    ``"٣"`` 0), saturated to 64 bits as PHP saturates a longer one; a number's whole
    part (``1.9`` is 1, NaN and infinities 0); ``true`` 1; an array 1 unless empty."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return 0
        number = int(value)
    elif isinstance(value, list | Mapping):
        return 1 if value else 0
    else:
        found = _LEADING_NUMBER.match(text(value))
        if found is None:
            return 0
        sign, digits, fraction, exponent = found.groups()
        digits = digits.lstrip("0") or "0"
        if fraction is None and exponent is None:
            number = int(digits) if len(digits) <= 19 else _INT64
        else:
            power = int(exponent) if exponent and len(exponent.lstrip("+-")) <= 5 else 0
            if exponent and len(exponent.lstrip("+-")) > 5:
                power = 99999 if not exponent.startswith("-") else -99999
            whole = len(digits) + power  # digits before the point once scaled
            if whole > 19:
                number = _INT64
            elif whole <= 0:
                number = 0
            else:
                number = int(float(f"{digits}{fraction or ''}e{power}"))
        if sign == "-":
            number = -number
    return max(-_INT64, min(number, _INT64 - 1))


def list_start(value: Any) -> int:
    """``start`` as the portal's ``getNavData`` reads it: PHP's ``intval``, which is
    :func:`php_int`."""
    return php_int(value)


def shown_value(value: Any, limit: int = 80) -> str:
    """A refused value as an error quotes it: its repr, cut to ``limit`` characters."""
    shown = text(value)
    return repr(shown) if len(shown) <= limit else f"{shown[:limit]!r}… ({len(shown)} characters)"


def items(value: Any) -> list[Any]:
    """A list from a JSON list, a PHP-form array (``{"0": …, "1": …}``) or one value."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return list(value.values())
    return [] if value in (None, "") else [value]


#: What :func:`stored` gives for a date the portal cannot read: the value is dropped
#: from ``fields`` (the field keeps what it had), as ``CRestUtil::unConvertDate``'s
#: ``false`` is (``dates.py``).
UNREADABLE: Final = object()


#: What PHP's ``trim`` strips by default.
_PHP_SPACE: Final = " \t\n\r\0\x0b"


def php_text(value: Any) -> str:
    """PHP's ``trim((string) $value)`` of a decoded JSON value: an array or an object is
    ``Array`` (PHP warns, the portal goes on), ``true`` ``1``, ``false`` and ``null``
    nothing, a whole float without its ``.0``."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, Mapping | list):
        return "Array"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip(_PHP_SPACE)


#: The documented type of the standard fields a CRM item keeps as text.
TEXT_KIND: Final = "string"


def field_value(name: str, kind: str, value: Any) -> Any:
    """What the portal keeps for ``value`` written to the standard field ``name``: as
    :func:`stored`, except that an object or a list (even an empty one) given to a text
    field (``TITLE``, ``COMMENTS``, ``NAME``…) is the text ``Array``. The REST layer
    passes a text field through untouched (``CCrmRestProxyBase::internalizeFields`` in
    the ``crm`` module's ``classes/general/restservice.php``) and the item's
    ``StringField::cast`` (``main/lib/orm/fields/stringfield.php``, called by the ORM
    object's setter) is ``(string) $value``: PHP's text of an array, with a warning the
    portal does not turn into an error."""
    if kind == TEXT_KIND and isinstance(value, Mapping | list):
        return "Array"
    return stored(name, kind, value)


def stored(name: str, kind: str, value: Any) -> Any:
    """What the portal keeps (and returns) for ``value`` written to a field of ``kind``.

    Money (``double``) as ``"1500.00"``; ids and numbers as strings; ``char`` as
    ``Y``/``N``; dates as the portal returns them (``dates.py``), :data:`UNREADABLE`
    for one it cannot read. An empty value clears the field (``null``). A value that
    cannot be of the type is refused with the field's name, as the portal refuses it.
    """
    if value is None or value == "" or value == []:
        return None
    if kind in DATE_KINDS:
        moment = instant(value)
        return UNREADABLE if moment is None else shown_date(kind, moment)
    if kind in ("double", "money"):
        try:
            amount = float(text(value).replace(",", ".").split("|")[0])
        except ValueError:
            amount = math.nan
        if not abs(amount) < MAX_AMOUNT:  # NaN, the infinities, what decimal(18,2) cannot hold
            raise BitrixError("", f'Invalid value for the "{name}" field: {shown_value(value)}')
        return f"{amount:.2f}"
    if kind in ("integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_category"):
        number = whole_number(text(value))
        if number is None:
            raise BitrixError("", f'Invalid value for the "{name}" field: {shown_value(value)}')
        return str(number)
    if kind in ("char", "boolean"):
        raw = text(value).strip().upper()
        if raw in ("Y", "1", "TRUE"):
            return "Y" if kind == "char" else "1"
        if raw in ("N", "0", "FALSE"):
            return "N" if kind == "char" else "0"
        raise BitrixError("", f'Invalid value for the "{name}" field: expected Y or N, got {raw!r}')
    return text(value)
