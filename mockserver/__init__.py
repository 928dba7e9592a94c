"""mockserver: a programmable aiohttp mock server that records everything and explains every miss.

Stubs (matched on method, path, query, headers, JSON, form and raw body),
responses templated from the request, sequences, state machines, faults, a
bounded journal, verification with near-miss reports, an admin API under
``/__admin/``, a pytest fixture and a CLI.
"""

from __future__ import annotations

from .errors import MockServerError, Problem, StubError, VerificationError
from .forms import parse_php_form
from .journal import Journal, RecordedRequest
from .matching import Mismatch
from .models import Fault, FaultType, Matcher, RequestPattern, ResponseDef, StateSpec, Stub
from .report import NearMiss
from .server import MockServer

__all__ = [
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
    "parse_php_form",
]
