"""Deliberately wrong implementations, to show the harness stops or fails them.

``literal_dots`` and ``no_retries`` are mutants of ``tests/mutants`` (the whole set
lives there). ``retries_now``, ``retries_forever``: fail every attempt without sending
anything and ask to retry at once, or a second later without end (written to the
documented shape of an implementation that only delivers: ``deliver`` and
``aclose``, nothing more). ``hangs``: an attempt that never ends. ``delivery_only``: a
right implementation that declares it renders no messages (``renders: false``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from scenarios import AttemptReport, Capabilities, FlowContext
from tests.mutants.catalogue import LiteralDots, NoRetries
from tests.mutants.honest import Honest


def literal_dots() -> LiteralDots:
    return LiteralDots()


def no_retries() -> NoRetries:
    return NoRetries()


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
        self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float
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
        self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float
    ) -> _Hanging:
        return _Hanging()


def hangs() -> _Hangs:
    return _Hangs(timedelta(0))


class _DeliveryOnly(Honest):
    """Declares that it only delivers webhooks: the harness must not certify its rendering."""

    def capabilities(self) -> Capabilities:
        return Capabilities(name="delivery only", renders=False, over_limit="fail")


def delivery_only() -> Honest:
    return _DeliveryOnly()
