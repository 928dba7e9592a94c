"""An example implementation process for ``--sender-cmd``: ``python -m scenarios.adapter``.

It speaks the JSON-lines protocol of ``docs/sender-protocol.md`` and does the
work with ``webhook_core``, so the conformance suite can run through a process
boundary exactly as it would for an implementation in another language. It
reads the clock only from the ``now`` the harness sends.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

import httpx

from webhook_core import (
    MISSING,
    ConfigurationError,
    HttpxSender,
    WebhookAction,
    prepare_request,
    retry_delay,
)


class Adapter:
    def __init__(self) -> None:
        self.sender = HttpxSender()
        self.requests: dict[str, httpx.Request] = {}
        self.missing: dict[str, list[str]] = {}
        self.failures: dict[str, int] = {}

    async def attempt(self, message: dict[str, Any]) -> dict[str, Any]:
        delivery = message["delivery"]
        if delivery not in self.requests:
            spec = message["action"]
            try:
                action = WebhookAction(
                    spec["url"],
                    spec["method"],
                    headers=[tuple(p) for p in spec.get("headers", [])],
                    params=[tuple(p) for p in spec.get("params", [])],
                    save_to=spec.get("save_to"),
                )
                prepared = prepare_request(action, message["variables"])
            except ConfigurationError as exc:
                return {"ok": False, "configuration_error": str(exc)}
            self.requests[delivery] = prepared.request
            self.missing[delivery] = list(prepared.missing)
            self.failures[delivery] = 0
            self.sender.timeout = float(message.get("time_limit", 10))
        request = self.requests[delivery]
        started = datetime.fromisoformat(message["now"])
        outcome = await self.sender.send(request)
        answer: dict[str, Any] = {
            "ok": outcome.ok,
            "status": outcome.status,
            "error": outcome.error,
            "error_kind": outcome.error_kind,
            "retry_at": None,
            "missing": self.missing[delivery],
            "request": {
                "method": request.method,
                "url": str(request.url),
                "headers": [
                    [n.decode("latin-1"), v.decode("utf-8", "replace")]
                    for n, v in request.headers.raw
                ],
                "body": request.content.decode("utf-8", "replace"),
            },
        }
        if outcome.value is not MISSING:
            answer["value"] = outcome.value
        if not outcome.ok:
            self.failures[delivery] += 1
            delay = retry_delay(self.failures[delivery])
            if delay is not None:
                answer["retry_at"] = (started + delay).isoformat()
        return answer


async def serve() -> None:
    adapter = Adapter()
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            message = json.loads(line)
            if message.get("op") == "close":
                break
            answer = await adapter.attempt(message)
            sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        await adapter.sender.aclose()


if __name__ == "__main__":
    asyncio.run(serve())
