"""Who may drive the admin API (and any page the server serves under ``/__admin/``).

A mock server listens on loopback, but any web page the tester opens can make
the browser send requests there: a ``text/plain`` POST needs no preflight, and
a page whose domain is re-pointed at 127.0.0.1 (DNS rebinding) is, to the
browser, same-origin. :class:`AdminGuard` refuses both, by default:

- ``Host`` must name the server itself: 127.0.0.1, ``localhost``, ``[::1]``,
  the bound host, or the address the connection arrived on, with the bound
  port (or none, on the scheme's default port); a rebinding page sends its own
  domain here and is refused;
- ``Origin`` and ``Referer``, when present (every copy of them), must be this
  server (``http://127.0.0.1:PORT``…); a foreign page's requests carry their
  own origin and are refused, and so is a request a browser marks
  ``Sec-Fetch-Site: cross-site`` or ``same-site``;
- a write (POST, PUT, PATCH) that carries a body must say it is JSON
  (``application/json`` or ``…+json``): the only bodies a page can send
  cross-origin without a preflight are ``text/plain``, forms and multipart.

For deliberate remote use, ``token`` makes every admin request show
``Authorization: Bearer TOKEN`` (then Host and Origin may be anything: a page
cannot add that header to a cross-origin request without a preflight, which is
never approved); ``allowed_hosts`` names extra host names to accept in ``Host``
and ``Origin`` (a name the machine is reached by).

``check(request)`` returns the refusal (``application/problem+json``) or
``None``; :func:`check_admin_request` does it for a :class:`MockServer`, so a
page served by the same server gets the same protection, and
:func:`admin_middleware` wraps it for an ``aiohttp.web.Application``. Every
request under ``/__admin/`` already passes through it before any route.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

if TYPE_CHECKING:
    from .server import MockServer

__all__ = ["AdminGuard", "admin_middleware", "check_admin_request"]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_WILDCARD = frozenset({"0.0.0.0", "::", ""})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
_OWN_SITE = frozenset({"same-origin", "none"})


# RFC 9110 §7.2: Host = uri-host [ ":" port ]; a name, an IPv4 address or a bracketed
# IPv6 literal, nothing else (no userinfo, path, query, fragment or zone).
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=-]+)(?::([0-9]{0,10}))?")


def _canonical(name: str) -> str:
    """A host name as the guard compares it: lower case, an IPv6 address without brackets
    and in its short form (``0:0:0:0:0:0:0:1`` is ``::1``), a name without the one
    trailing dot that makes it absolute (``localhost.`` is ``localhost``)."""
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if ":" in name:
        try:
            return str(ipaddress.IPv6Address(name))
        except ValueError:
            return name
    return name[:-1] if name.endswith(".") and not name.endswith("..") else name


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``host[:port]`` (IPv6 in brackets) as ``(host, port)``, or ``None`` when it is not
    one (``127.0.0.1#x``, ``a@b``, ``host/path`` and a bracket that is no IPv6 address)."""
    found = _HOST.fullmatch(value.strip())
    if found is None:
        return None
    name, port = found.group(1), found.group(2)
    if name.startswith("["):
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return None
    if port and int(port) > 65535:
        return None
    return _canonical(name), int(port) if port else None


_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")


def host_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a host name the admin API is reached by, or ``None``: a
    name Host and Origin can carry (``mock.ci.internal``, ``10.0.0.5``, ``[fd00::1]``),
    without a port (the server's own is checked)."""
    bare = name.strip()
    if bare.startswith("[") and bare.endswith("]"):
        bare = bare[1:-1]
    if ":" in bare:
        try:
            ipaddress.IPv6Address(bare)
        except ValueError:
            return f"a host name without a port, such as mock.ci.internal; got {name!r}"
        return None
    if not _NAME.fullmatch(bare):
        return f"a host name such as mock.ci.internal (letters, digits, '.', '-'); got {name!r}"
    return None


def token_problem(token: str) -> str | None:
    """Why ``token`` can never be sent as ``Authorization: Bearer TOKEN``, or ``None``."""
    if any(char.isspace() or not char.isprintable() for char in token):
        return (
            "a token without spaces or control characters (a header cannot carry them "
            "as sent, so no request would ever match it)"
        )
    if not token.isascii():
        # A browser's fetch (the dashboard's) sends a header in Latin-1, curl in UTF-8:
        # the same token would be different bytes, and one of them always refused.
        return (
            "a token of ASCII letters, digits and punctuation (a header's bytes for "
            f"other characters differ from one client to the next); got {len(token)} "
            "character(s), not all ASCII"
        )
    return None


def host_names(names: Iterable[str]) -> frozenset[str]:
    """Host names as the guard compares them (see :func:`_canonical`)."""
    return frozenset(_canonical(name) for name in names)


@dataclass(frozen=True)
class AdminGuard:
    """The admin API's door: Host, Origin and content-type checks, or a bearer token."""

    host: str = "127.0.0.1"
    port: int = 0
    scheme: str = "http"
    token: str | None = None
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        *,
        host: str,
        port: int,
        scheme: str = "http",
        token: str | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> AdminGuard:
        return cls(_canonical(host), port, scheme, token or None, host_names(allowed_hosts))

    def names(self, local: str | None = None) -> frozenset[str]:
        """The host names this server answers to as itself."""
        names = set(_LOOPBACK) | self.allowed_hosts
        if self.host not in _WILDCARD:
            names.add(self.host)
        if local:
            names.add(_canonical(local))
        return frozenset(names)

    def _ours(self, host: str, port: int | None, local: str | None, *, origin: bool) -> bool:
        # A rebinding page names its own domain in Host, so the name decides; a Host
        # without a port (a hand-written request) is fine. An Origin always has its
        # port (or the scheme's default): another local server's page is refused.
        if port is None and origin:
            port = 443 if self.scheme == "https" else 80
        return (port is None or port == self.port) and host in self.names(local)

    def check(self, request: web.BaseRequest, *, api: bool = True) -> web.Response | None:
        """The refusal for ``request``, or ``None`` when it may go on.

        ``api=False`` is for a page and its static files: with a token they load
        without it (so the page can ask for it), under the Host, Origin and
        ``Sec-Fetch-Site`` checks that apply when there is no token.
        """
        if self.token is not None and api:
            given = request.headers.get("Authorization", "")
            scheme, _, credential = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                credential.strip().encode("utf-8", "surrogateescape"),
                self.token.encode("utf-8", "surrogateescape"),
            ):
                response = _refusal(
                    401,
                    "Admin token required",
                    "this server's admin API takes 'Authorization: Bearer <token>' "
                    "(the token given with --admin-token / admin_token)"
                    + ("; the one given is wrong" if given else ""),
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="mockserver admin"'
                return response
        else:
            local = _local_address(request)
            host_header = request.headers.get("Host")
            # HTTP/1.0 needs no Host; a browser (the rebinding risk) always sends one.
            bare = host_header is None and request.version < (1, 1)
            where = None if host_header is None else _split_host(host_header)
            authority = _target_authority(request)
            if authority is not None:
                # An absolute-form target names the host too (RFC 9112 §3.2.2 has the
                # server take it over Host): both must be this server.
                target = _split_host(authority)
                if target is None or not self._ours(*target, local, origin=False):
                    bare, where, host_header = False, None, authority
            if not bare and (where is None or not self._ours(*where, local, origin=False)):
                host_header = host_header or ""
                return _refusal(
                    403,
                    "Admin request refused",
                    f"Host {_shown(host_header)} is not this server ({self._expected()}); "
                    "a page on another domain pointed at this address (DNS rebinding) is "
                    "refused. Allow a name with --admin-allow-host, or use --admin-token",
                )
            # Every copy of a header counts: a second Origin (or Sec-Fetch-Site) is no
            # less a sign of another site for coming second.
            headers = request.headers
            sites = [value.strip().lower() for value in headers.getall("Sec-Fetch-Site", ())]
            # Only what a browser says of a request its own page made passes; a list, an
            # unknown word or an empty value is no browser's, and may hide "cross-site".
            foreign = [value for value in sites if value not in _OWN_SITE]
            if foreign:
                # A browser says another site (or another port of this one) sent it.
                return _refusal(
                    403,
                    "Cross-origin admin request refused",
                    f"Sec-Fetch-Site: {_shown(foreign[0])[1:-1] or '(empty)'}: web pages "
                    "elsewhere may not drive the admin API (only same-origin and none pass). "
                    "Use --admin-token for deliberate remote use",
                )
            for name in ("Origin", "Referer"):
                for value in headers.getall(name, ()):
                    if not self._origin_ok(value, local, path=name == "Referer"):
                        return _refusal(
                            403,
                            "Cross-origin admin request refused",
                            f"{name} {_shown(value)} is not this server ({self._expected()}); "
                            "web pages elsewhere may not drive the admin API. Allow a name "
                            "with --admin-allow-host, or use --admin-token",
                        )
        if request.method not in _SAFE_METHODS and _has_body(request):
            kind = request.headers.get("Content-Type", "")
            media = kind.split(";")[0].strip().lower()
            if media != "application/json" and not (
                media.startswith("application/") and media.endswith("+json")
            ):
                return _refusal(
                    415,
                    "Admin writes take JSON",
                    f"Content-Type: expected application/json, got {_shown(kind or '(none)')}",
                )
        return None

    def _origin_ok(self, origin: str, local: str | None, *, path: bool = False) -> bool:
        """Whether an ``Origin`` (or, with ``path``, a ``Referer``: a page's URL) is this
        server's own."""
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme != self.scheme or not parts.hostname:
            return False
        if not path and (parts.path or parts.query or parts.fragment or "?" in origin):
            return False  # an Origin is scheme://host[:port], nothing more
        if parts.username is not None or parts.password is not None:
            return False
        if _split_host(parts.netloc) is None:
            return False
        return self._ours(_canonical(parts.hostname), port, local, origin=True)

    def _expected(self) -> str:
        names = sorted(self.names())
        shown = ", ".join(f"[{n}]" if ":" in n else n for n in names)
        return f"{shown} on port {self.port}"


def check_admin_request(
    server: MockServer, request: web.BaseRequest, *, api: bool = True
) -> web.Response | None:
    """The admin guard of ``server`` applied to ``request``: a refusal, or ``None``.

    Use it in front of any page or endpoint served by the same server (the admin
    API under ``/__admin/`` already goes through it); ``api=False`` for a page and
    its static files (see :meth:`AdminGuard.check`).
    """
    return server.admin_guard.check(request, api=api)


def admin_middleware(server: MockServer) -> Any:
    """The same check as an aiohttp middleware, for an ``aiohttp.web.Application`` whose
    pages belong to ``server`` (``web.Application(middlewares=[admin_middleware(s)])``)."""

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        refusal = check_admin_request(server, request)
        if refusal is not None:
            return refusal
        response: web.StreamResponse = await handler(request)
        return response

    return guard


def _has_body(request: web.BaseRequest) -> bool:
    if request.headers.get("Transfer-Encoding"):
        return True
    length = request.headers.get("Content-Length", "0").strip()
    return length not in ("", "0")


def _target_authority(request: web.BaseRequest) -> str | None:
    """The ``host[:port]`` of an absolute-form target (``GET http://host/path``), or
    ``None`` for the usual ``/path``."""
    target = request.raw_path
    if target.startswith("/") or "://" not in target:
        return None
    return target.partition("://")[2].partition("/")[0].partition("?")[0].partition("#")[0]


def _local_address(request: web.BaseRequest) -> str | None:
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and sockname and isinstance(sockname[0], str):
        return sockname[0]
    return None


def _shown(text: str) -> str:
    """A header value quoted for a message, non-UTF-8 bytes and controls escaped."""
    from .journal import escape_text

    return f"'{escape_text(text)[:200]}'"


def _refusal(status: int, title: str, detail: str) -> web.Response:
    from .admin import problem

    return problem(status, title, detail)
