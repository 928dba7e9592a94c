"""amoCRM's OAuth 2.0 and its tokens, on the server's clock.

``POST /oauth2/access_token`` (JSON or form body) with ``grant_type``
``authorization_code`` (``code``) or ``refresh_token`` (``refresh_token``), plus
``client_id``, ``client_secret`` and ``redirect_uri``, all checked
(https://www.amocrm.ru/developers/content/oauth/step-by-step, Kommo
https://developers.kommo.com/reference/get-token). The answer is
``{token_type: "Bearer", expires_in: 86400, access_token, refresh_token}``;
an authorization code lives 20 minutes and works once, a refresh token lives
three months and works once (the next refresh needs the new one).

Refusals are problem+json as amoCRM sends them: ``{hint, title: "Некорректный
запрос", type: ".../OAuthProblemJson", status, detail}``, with the hints seen in
real answers ("Check the `client_id` parameter", "Check the `client_secret`
parameter", "Redirect URI is not associated with client", "Cannot decrypt the
authorization code", "Authorization code has expired", "Authorization code has been
revoked", "Token has been revoked"; amocrm/amocrm-api-php issue #123 and client code),
and league/oauth2-server's own for a grant of another integration ("Token is not linked
to client", "Authorization code was not issued to this client"). A refresh token's
refusal is a 401 (league's ``invalidRefreshToken``), a code's a 400.

Access tokens, OAuth and long-lived alike, are JWTs (``header.payload.signature``,
base64url, HS256 here where amoCRM signs RS256) with amoCRM's claims: ``aud``
(client id), ``jti``, ``iat``, ``nbf``, ``exp``, ``sub`` (user), ``grant_type``,
``account_id``, ``base_domain``, ``version``, ``scopes``, ``api_domain``, so a client
that reads the expiry (or ``api_domain``, as aioamocrm and the official library do)
from the token works. Validity is judged on the profile's clock, so a test that moves
the clock past ``exp``, or back before ``nbf``, gets the 401 a real account gives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from .problems import PROBLEM

__all__ = ["ACCESS_LIFETIME", "CODE_LIFETIME", "REFRESH_LIFETIME", "Integration", "OAuth"]

ACCESS_LIFETIME: Final = 86_400
REFRESH_LIFETIME: Final = 90 * 86_400
CODE_LIFETIME: Final = 20 * 60
LONG_LIVED_LIFETIME: Final = 5 * 365 * 86_400
#: Live OAuth grants kept (codes, refresh and access tokens); the oldest go first.
MAX_GRANTS: Final = 1_000
SCOPES: Final = ["crm", "files", "files_delete", "notifications", "push_notifications"]


@dataclass(frozen=True)
class Integration:
    """An OAuth integration of the account: what ``/oauth2/access_token`` checks."""

    name: str
    client_id: str
    client_secret: str
    redirect_uri: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any] | None:
    """A JWT's payload, unchecked (what a client reads), or ``None`` when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


class OAuth:
    """Integrations, codes and tokens of one account, kept in ``save`` (the store's meta)."""

    def __init__(
        self,
        *,
        subdomain: str,
        state: Mapping[str, Any],
        save: Callable[[dict[str, Any]], None],
        clock: Callable[[], float],
        access_lifetime: int = ACCESS_LIFETIME,
    ) -> None:
        if not access_lifetime > 0:
            raise ValueError(f"access_lifetime: got {access_lifetime!r}, expected seconds > 0")
        self.subdomain = subdomain
        #: How long an access token from ``/oauth2/access_token`` lives (``expires_in``).
        self.access_lifetime = access_lifetime
        self._save = save
        self._clock = clock
        self.secret: str = str(state.get("secret") or secrets.token_hex(32))
        self.integrations: dict[str, Integration] = {
            key: Integration(**value) for key, value in dict(state.get("integrations", {})).items()
        }
        #: code / refresh token → {kind, client_id, exp, used}
        self.grants: dict[str, dict[str, Any]] = dict(state.get("grants", {}))
        self.persist()

    def persist(self) -> None:
        self._save(
            {
                "secret": self.secret,
                "integrations": {k: vars(v) for k, v in self.integrations.items()},
                "grants": self.grants,
            }
        )

    # --- operator --------------------------------------------------------------------

    def add_integration(
        self,
        name: str = "integration",
        *,
        redirect_uri: str = "https://example.invalid/oauth",
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> Integration:
        made = Integration(
            name=name,
            client_id=client_id or str(uuid.uuid4()),
            client_secret=client_secret or secrets.token_urlsafe(48),
            redirect_uri=redirect_uri,
        )
        self.integrations[made.client_id] = made
        self.persist()
        return made

    def authorization_code(self, client_id: str) -> str:
        """A code as the account owner's consent gives it (20 minutes, once)."""
        if client_id not in self.integrations:
            raise KeyError(f"client_id: no integration {client_id!r}")
        code = "def50200" + secrets.token_hex(48)
        self._grant(code, "code", client_id, CODE_LIFETIME)
        return code

    def jwt(self, client_id: str, grant_type: str, lifetime: int) -> str:
        """An access token: a JWT with amoCRM's claims, expiring ``lifetime`` s from now."""
        now = int(self._clock())
        header = {"typ": "JWT", "alg": "HS256", "jti": secrets.token_hex(20)}
        payload = {
            "aud": client_id,
            "jti": header["jti"],
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "sub": "1",
            "grant_type": grant_type,
            "account_id": 1,
            "base_domain": "amocrm.ru",
            "version": 2,
            "scopes": SCOPES,
            "api_domain": "api-b.amocrm.ru",
        }
        signing = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
        signature = hmac.new(self.secret.encode(), signing.encode(), hashlib.sha256).digest()
        return signing + "." + _b64(signature)

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this account signed and that is valid now, else ``None``.

        Valid now is what league/oauth2-server's ``BearerTokenValidator`` (which amoCRM's
        OAuth runs) asks of lcobucci/jwt's ``LooseValidAt`` without leeway: issued at or
        before now (``iat``), usable from ``nbf``, and not yet at ``exp``, all on the
        server's clock. A token whose ``nbf`` or ``iat`` is still ahead (the clock set
        back past its issue) is refused as an expired one is."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        signing = parts[0] + "." + parts[1]
        expected = _b64(hmac.new(self.secret.encode(), signing.encode(), hashlib.sha256).digest())
        if not _same(expected, parts[2]):
            return None
        claims = claims_of(token)
        if claims is None or not all(
            isinstance(claims.get(name), int) for name in ("iat", "nbf", "exp")
        ):
            return None
        now = self._clock()
        return claims if claims["iat"] <= now and claims["nbf"] <= now < claims["exp"] else None

    # --- /oauth2/access_token --------------------------------------------------------

    def exchange(self, body: Any) -> web.Response:
        if not isinstance(body, dict):
            return _refused(400, "Check the request body: a JSON object or a form is expected")
        client_id = str(body.get("client_id") or "")
        integration = self.integrations.get(client_id)
        if integration is None:
            return _refused(400, "Check the `client_id` parameter")
        if not _same(str(body.get("client_secret") or ""), integration.client_secret):
            return _refused(400, "Check the `client_secret` parameter")
        if body.get("redirect_uri") != integration.redirect_uri:
            return _refused(400, "Redirect URI is not associated with client")
        grant_type = body.get("grant_type")
        if grant_type == "authorization_code":
            refusal = self._spend(
                str(body.get("code") or ""), "code", client_id, "authorization code"
            )
        elif grant_type == "refresh_token":
            refusal = self._spend(
                str(body.get("refresh_token") or ""), "refresh", client_id, "refresh token"
            )
        else:
            return _refused(400, "Check the `grant_type` parameter")
        if refusal is not None:
            return refusal
        refresh = "def50200" + secrets.token_hex(64)
        self._grant(refresh, "refresh", client_id, REFRESH_LIFETIME)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.access_lifetime,
                "access_token": self.jwt(client_id, "", self.access_lifetime),
                "refresh_token": refresh,
                "server_time": int(self._clock()),
            }
        )

    def _spend(self, value: str, kind: str, client_id: str, what: str) -> web.Response | None:
        """Spend a code or refresh token, or the refusal league/oauth2-server gives, in its
        order: ``RefreshTokenGrant::validateOldRefreshToken`` asks whose it is, then expiry,
        then revocation (each ``invalidRefreshToken``, 401); ``AuthCodeGrant`` asks expiry,
        revocation, then whose (each ``invalidRequest('code', ...)``, 400). So a spent token
        whose time is also up says "has expired", and another integration's says so."""
        refresh = kind == "refresh"
        status = 401 if refresh else 400
        grant = self.grants.get(value)
        if grant is None or grant["kind"] != kind:
            return _refused(status, f"Cannot decrypt the {what}")
        foreign = grant["client_id"] != client_id
        if refresh and foreign:
            return _refused(status, "Token is not linked to client")
        if self._clock() >= grant["exp"]:
            return _refused(
                status, "Token has expired" if refresh else "Authorization code has expired"
            )
        if grant["used"]:
            return _refused(
                status,
                "Token has been revoked" if refresh else "Authorization code has been revoked",
            )
        if foreign:
            return _refused(status, "Authorization code was not issued to this client")
        grant["used"] = True
        self.persist()
        return None

    def _grant(self, value: str, kind: str, client_id: str, lifetime: int) -> None:
        now = self._clock()
        # Expired and spent grants are kept, so that they keep earning "has expired" and
        # "has been revoked" (amoCRM's tokens carry their own expiry) whatever else is
        # granted; only past MAX_GRANTS do they go: expired first, then spent, then the
        # oldest.
        if len(self.grants) >= MAX_GRANTS:
            for key in [k for k, g in self.grants.items() if g["exp"] <= now]:
                del self.grants[key]
        if len(self.grants) >= MAX_GRANTS:
            for key in [k for k, g in self.grants.items() if g["used"]]:
                del self.grants[key]
        while len(self.grants) >= MAX_GRANTS:
            del self.grants[next(iter(self.grants))]
        self.grants[value] = {
            "kind": kind,
            "client_id": client_id,
            "exp": now + lifetime,
            "used": False,
        }
        self.persist()


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison of any two texts: ``hmac.compare_digest`` raises on
    text that is not ASCII (a header's ``é``, a JSON ``\\udcff``), so it compares bytes."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def _refused(status: int, hint: str) -> web.Response:
    body = {
        "hint": hint,
        "title": "Некорректный запрос",
        "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
        "status": status,
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }
    return web.json_response(body, status=status, content_type=PROBLEM)
