"""mockserver: a programmable aiohttp mock server that records everything and explains every miss.

Stubs (matched on method, path, query, headers, JSON, form and raw body),
responses templated from the request, sequences, state machines, faults, a
bounded journal, verification with near-miss reports, an admin API under
``/__admin/``, a pytest fixture and a CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import MockServerError, Problem, StubError, VerificationError
    from .forms import parse_php_form
    from .guard import AdminGuard, check_admin_request
    from .journal import Journal, RecordedRequest
    from .matching import Mismatch
    from .models import Fault, FaultType, Matcher, RequestPattern, ResponseDef, StateSpec, Stub
    from .report import NearMiss
    from .server import MockServer

# Names load on first use: the pytest plugin imports this package in every process,
# and most processes (the xdist controller, runs without mockserver items) need none of it.
_LAZY: dict[str, str] = {
    "AdminGuard": "guard",
    "Fault": "models",
    "FaultType": "models",
    "Journal": "journal",
    "Matcher": "models",
    "Mismatch": "matching",
    "MockServer": "server",
    "MockServerError": "errors",
    "NearMiss": "report",
    "Problem": "errors",
    "RecordedRequest": "journal",
    "RequestPattern": "models",
    "ResponseDef": "models",
    "StateSpec": "models",
    "Stub": "models",
    "StubError": "errors",
    "VerificationError": "errors",
    "check_admin_request": "guard",
    "parse_php_form": "forms",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AdminGuard",
    "Fault",
    "FaultType",
    "Journal",
    "Matcher",
    "Mismatch",
    "MockServer",
    "MockServerError",
    "NearMiss",
    "Problem",
    "RecordedRequest",
    "RequestPattern",
    "ResponseDef",
    "StateSpec",
    "Stub",
    "StubError",
    "VerificationError",
    "check_admin_request",
    "parse_php_form",
]
