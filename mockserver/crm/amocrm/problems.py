"""amoCRM's answers that are not data: problem+json errors, 400 ``validation-errors``,
the 429 bodies and the nginx page of a blocked account.

Shapes: https://www.amocrm.ru/developers/content/crm_platform/error-codes (the
``{title, type, status, detail}`` body, ``validation-errors`` keyed by ``request_id``
with dotted ``path``s), and the bodies quoted in amocrm/amocrm-api-php issues #21,
#92, #115, #333 and #434.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

__all__ = ["BLOCKED_PAGE", "HAL", "PROBLEM", "Invalid", "blocked", "hal", "invalid", "problem"]

PROBLEM: Final = "application/problem+json"
HAL: Final = "application/hal+json"
BLOCKED_PAGE: Final = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


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
    status: int, title: str, detail: str, extra: Mapping[str, Any] | None = None
) -> web.Response:
    body = {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
        **(extra or {}),
    }
    return web.json_response(body, status=status, content_type=PROBLEM)


def hal(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, content_type=HAL)


def blocked() -> web.Response:
    """What a blocked account answers to everything: nginx's 403 page, not JSON."""
    return web.Response(status=403, text=BLOCKED_PAGE, content_type="text/html")
