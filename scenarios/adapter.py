"""An example implementation process for ``--sender-cmd``: ``python -m scenarios.adapter``.

It speaks the JSON-lines protocol of ``docs/sender-protocol.md`` and does the
work with ``webhook_core`` (the reference implementation), so the conformance
suite can run through a process boundary exactly as it would for an
implementation in another language. It reads the time only from the ``now``
the harness sends: the harness's clock stands still during an attempt.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from webhook_core import MISSING

from .implementations import AttemptReport, Delivery, ReferenceImplementation


def answer(report: AttemptReport) -> dict[str, Any]:
    """An attempt report as the protocol's answer line."""
    if report.configuration_error is not None:
        return {"ok": False, "configuration_error": report.configuration_error}
    out: dict[str, Any] = {
        "ok": report.ok,
        "status": report.status,
        "error": report.error,
        "error_kind": report.error_kind,
        "retry_at": report.retry_at.isoformat() if report.retry_at else None,
        "missing": list(report.missing),
        "request": report.request.to_json() if report.request else None,
    }
    if report.value is not MISSING:
        out["value"] = report.value
    return out


async def serve() -> None:
    implementation = ReferenceImplementation(clock=lambda started: started)
    deliveries: dict[str, Delivery] = {}
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            message = json.loads(line)
            if message.get("op") == "close":
                break
            key = message["delivery"]
            if key not in deliveries:
                deliveries[key] = implementation.deliver(
                    message["action"],
                    message["variables"],
                    time_limit=float(message.get("time_limit", 10)),
                )
            report = await deliveries[key].attempt(datetime.fromisoformat(message["now"]))
            sys.stdout.write(json.dumps(answer(report), ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        await implementation.aclose()


if __name__ == "__main__":
    asyncio.run(serve())
