"""Deliberately wrong implementations, to show the conformance suite catches them.

``literal_dots``: sends dotted parameter names as they are (``user.name=Anna``)
instead of nesting them; otherwise it follows the rules.
``no_retries``: gives up after the first failure.
``retries_now``, ``retries_forever``: fail every attempt without sending anything and
ask to retry at once, or a second later without end (written to the documented shape
of an implementation: ``deliver`` and ``aclose``, nothing more).
``hangs``: an attempt that never ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import httpx

from scenarios import AttemptReport
from webhook_core import HttpxSender, render, retry_delay


class _Delivery:
    def __init__(
        self, owner: Any, action: Mapping[str, Any], variables: Mapping[str, Any], time_limit: float
    ) -> None:
        self.owner = owner
        self.action = action
        self.variables = variables
        self.request: httpx.Request | None = None
        self.failures = 0
        owner.sender.timeout = time_limit

    def build(self) -> httpx.Request:
        action, variables = self.action, self.variables
        url = render(action["url"], variables)
        pairs = [(name, render(value, variables)) for name, value in action.get("params", [])]
        headers = [(name, render(value, variables)) for name, value in action.get("headers", [])]
        method = action["method"]
        content = None
        if method == "GET":
            if pairs:
                url += ("&" if "?" in url else "?") + urlencode(pairs)
        elif method == "JSON POST":
            content = json.dumps(dict(pairs)).encode()
            headers.insert(0, ("Content-Type", "application/json"))
        elif pairs or method == "POST":
            content = urlencode(pairs).encode()
            headers.insert(0, ("Content-Type", "application/x-www-form-urlencoded"))
        http_method = "POST" if method == "JSON POST" else method
        return httpx.Request(http_method, url, headers=headers, content=content)

    async def attempt(self, now: datetime) -> AttemptReport:
        if self.request is None:
            self.request = self.build()
        outcome = await self.owner.sender.send(self.request)
        retry_at = None
        if not outcome.ok:
            self.failures += 1
            delay = retry_delay(self.failures) if self.owner.retries else None
            retry_at = datetime.now(timezone.utc) + delay if delay else None
        return AttemptReport.of(outcome, self.request, retry_at=retry_at)


class _Implementation:
    def __init__(self, name: str, *, retries: bool = True) -> None:
        self.name = name
        self.retries = retries
        self.sender = HttpxSender()

    def deliver(
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> _Delivery:
        return _Delivery(self, action, variables, time_limit)

    async def aclose(self) -> None:
        await self.sender.aclose()


def literal_dots() -> _Implementation:
    return _Implementation("literal dots")


def no_retries() -> _Implementation:
    return _Implementation("no retries", retries=False)


class _Stubborn:
    """Fails without sending; asks for the next attempt ``step`` after this one."""

    def __init__(self, step: timedelta) -> None:
        self.step = step

    async def attempt(self, now: datetime) -> AttemptReport:
        return AttemptReport(ok=False, status=503, error="status 503", retry_at=now + self.step)


class _Never:
    def __init__(self, step: timedelta) -> None:
        self.step = step

    def deliver(
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> _Stubborn:
        return _Stubborn(self.step)

    async def aclose(self) -> None:
        pass


def retries_now() -> _Never:
    return _Never(timedelta(0))


def retries_forever() -> _Never:
    return _Never(timedelta(seconds=1))


class _Hanging:
    async def attempt(self, now: datetime) -> AttemptReport:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class _Hangs(_Never):
    def deliver(  # type: ignore[override]
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> _Hanging:
        return _Hanging()


def hangs() -> _Hangs:
    return _Hangs(timedelta(0))
