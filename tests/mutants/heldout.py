"""Held-out mutants (the tenth probe): bugs a reviewer outside the project would try first.

Each is :class:`~tests.mutants.honest.Honest` with the smallest piece overridden, as in
the other groups; ``docs/conformance.md`` ("Tenth probe") says which the suite caught
as it stood and which needed a new scenario.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import httpx

from scenarios import FlowContext
from webhook_core import MISSING

from .honest import LIMIT, Honest, HonestDelivery, Sent
from .registry import mutant


def _without_length(request: httpx.Request) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]


# --- A. settings ---------------------------------------------------------------------------


@mutant("A2", "A4")
class LenientJsonSpelling(Honest):
    """Takes ``JSON-POST`` and ``JSONPOST`` for ``JSON POST``: one normalisation too many."""

    def parse_method(self, raw: str) -> str:
        if isinstance(raw, str) and re.sub(r"[\s_-]", "", raw.upper()) == "JSONPOST":
            return "JSON POST"
        return super().parse_method(raw)


@mutant("A2", "A4")
class AnyHttpMethod(Honest):
    """Lets through any method the HTTP client knows: ``HEAD`` and ``OPTIONS`` go out."""

    def parse_method(self, raw: str) -> str:
        if isinstance(raw, str) and raw.upper() in ("HEAD", "OPTIONS"):
            return raw.upper()
        return super().parse_method(raw)


@mutant("A4")
class RendersHeaderNames(Honest):
    """Renders ``{variables}`` in header names too, then checks what they became."""

    def build(
        self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: list[str]
    ) -> httpx.Request:
        variables = self.variables(context, now)
        headers = [
            (self.render_text(name, variables, missing), value)
            for name, value in action.get("headers", [])
        ]
        return super().build({**action, "headers": headers}, context, now, missing)


# --- B. templates --------------------------------------------------------------------------


@mutant("B1", "B6")
class HyphenNames(Honest):
    """Names of ``[\\w-]``: ``{utm-source}`` is a reference (to nothing), not text."""

    token = re.compile(r"\{\s*(/?ignore)\s*\}|\{\s*([\w-]+(?:\.[\w-]+)*)\s*\}")


@mutant("B2", "B3")
class MapsOverLists(Honest):
    """A name segment on a list maps over its items, JSONPath style: ``items.code`` is a list."""

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        value: Any = variables
        for index, segment in enumerate(path):
            if isinstance(value, list) and not segment.isdecimal():
                found = [
                    self.lookup(item, path[index:]) for item in value if isinstance(item, dict)
                ]
                return [item for item in found if item is not MISSING] or MISSING
            if isinstance(value, dict) and segment in value:
                value = value[segment]
            elif isinstance(value, list) and segment.isdecimal() and int(segment) < len(value):
                value = value[int(segment)]
            else:
                return MISSING
        return value


@mutant("B2", "B3")
class ParsesTextOnPath(Honest):
    """Walks into a text that holds JSON as if it were the object: ``{raw.a}`` finds a value."""

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        value: Any = variables
        for segment in path:
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    return MISSING
            if isinstance(value, dict) and segment in value:
                value = value[segment]
            elif isinstance(value, list) and segment.isdecimal() and int(segment) < len(value):
                value = value[int(segment)]
            else:
                return MISSING
        return value


@mutant("B3")
class MissingReportsRoot(Honest):
    """Reports a missing path by its variable only: ``result``, not ``result.promo.none``."""

    def render_text(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
        found: list[str] = []
        text = super().render_text(template, variables, found)
        missing += [name.split(".")[0] for name in found]
        return text


@mutant("B4")
class PhpBooleans(Honest):
    """PHP's ``(string)``: ``true`` as ``1``, ``false`` as the empty string."""

    def format(self, value: Any) -> str:
        if isinstance(value, bool):
            return "1" if value else ""
        return super().format(value)


# --- C. the request ------------------------------------------------------------------------


@mutant("C3")
class LeadingZeroKeysList(Honest):
    """Compares keys with indexes as numbers: ``a.00``, ``a.01`` make a list."""

    def listify(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        items = {key: self.listify(value) for key, value in node.items()}
        keys = list(items)
        numbers = [int(key) for key in keys if key.isdecimal()]
        if items and numbers == list(range(len(keys))):
            return list(items.values())
        return items


@mutant("C4", "C5")
class SlashLeftAlone(Honest):
    """``quote_plus`` with ``quote``'s default ``safe="/"``: a slash in a value is not encoded."""

    def quote(self, text: str) -> str:
        return quote_plus(text, safe="/").replace("~", "%7E")


@mutant("C4", "C5")
class EmptyValuesDropped(Honest):
    """Leaves parameters whose value rendered empty out of the form and the query."""

    def encode(self, data: Any, prefix: str = "") -> list[str]:
        return [pair for pair in super().encode(data, prefix) if not pair.endswith("=")]


@mutant("C4", "C5")
class EmptyBracketsForLists(Honest):
    """Lists as ``tags[]=a&tags[]=b`` (qs's and Rails' ``brackets`` format)."""

    def encode(self, data: Any, prefix: str = "") -> list[str]:
        if isinstance(data, list) and prefix:
            out = []
            for value in data:
                if isinstance(value, dict | list):
                    out += self.encode(value, f"{prefix}[]")
                else:
                    out.append(f"{self.quote(prefix + '[]')}={self.quote(self.format(value))}")
            return out
        return super().encode(data, prefix)


@mutant("C4")
class UrlQueryReparsed(Honest):
    """Parses the URL's own query and writes it again with the parameters: a bare ``flag``
    is lost (``parse_qsl`` drops blank values) and ``%20`` becomes ``+``."""

    def append_query(self, url: str, query: str) -> str:
        if not query:
            return super().append_query(url, query)
        parts = urlsplit(url.split("#", 1)[0])
        own = urlencode(parse_qsl(parts.query))
        return urlunsplit(parts._replace(query="&".join(q for q in (own, query) if q)))


@mutant("B4", "C4", "C5")
class PhpTypedForm(Honest):
    """Passes typed values to the form encoder, as PHP's ``http_build_query`` gets them:
    a lone reference to ``true`` is ``1``, to ``false`` is ``0``, to a list is expanded."""

    def build(
        self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: list[str]
    ) -> httpx.Request:
        request = super().build(action, context, now, missing)
        method = self.parse_method(action["method"])
        params = action.get("params", [])
        if method == "JSON POST" or not params:
            return request
        variables = self.variables(context, now)
        typed = [(name, self.render_typed(value, variables, [])) for name, value in params]
        query = self.form(self.php(self.nest(typed)))
        url, content = request.url, request.content
        if method == "GET":
            url = self.append_query(self.render_text(action["url"], variables, []).strip(), query)
        else:
            content = query.encode()
        return httpx.Request(request.method, url, headers=_without_length(request), content=content)

    def php(self, node: Any) -> Any:
        if isinstance(node, bool):
            return "1" if node else "0"
        if isinstance(node, dict):
            return {key: self.php(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.php(value) for value in node]
        return node


@mutant("C7")
class PatchSendsJson(Honest):
    """PATCH sends its parameters as JSON, as many REST APIs expect."""

    def build(
        self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: list[str]
    ) -> httpx.Request:
        if self.parse_method(action["method"]) != "PATCH" or not action.get("params"):
            return super().build(action, context, now, missing)
        request = super().build({**action, "method": "JSON POST"}, context, now, missing)
        return httpx.Request(
            "PATCH", request.url, headers=_without_length(request), content=request.content
        )


@mutant("C7")
class DeleteUsesTheQuery(Honest):
    """DELETE puts the parameters in the query, as GET does (PUT and PATCH are right)."""

    def build(
        self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: list[str]
    ) -> httpx.Request:
        if self.parse_method(action["method"]) != "DELETE":
            return super().build(action, context, now, missing)
        request = super().build({**action, "method": "GET"}, context, now, missing)
        return httpx.Request("DELETE", request.url, headers=_without_length(request))


@mutant("C8")
class AllWhitespaceReplaced(Honest):
    """``re.sub(r"\\s", " ", value)``: a tab or a no-break space in a header value is lost too."""

    def clean_header(self, value: str) -> str:
        return re.sub(r"\s", " ", value)


@mutant("C8", "B3")
class EmptyHeadersDropped(Honest):
    """Leaves out a header whose value rendered empty."""

    def headers(
        self, content_type: str | None, user: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        return super().headers(content_type, [(n, v) for n, v in user if v != ""])


@mutant("C8", "C5")
class UserHeadersDropDefaults(Honest):
    """Any header the user sets replaces all the defaults: Content-Type and User-Agent go."""

    def headers(
        self, content_type: str | None, user: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        return user if user else super().headers(content_type, user)


@mutant("C9")
class SixRedirects(Honest):
    """Follows six redirects: the limit checked after the count is incremented."""

    max_redirects = 6


# --- D. the response -----------------------------------------------------------------------


@mutant("D1", "D2")
class InvalidJsonFails(Honest):
    """``response.json()`` when the Content-Type says JSON: a broken body fails the attempt."""

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> Any:
        content_type = sent.headers.get("content-type", "")
        if self.succeeded(sent) and "json" in content_type.lower():
            try:
                json.loads(self.decode(sent.body, content_type))
            except ValueError:
                sent = Sent(sent.status, kind="protocol", error="invalid JSON")
        return super().report(delivery, sent, now)


@mutant("D2")
class JsonSniffFirstChar(Honest):
    """Parses JSON only when the text starts with ``{`` or ``[``: leading whitespace is text."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        text = self.decode(body, content_type)
        return super().value_of(body, content_type) if text[:1] in ("{", "[") else text


@mutant("D3", "D1")
class UnknownCharsetFails(Honest):
    """An unknown charset is an error: the attempt fails instead of reading UTF-8."""

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> Any:
        found = re.search(r"charset=\"?([^\";\s]+)", sent.headers.get("content-type", ""), re.I)
        if self.succeeded(sent) and found:
            try:
                codecs.lookup(found.group(1))
            except LookupError:
                sent = Sent(sent.status, kind="protocol", error="unknown charset")
        return super().report(delivery, sent, now)


@mutant("D3")
class LimitInclusive(Honest):
    """``>=`` for ``>``: a body of exactly 1 MiB is over the limit."""

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        sent = await super().exchange(request, time_limit)
        if not sent.over_limit and len(sent.body) == LIMIT:
            return Sent(sent.status, sent.headers, sent.body, True)
        return sent


@mutant("D3")
class LimitInCharacters(Honest):
    """Counts the limit in decoded characters, not bytes: 1 MiB of Cyrillic text is half."""

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        response = await self.client.send(request, stream=True, follow_redirects=True)
        try:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > 4 * LIMIT:
                    break
            text = self.decode(body, response.headers.get("content-type", ""))
            if len(text) > LIMIT:
                cut = text[:LIMIT].encode()
                return Sent(response.status_code, response.headers, cut, True)
            return Sent(response.status_code, response.headers, body)
        finally:
            await response.aclose()


# --- E. retries ----------------------------------------------------------------------------


@mutant("E1", "E2")
class TwoMinutesForTwoHours(Honest):
    """The last wait typed as ``2 * 60``: two minutes, not two hours."""

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        at = super().retry_at(delivery, sent, now)
        if at is not None and delivery.failures == 5:
            return now + timedelta(minutes=2)
        return at


@mutant("E2")
class FirstErrorRecorded(Honest):
    """Keeps the first failure's error for every later report: the pause records it."""

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> Any:
        answer = super().report(delivery, sent, now)
        if not answer.ok:
            first = getattr(delivery, "first_error", None)
            if first is None:
                delivery.first_error = answer  # type: ignore[attr-defined]
            else:
                answer = dataclasses.replace(
                    answer, error=first.error, error_kind=first.error_kind, status=first.status
                )
        return answer


# --- a second round ------------------------------------------------------------------------


@mutant("A4")
class HostNotChecked(Honest):
    """Checks the scheme only: ``http://`` or ``http:///x`` (a host from a missing variable)
    goes to the HTTP client, whose error is a transport failure, retried."""

    def check_url(self, url: str) -> str:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return super().check_url(url)
        return url


@mutant("A1", "C5")
class RendersParamNames(Honest):
    """Renders ``{variables}`` in parameter names too: only the values are templates."""

    def build(
        self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: list[str]
    ) -> httpx.Request:
        variables = self.variables(context, now)
        params = [
            (self.render_text(name, variables, missing), value)
            for name, value in action.get("params", [])
        ]
        return super().build({**action, "params": params}, context, now, missing)


@mutant("B8")
class FloatTimestamp(Honest):
    """``timestamp`` as ``now.timestamp()``, a float: ``1767258000.0``."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        values = super().reserved(context, now)
        values["timestamp"] = now.timestamp()
        return values


@mutant("B8")
class SecondsInTime(Honest):
    """``time`` as ``HH:MM:SS``."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        values = super().reserved(context, now)
        values["time"] = values["time"] + now.strftime(":%S")
        return values


@mutant("B8")
class LocalEpochTimestamp(Honest):
    """``timestamp`` of the local wall time read as UTC: shifted by the zone's offset."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        values = super().reserved(context, now)
        local = datetime.fromisoformat(values["datetime"])
        values["timestamp"] = int(local.replace(tzinfo=None).timestamp() - _epoch_offset())
        return values


def _epoch_offset() -> float:
    """The machine's own UTC offset, so that a naive ``timestamp()`` reads as UTC."""
    naive = datetime(2000, 1, 1)
    return naive.timestamp() - naive.replace(tzinfo=UTC).timestamp()


@mutant("E3")
class RetryDropsBody(Honest):
    """A retry re-sends the method, URL and headers, but the body was a stream already
    read: it goes out empty."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_once: set[int] = set()

    async def send(self, request: httpx.Request, time_limit: float) -> Sent:
        if id(request) in self.sent_once:
            headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
            request = httpx.Request(request.method, request.url, headers=headers)
        self.sent_once.add(id(request))
        return await super().send(request, time_limit)


@mutant("B3")
class MissingScannedInTheTemplate(Honest):
    """Finds missing references with a regex over the template as written: a reference
    inside ``{ignore}…{/ignore}``, output as text, is reported missing too."""

    scan = re.compile(r"\{\s*(\w+(?:\.\w+)*)\s*\}")

    def render_text(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
        text = super().render_text(template, variables, [])
        for found in self.scan.finditer(template):
            if (
                found.group(1) not in ("ignore",)
                and self.lookup(variables, found.group(1).split(".")) is MISSING
            ):
                missing.append(found.group(1))
        return text


@mutant("C2", "A3")
class RepeatedNamesKept(Honest):
    """Reads "ordered list, repeated names matter" as "send every pair": a name given twice
    goes out twice in a form or a query (``a=1&a=3``), where the later should win."""

    def form(self, data: Any) -> str:
        pairs = getattr(self, "_pairs", None)
        if pairs is None:
            return super().form(data)
        names = [name for name, _ in pairs]
        repeated = {name for name in names if names.count(name) > 1 and "." not in name}
        out = [f"{self.quote(n)}={self.quote(v)}" for n, v in pairs if n in repeated]
        rest = (
            {k: v for k, v in data.items() if k not in repeated} if isinstance(data, dict) else data
        )
        return "&".join(out + (super().form(rest) if rest else "").split("&")).strip("&")

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        self._pairs = pairs
        return super().nest(pairs)
