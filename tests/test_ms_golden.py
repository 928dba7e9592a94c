"""Golden text: the near-miss and verification reports keep their shape.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/test_ms_golden.py``.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mockserver import MockServer, RecordedRequest, VerificationError

GOLDEN = Path(__file__).parent / "golden"

STUBS = [
    {
        "id": "lead",
        "name": "create lead",
        "request": {
            "method": "POST",
            "path": "/crm/lead",
            "headers": {"Authorization": {"regex": "^Bearer "}},
            "form": {"user.name": "Anna", "user.phone": {"present": True}},
        },
    },
    {
        "id": "contact",
        "name": "create contact",
        "request": {"method": "POST", "path": "/crm/contact", "json_paths": {"name": "Anna"}},
    },
    {"id": "ping", "request": {"method": "GET", "path": "/ping"}},
    {
        "id": "order",
        "request": {"method": "POST", "path": "/crm/lead"},
        "state": {"scenario": "order", "required": "paid"},
    },
]


def request(seq: int, body: bytes, path: str = "/crm/lead") -> RecordedRequest:
    return RecordedRequest(
        seq,
        "POST",
        path,
        "source=bot",
        (("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "Token x")),
        body,
        datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_unmatched_report() -> None:
    server = MockServer(STUBS)
    report = server.unmatched_report(request(1, b"user%5Bname%5D=Ann&user%5Bemail%5D=a%40b.c"))
    check("unmatched.txt", report)


def test_verification_report() -> None:
    server = MockServer(STUBS)
    server.journal.add(request(1, b"user%5Bname%5D=Ann"))
    server.journal.add(request(2, b"user%5Bname%5D=Anna", path="/crm/leads"))
    with pytest.raises(VerificationError) as caught:
        server.verify(
            {"method": "POST", "path": "/crm/lead", "form": {"user.name": "Anna"}}, count=1
        )
    check("verify.txt", caught.value.report + "\n")
