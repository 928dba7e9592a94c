"""Who may use the dashboard: the admin API's guard, and one rule of the page's own.

:func:`refusal` is the one check every dashboard call goes through; it returns
the answer that refuses the request (``403``/``401``/``415``), or ``None``. It
asks the server's admin guard (``mockserver/guard.py``: ``Host`` against DNS
rebinding, ``Origin`` and ``Sec-Fetch-Site`` against other sites, JSON bodies for
writes, the admin token) and adds what is the dashboard's own: without a token, a
change must say where it comes from (``Origin``). The page and its scripts load
without a token, so the page can ask for it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from mockserver.server import MockServer

__all__ = ["admin_token", "refusal"]


def admin_token(server: MockServer) -> str | None:
    """The server's admin token, or ``None`` when it has none."""
    token = getattr(server, "admin_token", None)
    return token if isinstance(token, str) and token else None


def _refuse(status: int, title: str, detail: str) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/problem+json"
    )


def refusal(
    request: web.BaseRequest, server: MockServer, *, write: bool, api: bool = True
) -> web.Response | None:
    """The answer that refuses ``request``, or ``None`` when it may go on."""
    refused = server.admin_guard.check(request, api=api)
    if refused is not None or not write or admin_token(server) is not None:
        return refused
    if request.headers.get("Origin") is None:
        own = f"{request.scheme}://{request.headers.get('Host', '')}"
        return _refuse(403, "Origin required", f"a change needs Origin: {own}")
    return None
