"""The portal's methods about the caller and the server: ``profile``, ``user.current``,
``server.time`` and ``method.get``, the first calls a client makes to check a webhook
or a token (``method.get`` is answered by the portal, which knows its methods).

Pages: ``api-reference/common/users/profile.md`` (scope ``basic``, "without any
scopes, unlike user.current"), ``api-reference/user/user-current.md`` (scopes
``user``, ``user_brief``, ``user_basic``) and ``api-reference/common/system/server-time.md``
(scope ``basic``; "the server's time zone", the fake's clock, UTC),
``api-reference/common/system/method-get.md`` (scope ``basic``). The fake keeps no
users: the caller is the webhook's or token's user id, an administrator with empty
names (**[inference]**: the portal's own first user is its administrator).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

__all__ = ["METHODS", "NO_SCOPE", "SCOPES", "answer"]

#: The methods of this module.
METHODS: Final = frozenset({"profile", "user.current", "server.time", "method.get"})
#: Those any caller may call (scope ``basic``, which every webhook and token has).
NO_SCOPE: Final = frozenset({"profile", "server.time", "method.get"})
#: A method's scopes, any one of which lets a caller call it (``user-current.md``).
SCOPES: Final = {"user.current": frozenset({"user", "user_brief", "user_basic"})}


def answer(method: str, user_id: str, now: datetime) -> Any:
    """The ``result`` of ``method`` (one of :data:`METHODS` but ``method.get``, which the
    portal answers from its own methods) for the caller ``user_id``."""
    if method == "server.time":
        return now.isoformat(timespec="seconds")
    if method == "profile":  # the page's example, field for field
        return {
            "ID": user_id,
            "ADMIN": True,
            "NAME": "",
            "LAST_NAME": "",
            "PERSONAL_GENDER": "",
            "TIME_ZONE": "",
        }
    # user.current: the page's example's fields; the dates are the clock's now
    moment = now.isoformat(timespec="seconds")
    return {
        "ID": user_id,
        "ACTIVE": True,
        "NAME": "",
        "LAST_NAME": "",
        "EMAIL": "",
        "LAST_LOGIN": moment,
        "DATE_REGISTER": moment,
        "IS_ONLINE": "Y",
        "LAST_ACTIVITY_DATE": now.strftime("%Y-%m-%d %H:%M:%S"),
        "PERSONAL_GENDER": "",
        "PERSONAL_BIRTHDAY": "",
        "WORK_POSITION": "",
        "UF_EMPLOYMENT_DATE": "",
        "UF_DEPARTMENT": [1],
    }
