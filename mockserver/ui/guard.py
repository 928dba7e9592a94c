"""Who may use the dashboard: same origin, the server's own host name, the admin token.

:func:`refusal` is the one check every dashboard call goes through; it returns
the answer that refuses the request (``403``/``401``/``415``), or ``None``.

- **DNS rebinding**: the ``Host`` header must name this server: a loopback
  name or address, the address it is bound to, or, when it listens on every
  interface, any IP literal (a rebinding attack comes through a domain name).
- **Cross-origin**: a request whose ``Origin`` (or ``Sec-Fetch-Site``) says
  another site sent it is refused; a write must carry an ``Origin`` equal to
  the server's own, and a body, when it has one, must be ``application/json``
  (which a cross-site form cannot send without a CORS preflight we never grant).
- **Admin token**: when the server has one (``server.admin_token``), every call
  of the dashboard's API needs ``Authorization: Bearer <token>``. The page and
  its scripts load without it, so the page can ask for it.

The admin API has the same rules. When the server has the admin API's own
guard (``server.admin_guard``, with ``check(request, api=...)``), :func:`refusal`
uses it, and adds only what is the dashboard's own: without a token, a change
must say where it comes from (``Origin``). Until then the checks below stand in.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import TYPE_CHECKING, Final

from aiohttp import web

if TYPE_CHECKING:
    from mockserver.server import MockServer

__all__ = ["admin_token", "allowed_host", "refusal"]

_LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARD: Final = frozenset({"", "0.0.0.0", "::"})


def admin_token(server: MockServer) -> str | None:
    """The server's admin token, or ``None`` when it has none."""
    token = getattr(server, "admin_token", None)
    return token if isinstance(token, str) and token else None


def _split_host(value: str) -> tuple[str, str]:
    """``[::1]:8080`` → ``("::1", "8080")``; ``localhost`` → ``("localhost", "")``."""
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name.lower(), rest.removeprefix(":")
    name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    return name.lower(), port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def allowed_host(server: MockServer, host_header: str) -> bool:
    """Whether ``Host`` names this server (see the module docstring)."""
    name, port = _split_host(host_header.strip())
    if port and port != str(server.port):
        return False
    bound = server.host.lower().strip("[]")
    if name in _LOOPBACK_NAMES or name == bound:
        return True
    return bound in _WILDCARD and _is_ip(name)


def _refuse(status: int, title: str, detail: str) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    response = web.Response(
        status=status, text=json.dumps(body), content_type="application/problem+json"
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mockserver admin"'
    return response


def refusal(
    request: web.BaseRequest, server: MockServer, *, write: bool, api: bool = True
) -> web.Response | None:
    """The answer that refuses ``request``, or ``None`` when it may go on."""
    shared = getattr(server, "admin_guard", None)
    if shared is not None and callable(getattr(shared, "check", None)):
        refused: web.Response | None = shared.check(request, api=api)
        if refused is not None or not write or admin_token(server) is not None:
            return refused
        if request.headers.get("Origin") is None:
            own = f"{request.scheme}://{request.headers.get('Host', '')}"
            return _refuse(403, "Origin required", f"a change needs Origin: {own}")
        return None
    host = request.headers.get("Host", "")
    if not allowed_host(server, host):
        return _refuse(
            403, "Unknown host", f"Host {host!r} does not name this server (DNS rebinding?)"
        )
    own = f"{request.scheme}://{host}"
    origin = request.headers.get("Origin")
    site = request.headers.get("Sec-Fetch-Site", "")
    if (origin is not None and origin != own) or site in ("cross-site", "same-site"):
        shown = origin if origin is not None else f"Sec-Fetch-Site: {site}"
        return _refuse(403, "Cross-origin request", f"{shown!r} is not {own!r}")
    if write:
        if origin is None:
            return _refuse(403, "Origin required", f"a change needs Origin: {own}")
        kind = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if request.body_exists and kind != "application/json":
            return _refuse(415, "JSON only", f"a change takes application/json, not {kind!r}")
    token = admin_token(server)
    if api and token is not None:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            return _refuse(401, "Admin token required", "send Authorization: Bearer <token>")
    return None
