"""amoCRM's answers that are not data: problem+json errors, 400 ``validation-errors``,
the 429 bodies and the nginx page of a blocked account.

Shapes: https://www.amocrm.ru/developers/content/crm_platform/error-codes (the
``{title, type, status, detail}`` body, ``validation-errors`` keyed by ``request_id``
with dotted ``path``s), and the bodies quoted in amocrm/amocrm-api-php issues #21,
#92, #115, #333 and #434.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

__all__ = [
    "BLOCKED_PAGE",
    "HAL",
    "PROBLEM",
    "Invalid",
    "blocked",
    "hal",
    "invalid",
    "problem",
    "request_id",
]

PROBLEM: Final = "application/problem+json"
HAL: Final = "application/hal+json"
BLOCKED_PAGE: Final = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def request_id(item: Any, index: int) -> str:
    """The ``request_id`` an answer echoes for the item at ``index``: its text, or what JSON
    writes of another value (``7``, ``true``, ``{"a":1}``); its place when absent or
    ``null`` (**[inference]**: the documentation shows text only; a Python ``repr`` such as
    ``{'a': 1}`` or ``None`` was echoed before)."""
    given = item.get("request_id") if isinstance(item, Mapping) else None
    if given is None:
        return str(index)
    if isinstance(given, str):
        return given
    return json.dumps(given, ensure_ascii=False, separators=(",", ":"))


class Invalid(Exception):
    """A request refused with 400 ``validation-errors`` (one entry per failing item)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("validation failed")


def invalid(code: str, path: str, detail: str, *, request_id: str = "0") -> Invalid:
    """One error on one item: ``Invalid([{request_id, errors: [{code, path, detail}]}])``."""
    return Invalid(
        [{"request_id": request_id, "errors": [{"code": code, "path": path, "detail": detail}]}]
    )


def problem(
    status: int,
    title: str,
    detail: str,
    extra: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body = {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
        **(extra or {}),
    }
    return web.json_response(body, status=status, content_type=PROBLEM, headers=headers)


def hal(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, content_type=HAL)


def blocked() -> web.Response:
    """What a blocked account answers to everything: nginx's 403 page, not JSON."""
    return web.Response(status=403, text=BLOCKED_PAGE, content_type="text/html")
