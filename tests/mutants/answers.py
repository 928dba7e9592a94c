"""Mutants of rules D (the response), E (retries) and F (the flow)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from scenarios import AttemptReport, FlowContext

from .honest import LIMIT, SCHEDULE, Honest, HonestDelivery, Sent
from .registry import mutant

# --- D. The response --------------------------------------------------------------------


@mutant("D1")
class RedirectStatusFails(Honest):
    """Only 2xx succeeds."""

    def succeeded(self, sent: Sent) -> bool:
        return sent.status is not None and sent.status < 300


@mutant("D1")
class ErrorBodyFails(Honest):
    """A JSON answer with ``error`` or ``ok: false`` fails even on 200."""

    def succeeded(self, sent: Sent) -> bool:
        try:
            data = json.loads(sent.body)
        except ValueError:
            data = None
        if isinstance(data, dict) and (data.get("error") or data.get("ok") is False):
            return False
        return super().succeeded(sent)


@mutant("D1")
class FourHundredsSucceed(Honest):
    """Only 5xx fails."""

    def succeeded(self, sent: Sent) -> bool:
        return sent.status is not None and sent.status < 500


@mutant("D1")
class ErrorPagesSucceed(Honest):
    """A status from 400 up fails only when the body is empty."""

    def succeeded(self, sent: Sent) -> bool:
        return sent.status is not None and (sent.status < 400 or bool(sent.body))


@mutant("D2")
class JsonOnlyByContentType(Honest):
    """Parses JSON only when the Content-Type says so."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        if "json" in content_type:
            return super().value_of(body, content_type)
        return self.decode(body, content_type)


@mutant("D2")
class ScalarsParsed(Honest):
    """Stores JSON scalars as values: ``42`` as a number."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        text = self.decode(body, content_type)
        try:
            return json.loads(text)
        except ValueError:
            return text


@mutant("D2")
class StripsText(Honest):
    """Strips the text before saving it."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        value = super().value_of(body, content_type)
        return value.strip() if isinstance(value, str) else value


@mutant("D2")
class ArraysAsText(Honest):
    """Only a JSON object is stored as a structure."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        value = super().value_of(body, content_type)
        return self.decode(body, content_type) if isinstance(value, list) else value


@mutant("D2")
class EmptyBodyIsNull(Honest):
    """An empty body saves null."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        return None if not body else super().value_of(body, content_type)


@mutant("D3")
class Latin1WithoutCharset(Honest):
    """Decodes text without a charset as ISO-8859-1 (HTTP/1.1's old default)."""

    def charset(self, content_type: str) -> str:
        if "charset" not in content_type.lower():
            return "latin-1"
        return super().charset(content_type)


@mutant("D3")
class CharsetIgnored(Honest):
    """Always decodes UTF-8."""

    def charset(self, content_type: str) -> str:
        return "utf-8"


@mutant("D3")
class InvalidBytesDropped(Honest):
    """Drops invalid bytes instead of replacing them."""

    def decode(self, body: bytes, content_type: str) -> str:
        return body.decode(self.charset(content_type), "ignore")


@mutant("D3")
class DecimalMegabyte(Honest):
    """A limit of 1 000 000 bytes, not 1 MiB."""

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        sent = await super().exchange(request, time_limit)
        if len(sent.body) > 1_000_000:
            return Sent(sent.status, sent.headers, sent.body[:1_000_000], True)
        return sent


@mutant("D3")
class NoLimit(Honest):
    """Declares ``fail`` but reads and saves any body whole."""

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        response = await self.client.send(request, follow_redirects=True)
        return Sent(response.status_code, response.headers, response.content)


@mutant("D4")
class ValueOnFailure(Honest):
    """Reports the failed answer's body as the value."""

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> AttemptReport:
        report = super().report(delivery, sent, now)
        if report.ok or sent.status is None:
            return report
        return AttemptReport(
            ok=False,
            status=report.status,
            value=self.value_of(sent.body, sent.headers.get("content-type", "")),
            error=report.error,
            error_kind=report.error_kind,
            retry_at=report.retry_at,
            request=report.request,
        )


@mutant("D4", "D3")
class OverLimitSavesAnyway(Honest):
    """Fails the attempt over the limit, but still reports the text read."""

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> AttemptReport:
        report = super().report(delivery, sent, now)
        if report.error_kind == "too_large":
            return AttemptReport(
                ok=False,
                status=report.status,
                value="x" * 10,
                error=report.error,
                error_kind="too_large",
                retry_at=report.retry_at,
            )
        return report


# --- E. Retries -------------------------------------------------------------------------


@mutant("E1")
class FromTheFirstAttempt(Honest):
    """Counts each wait from the first attempt: 5 s, 30 s, 1 min… after the start."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        if not hasattr(delivery, "first"):
            delivery.first = now  # type: ignore[attr-defined]
        delivery.failures += 1
        if delivery.failures > len(SCHEDULE):
            return None
        return delivery.first + timedelta(seconds=SCHEDULE[delivery.failures - 1])  # type: ignore[attr-defined]


@mutant("E1")
class ScheduleOffByOne(Honest):
    """Starts the schedule at its second wait."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        delivery.failures += 1
        waits = (*SCHEDULE[1:], SCHEDULE[-1])
        if delivery.failures > len(waits):
            return None
        return now + timedelta(seconds=waits[delivery.failures - 1])


@mutant("E1", "F1")
class SharedFailureCount(Honest):
    """Counts failures for the whole implementation, not for each webhook block."""

    failures = 0

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        type(self).failures += 1
        delivery.failures += 1
        count = type(self).failures
        if delivery.failures > len(SCHEDULE) or count > len(SCHEDULE):
            return None
        return now + timedelta(seconds=SCHEDULE[count - 1])


@mutant("E2")
class SixRetries(Honest):
    """Six retries after the first attempt: seven attempts in all."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        delivery.failures += 1
        if delivery.failures > len(SCHEDULE) + 1:
            return None
        return now + timedelta(seconds=SCHEDULE[min(delivery.failures, len(SCHEDULE)) - 1])


@mutant("E2")
class FiveAttempts(Honest):
    """Gives up after the fifth attempt."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        delivery.failures += 1
        if delivery.failures >= len(SCHEDULE):
            return None
        return now + timedelta(seconds=SCHEDULE[delivery.failures - 1])


@mutant("E3")
class RendersEachAttempt(Honest):
    """Builds the request again for each attempt: the clock's variables move on."""

    render_each_attempt = True


@mutant("E4")
class FireAndForget(Honest):
    """Answers at once that all is well and delivers in the background."""

    def deliver(
        self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float
    ) -> HonestDelivery:
        inner = super().deliver(action, context, time_limit=time_limit)

        class Optimistic(HonestDelivery):
            async def attempt(self, now: datetime) -> AttemptReport:
                task = asyncio.get_running_loop().create_task(inner.attempt(now))
                self.owner.pending.add(task)  # type: ignore[attr-defined]
                return AttemptReport(ok=True, status=202)

        self.pending: set[asyncio.Task[Any]] = getattr(self, "pending", set())
        return Optimistic(self, action, context, time_limit)

    async def aclose(self) -> None:
        for task in getattr(self, "pending", ()):
            task.cancel()
        await super().aclose()


@mutant("E5")
class HonoursRetryAfter(Honest):
    """Waits what ``Retry-After`` asks when the answer has one."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        scheduled = super().retry_at(delivery, sent, now)
        after = sent.headers.get("retry-after", "")
        if scheduled is not None and after.isdigit():
            return now + timedelta(seconds=int(after))
        return scheduled


@mutant("E5")
class ClientErrorsNotRetried(Honest):
    """Gives up at once on a 4xx other than 408 and 429: retrying will not help."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        if sent.status is not None and 400 <= sent.status < 500 and sent.status not in (408, 429):
            return None
        return super().retry_at(delivery, sent, now)


@mutant("E5")
class GoneNotRetried(Honest):
    """410 Gone is final."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        return None if sent.status == 410 else super().retry_at(delivery, sent, now)


@mutant("E6")
class MachineClock(Honest):
    """Reads the machine's clock for ``retry_at``, not the ``now`` it is given."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        import time

        real = datetime.fromtimestamp(time.clock_gettime(time.CLOCK_REALTIME), timezone.utc)
        scheduled = super().retry_at(delivery, sent, now)
        return None if scheduled is None else real + (scheduled - now)


# --- F. The flow ------------------------------------------------------------------------


@mutant("F1")
class SetValuesNotRendered(Honest):
    """A set-variable block stores its text as written."""

    def render_set(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> Any:
        return template


@mutant("F2")
class SavedBodyAsText(Honest):
    """Saves the body's text even when it is JSON."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        return self.decode(body, content_type)


@mutant("F3", "E1")
class NoRetries(Honest):
    """Gives up after the first failure."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        return None


@mutant("D1", "D4")
class KeepsWhatArrived(Honest):
    """Reads the body until the connection ends and calls the attempt done: a body cut
    short of its Content-Length is saved as the part that came."""

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        response = await self.client.send(request, stream=True, follow_redirects=True)
        body = b""
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
        except httpx.HTTPError:
            pass  # the connection closed: that is the end of the body
        finally:
            await response.aclose()
        return Sent(response.status_code, response.headers, body[:LIMIT], len(body) > LIMIT)
