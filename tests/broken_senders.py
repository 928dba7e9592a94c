"""Deliberately wrong implementations, to show the harness stops or fails them.

``literal_dots`` and ``no_retries`` are mutants of ``tests/mutants`` (the whole set
lives there). ``retries_now``, ``retries_forever``: fail every attempt without sending
anything and ask to retry at once, or a second later without end (written to the
documented shape of an implementation that only delivers: ``deliver`` and
``aclose``, nothing more). ``hangs``: an attempt that never ends. ``delivery_only``: a
right implementation that declares it renders no messages (``renders: false``).
``legacy``: ``webhook_core`` behind the first protocol's shape (``deliver(action,
variables)`` with the reserved variables given); ``legacy_literal_dots`` a wrong one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from scenarios import AttemptReport, Capabilities, FlowContext
from scenarios.implementations import webhook_action
from tests.mutants.answers import NoRetries
from tests.mutants.honest import Honest
from tests.mutants.request import LiteralDots
from webhook_core import (
    ConfigurationError,
    HttpxSender,
    WebhookAction,
    prepare_request,
    retry_delay,
)


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


class _LegacyDelivery:
    def __init__(self, owner: _Legacy, action: Mapping[str, Any], variables: Any) -> None:
        self.owner = owner
        self.action = action
        self.variables = variables
        self.request: Any = None
        self.failures = 0

    async def attempt(self, now: datetime) -> AttemptReport:
        if self.request is None:
            try:
                self.request = self.owner.prepare(webhook_action(self.action), self.variables)
            except ConfigurationError as exc:
                return AttemptReport.configuration(exc)
        outcome = await self.owner.sender.send(self.request.request)
        retry_at = None
        if not outcome.ok:
            self.failures += 1
            delay = retry_delay(self.failures)
            retry_at = now + delay if delay is not None else None
        return AttemptReport.of(
            outcome, self.request.request, retry_at=retry_at, missing=self.request.missing
        )


class _Legacy:
    """An implementation of the first protocol: ``deliver(action, variables)``, the reserved
    variables already among the variables, and nothing else."""

    def __init__(self, *, literal_dots: bool = False) -> None:
        self.sender = HttpxSender()
        self.literal_dots = literal_dots

    def prepare(self, action: Any, variables: Mapping[str, Any]) -> Any:
        if self.literal_dots:
            action = WebhookAction(
                action.url,
                action.method,
                headers=action.headers,
                params=[(name.replace(".", "_"), value) for name, value in action.params],
                save_to=action.save_to,
            )
        return prepare_request(action, variables)

    def deliver(
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> _LegacyDelivery:
        assert isinstance(variables, dict), "the first protocol gives the variables"
        self.sender.timeout = time_limit  # type: ignore[attr-defined]
        return _LegacyDelivery(self, action, variables)

    async def aclose(self) -> None:
        await self.sender.aclose()


def legacy() -> _Legacy:
    return _Legacy()


def legacy_literal_dots() -> _Legacy:
    return _Legacy(literal_dots=True)
