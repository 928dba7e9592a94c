"""Application tokens, as Bitrix24's OAuth 2.0 runs them (``settings/oauth/index.md``):
an access token that lives an hour on the server's clock, a refresh token that lives 28
days, and the authorization server's ``/oauth/token/`` endpoint (``oauth.bitrix.info``),
served by the mock server, for the ``authorization_code`` and ``refresh_token`` grants."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .schema import text, whole_number

if TYPE_CHECKING:
    from mockserver.crm.base import Clock
    from mockserver.crm.store import Store

__all__ = ["MAX_SCOPES", "SCOPE_WORD", "OAuthError", "Tokens", "app_info", "checked_scope"]

REFRESH_LIFETIME: Final = 28 * 24 * 3600
CODE_LIFETIME: Final = 30
#: A named portal's token or code: its name, a dot, 32 hex digits (``_new``).
_NAMED_TOKEN: Final = re.compile(r"[A-Za-z0-9-]{1,63}\.[0-9a-f]{32}")
#: How many live tokens of each kind are kept; the oldest go first.
MAX_TOKENS: Final = 1000
#: A scope's name (``crm``, ``user_brief``, ``im.import``) and how many one webhook, token
#: or code holds: with 1 000 of each kept, a scope must not be as large as a request body.
SCOPE_WORD: Final = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MAX_SCOPES: Final = 64


def checked_scope(scope: tuple[str, ...]) -> tuple[str, ...]:
    """``scope`` as given, or ``ValueError`` naming what is too many or no scope's name."""
    scope = tuple(scope)
    if len(scope) > MAX_SCOPES:
        raise ValueError(f"scope: at most {MAX_SCOPES} names, got {len(scope)}")
    for name in scope:
        if not isinstance(name, str) or not SCOPE_WORD.fullmatch(name):
            shown = str(name)[:80]
            raise ValueError(
                f"scope: got {shown!r}, expected letters, digits, '_', '.' or '-' (1 to 64)"
            )
    return scope


#: app.info's LICENSE by plan (**[inference]**: the page's examples are "de_std",
#: "de_ent250", "de_ent10000"; the fake speaks English).
_LICENSES: Final = {"standard": "std", "enterprise": "ent250", "unlimited": "ent10000"}


def app_info(client_id: str, plan: str) -> dict[str, Any]:
    """``app.info`` (``api-reference/common/system/app-info.md``): the local application
    the portal's tokens belong to, installed, on the portal's plan."""
    license_type = _LICENSES.get(plan, "std")
    return {
        "ID": 1,
        "CODE": client_id,
        "VERSION": 1,
        "STATUS": "L",
        "INSTALLED": True,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": "en",
        "LICENSE": f"en_{license_type}",
        "LICENSE_TYPE": license_type,
        "LICENSE_FAMILY": license_type.rstrip("0123456789"),
    }


def _user_number(user_id: str) -> int | str:
    """A user id as the authorization server writes it: a number when it is one."""
    number = whole_number(user_id)
    return number if number is not None and number >= 0 else user_id


class OAuthError(Exception):
    """An answer of the authorization server: ``{"error", "error_description"}``, 400/401."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        self.code = code
        self.description = description
        self.status = status
        super().__init__(f"{code}: {description}")


class Tokens:
    """The portal's application: its ``client_id``/``client_secret`` and the tokens issued.

    Everything is kept in the store's meta, so it survives a restart with ``--data``.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        client_id: str,
        client_secret: str,
        lifetime: int,
        marker: str = "",
    ) -> None:
        #: What this portal's tokens and codes start with ("b." for a portal named b), so
        #: that the one ``/oauth/token/`` knows whose a refresh token is.
        self.marker = marker
        self.store = store
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime = lifetime

    def _table(self, name: str) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = self.store.meta.get(f"oauth_{name}", {})
        return table

    def _save(self, name: str, table: dict[str, dict[str, Any]]) -> None:
        # An expired access token is kept a while longer, so that it earns
        # ``expired_token`` (refresh, then retry), not ``invalid_token``.
        grace = REFRESH_LIFETIME if name == "access" else 0
        moment = self.clock.timestamp() - grace
        live = {key: value for key, value in table.items() if value["expires"] > moment}
        if len(live) > MAX_TOKENS:
            # Tokens minted for event deliveries go first, oldest first: a busy handler
            # must not push out the tokens the application itself holds.
            minted = [key for key, value in live.items() if value.get("event")]
            for key in minted[: len(live) - MAX_TOKENS]:
                del live[key]
            while len(live) > MAX_TOKENS:
                live.pop(next(iter(live)))
        self.store.set_meta(f"oauth_{name}", live)

    def issue(
        self,
        user_id: str,
        scope: tuple[str, ...],
        base_url: str = "",
        *,
        server: str | None = None,
        for_event: bool = False,
    ) -> dict[str, Any]:
        """New access and refresh tokens; the authorization server's JSON answer.

        ``base_url`` is the portal's address (``client_endpoint`` is its ``/rest/``),
        ``server`` the authorization server's (``server_endpoint``; the portal's when not
        given), as ``settings/oauth/index.md`` tells them apart. Tokens ``for_event`` (an
        event delivery's ``auth``) are the first dropped when the store is full."""
        moment = int(self.clock.timestamp())
        access, refresh = self._new(), self._new()
        grant: dict[str, Any] = {"user_id": user_id, "scope": list(checked_scope(scope))}
        if for_event:
            grant["event"] = True
        tokens = dict(self._table("access"))
        tokens[access] = {**grant, "expires": moment + self.lifetime}
        self._save("access", tokens)
        refreshes = dict(self._table("refresh"))
        refreshes[refresh] = {**grant, "expires": moment + REFRESH_LIFETIME}
        self._save("refresh", refreshes)
        return {
            "access_token": access,
            "expires": moment + self.lifetime,
            "expires_in": self.lifetime,
            "scope": ",".join(scope),
            "domain": "oauth.bitrix.info",
            "server_endpoint": f"{base_url if server is None else server}/rest/",
            "status": "L",
            "client_endpoint": f"{base_url}/rest/",
            "member_id": self.member_id,
            "user_id": _user_number(user_id),
            "refresh_token": refresh,
        }

    def _new(self) -> str:
        return self.marker + secrets.token_hex(16)

    def owns(self, token: str) -> bool:
        """Whether a token (or code) is of this portal's minting, by its form alone. The
        first portal also takes what no named portal could have minted (``zz.y``), so
        that a garbage token earns ``invalid_grant``, not a stub server's plain 404."""
        if self.marker:
            return token.startswith(self.marker)
        return "." not in token or not _NAMED_TOKEN.fullmatch(token)

    @property
    def member_id(self) -> str:
        found = self.store.meta.get("member_id")
        if not found:
            found = secrets.token_hex(16)
            self.store.set_meta("member_id", found)
        return str(found)

    def issue_code(self, user_id: str, scope: tuple[str, ...]) -> str:
        """A first authorization code (lives 30 seconds), as the install redirect carries."""
        code = self._new()
        codes = dict(self._table("code"))
        codes[code] = {
            "user_id": user_id,
            "scope": list(checked_scope(scope)),
            "expires": self.clock.timestamp() + CODE_LIFETIME,
        }
        self._save("code", codes)
        return code

    def check(self, token: str) -> tuple[str, tuple[str, ...]] | str:
        """The token's user and scope, or the error code it earns."""
        grant = self._table("access").get(token)
        if grant is None:
            return "invalid_token"
        if grant["expires"] <= self.clock.timestamp():
            return "expired_token"
        return str(grant["user_id"]), tuple(grant["scope"])

    def grant(
        self, params: Mapping[str, Any], base_url: str, *, server: str | None = None
    ) -> dict[str, Any]:
        """``/oauth/token/?grant_type=…&client_id=…&client_secret=…&refresh_token|code=…``."""
        kind = text(params.get("grant_type"))
        if kind not in ("refresh_token", "authorization_code"):
            raise OAuthError(
                "invalid_request",
                f"grant_type: got {kind!r}, expected refresh_token or authorization_code",
            )
        if (
            text(params.get("client_id")) != self.client_id
            or text(params.get("client_secret")) != self.client_secret
        ):
            raise OAuthError(
                "invalid_client", "Invalid client data: client_id or client_secret", 401
            )
        table = "refresh" if kind == "refresh_token" else "code"
        key = text(params.get("refresh_token" if kind == "refresh_token" else "code"))
        grants = dict(self._table(table))
        found = grants.pop(key, None)
        if found is None or found["expires"] <= self.clock.timestamp():
            raise OAuthError("invalid_grant", "Invalid authorization tokens were provided")
        self._save(table, grants)  # a refresh token (or a code) is used once
        return self.issue(str(found["user_id"]), tuple(found["scope"]), base_url, server=server)
