"""More mutants, one bug each, across the groups."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from scenarios import AttemptReport, FlowContext, Rendered
from webhook_core import MISSING

from .honest import Config, Honest, HonestDelivery, Sent
from .registry import mutant

# --- more, one bug each -------------------------------------------------------------------


@mutant("B1")
class LetterFirstNames(Honest):
    """A name must start with a letter: ``{2fa}`` is text."""

    token = re.compile(r"\{\s*(/?ignore)\s*\}|\{\s*([^\W\d]\w*(?:\.\w+)*)\s*\}")


@mutant("B2")
class DigitsAlwaysIndex(Honest):
    """A digit segment is always an index, so ``{obj.0}`` on an object finds nothing."""

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        value: Any = variables
        for segment in path:
            if segment.isdecimal():
                if not isinstance(value, list) or int(segment) >= len(value):
                    return MISSING
                value = value[int(segment)]
            elif isinstance(value, dict) and segment in value:
                value = value[segment]
            else:
                return MISSING
        return value


@mutant("B3")
class NullIsMissing(Honest):
    """Reports a variable that holds null as missing."""

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        value = super().lookup(variables, path)
        return MISSING if value is None else value


@mutant("B8", "E4")
class CachesReservedVariables(Honest):
    """Computes the reserved variables once, at the first block, and keeps them."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        if not hasattr(self, "_kept"):
            self._kept = super().reserved(context, now)
        return dict(self._kept)


@mutant("C4", "C5")
class NamesNotEncoded(Honest):
    """Percent-encodes the values but writes the names as they are."""

    def encode(self, data: Any, prefix: str = "") -> list[str]:
        items = data.items() if isinstance(data, dict) else enumerate(data)
        out = []
        for key, value in items:
            name = f"{prefix}[{key}]" if prefix else str(key)
            if isinstance(value, dict | list):
                out += self.encode(value, name)
            else:
                out.append(f"{name}={self.quote(self.format(value))}")
        return out


@mutant("A4")
class LooseHeaderNames(Honest):
    """Refuses only header names with spaces."""

    def check_header_name(self, index: int, name: str) -> None:
        if " " in name:
            raise Config(f"headers[{index}].name", name)


@mutant("A4")
class EmptyNameAllowed(Honest):
    """Checks for ``..`` and dots at the ends, but lets an empty name through."""

    def check_param_name(self, index: int, name: str) -> None:
        if name and "" in name.split("."):
            raise Config(f"params[{index}].name", name)


@mutant("D1", "C9")
class FirstResponseStatus(Honest):
    """Reports the status of the first response of a redirect chain, not of the last."""

    def __init__(self) -> None:
        super().__init__()
        self.redirects: list[int] = []

        async def note(response: httpx.Response) -> None:
            if response.is_redirect:
                self.redirects.append(response.status_code)

        self.client.event_hooks = {"response": [note]}

    async def send(self, request: httpx.Request, time_limit: float) -> Sent:
        self.redirects.clear()
        sent = await super().send(request, time_limit)
        if sent.status is not None and self.redirects:
            return Sent(self.redirects[0], sent.headers, sent.body, sent.over_limit)
        return sent


@mutant("D3")
class CharsetCaseSensitive(Honest):
    """Finds ``charset=`` only in lower case and only without quotes."""

    def charset(self, content_type: str) -> str:
        found = re.search(r"charset=([^\";\s]+)", content_type)
        return found.group(1) if found else "utf-8"


@mutant("D3")
class TruncateDeclaredButWhole(Honest):
    """Declares ``truncate`` but saves the whole body."""

    over_limit = "truncate"

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        response = await self.client.send(request, follow_redirects=True)
        return Sent(response.status_code, response.headers, response.content)


@mutant("D3")
class DiscardDeclaredButSaves(Honest):
    """Declares ``discard`` but saves the text read before the limit."""

    over_limit = "discard"

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> AttemptReport:
        if sent.over_limit:
            sent = Sent(sent.status, sent.headers, sent.body)
        return super().report(delivery, sent, now)


@mutant("D1")
class TransportErrorIsSuccess(Honest):
    """Catches every exception and calls the attempt done."""

    def succeeded(self, sent: Sent) -> bool:
        return sent.kind is not None or super().succeeded(sent)


@mutant("E1", "D1")
class TransportErrorsNotRetried(Honest):
    """Retries on a 4xx or 5xx only; a transport failure gives up at once."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        return None if sent.status is None else super().retry_at(delivery, sent, now)


@mutant("F2")
class StaleContext(Honest):
    """Renders messages with the variables of the first message it was asked for."""

    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: str
    ) -> Rendered:
        if not hasattr(self, "_first"):
            self._first = context
        return await super().render(template, self._first, now=now, kind=kind)


@mutant("C6")
class JsonWithFormContentType(Honest):
    """Sends the JSON body with the form Content-Type."""

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        if content_type == "application/json":
            content_type = "application/x-www-form-urlencoded"
        return super().headers(content_type, user)


@mutant("C4")
class GetSendsBody(Honest):
    """GET puts the parameters in the query and also sends them as a body."""

    def build(self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: Any):  # type: ignore[no-untyped-def]
        request = super().build(action, context, now, missing)
        if request.method == "GET" and request.url.query:
            return httpx.Request(
                "GET", request.url, headers=request.headers, content=request.url.query
            )
        return request


@mutant("C9")
class NoUserAgent(Honest):
    """Sends no User-Agent at all."""

    user_agent = None


@mutant("B6")
class EmptyBracesAreReferences(Honest):
    """``\\{\\s*(\\w*)\\s*\\}``: ``{}`` and ``{ }`` are references to nothing, rendered empty."""

    token = re.compile(r"\{\s*(/?ignore)\s*\}|\{\s*(\w*(?:\.\w+)*)\s*\}")


@mutant("B7")
class IgnoreTagsAfterSubstitution(Honest):
    """Substitutes first, then handles ``{ignore}`` tags in the result, values included."""

    def render_text(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
        text = super().render_text(template, variables, missing)
        return re.sub(r"\{\s*/?ignore\s*\}", "", text)


@mutant("C1")
class OneLevelOfNesting(Honest):
    """Splits a name at its first dot only: ``a.b.c`` gives ``{"a": {"b.c": …}}``."""

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        root: dict[str, Any] = {}
        for name, value in pairs:
            head, dot, rest = name.partition(".")
            if not dot:
                root[head] = value
                continue
            child = root.get(head)
            if not isinstance(child, dict):
                child = root[head] = {}
            child[rest] = value
        return self.listify(root)


@mutant("E3")
class RetryForgetsHeaders(Honest):
    """Rebuilds a retry from the URL and the body only: the user's headers are lost."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_once: set[int] = set()

    async def send(self, request: httpx.Request, time_limit: float) -> Sent:
        if id(request) in self.sent_once:
            request = httpx.Request(request.method, request.url, content=request.content)
        self.sent_once.add(id(request))
        return await super().send(request, time_limit)


@mutant("E2", "F3")
class LastWaitRepeats(Honest):
    """After the schedule runs out, keeps retrying every 2 h instead of pausing."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        return super().retry_at(delivery, sent, now) or now + timedelta(hours=2)


@mutant("A4", "A1")
class AsciiSaveTo(Honest):
    """Allows only ASCII letters, digits and ``_`` in the save-to name."""

    def check_save_to(self, name: str | None) -> None:
        if name is not None and not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise Config("save_to", name)
        super().check_save_to(name)


@mutant("B8")
class OffsetOfJanuary(Honest):
    """Takes the zone's offset once, as of January, and keeps it all year (no DST)."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        zone = ZoneInfo(context.timezone or "UTC")
        fixed = timezone(zone.utcoffset(datetime(now.year, 1, 15)) or timedelta(0))
        local = now.astimezone(fixed)
        values = super().reserved(context, now)
        values["time"] = local.strftime("%H:%M")
        values["date"] = local.strftime("%d.%m.%Y")
        values["datetime"] = local.replace(microsecond=0).isoformat()
        return values


@mutant("B1")
class SpacesOnlyInBraces(Honest):
    """``{ *name *}``: the space character only, so ``{\tname}`` is text."""

    token = re.compile(r"\{ *(/?ignore) *\}|\{ *(\w+(?:\.\w+)*) *\}")
    end_ignore = re.compile(r"\{ */ignore *\}")


@mutant("B2")
class IndexesText(Honest):
    """A digit segment indexes a text too, as PHP's ``$s[0]`` and Python's ``s[0]`` do:
    ``{code.0}`` is its first character."""

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        value: Any = variables
        for segment in path:
            if isinstance(value, dict) and segment in value:
                value = value[segment]
            elif (
                isinstance(value, list | str) and segment.isdecimal() and int(segment) < len(value)
            ):
                value = value[int(segment)]
            else:
                return MISSING
        return value


@mutant("B5", "B1")
class IgnoreTagsWithoutSpaces(Honest):
    """``{ignore}`` and ``{/ignore}`` exactly: ``{ ignore }`` is a reference to a variable
    named ``ignore``, rendered empty, and what it should have kept is rendered."""

    token = re.compile(r"\{(/?ignore)\}|\{\s*(\w+(?:\.\w+)*)\s*\}")
    end_ignore = re.compile(r"\{/ignore\}")
