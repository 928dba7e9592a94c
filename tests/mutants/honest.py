"""An implementation of the "Send via webhook" action written from the rules alone.

It shares no code with ``webhook_core``: its own template renderer, nesting,
PHP encoding, HTTP client use (httpx) and retry schedule, and it takes the
choices the rules leave open differently (a set-variable value is always text;
a body over the limit fails the attempt, ``over_limit: fail``). The whole
conformance suite must pass it: that shows the suite asks for the rules, not
for the reference implementation's choices. Each mutant in
:mod:`tests.mutants.catalogue` is this class with one method overridden by a
single, realistic bug.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote_plus, urlsplit
from zoneinfo import ZoneInfo

import httpx

from scenarios import AttemptReport, Capabilities, ConfigurationProblem, FlowContext, Rendered
from scenarios.implementations import RequestSnapshot
from webhook_core import MISSING

METHODS = ("GET", "POST", "JSON POST", "PUT", "PATCH", "DELETE")
RESERVED = [
    "user_id",
    "first_name",
    "last_name",
    "username",
    "phone",
    "email",
    "channel",
    "bot_id",
    "date",
    "time",
    "datetime",
    "timestamp",
]
SCHEDULE = (5, 30, 60, 30 * 60, 2 * 60 * 60)
LIMIT = 1024 * 1024
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class Config(Exception):
    def __init__(self, field: str, value: Any) -> None:
        super().__init__(f"{field}: {value!r} cannot work")
        self.field = field
        self.value = value


@dataclass
class Ref:
    path: list[str]


@dataclass
class Sent:
    """What came of sending: a status and body, or an error kind."""

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    over_limit: bool = False
    kind: str | None = None
    error: str = ""


class HonestDelivery:
    def __init__(
        self, owner: Honest, action: Mapping[str, Any], context: FlowContext, time_limit: float
    ) -> None:
        self.owner = owner
        self.action = action
        self.context = context
        self.time_limit = time_limit
        self.request: httpx.Request | None = None
        self.missing: list[str] = []
        self.failures = 0

    async def attempt(self, now: datetime) -> AttemptReport:
        owner = self.owner
        if self.request is None or owner.render_each_attempt:
            self.missing = []
            try:
                self.request = owner.build(self.action, self.context, now, self.missing)
            except Config as exc:
                return owner.configuration_report(exc, now)
        sent = await owner.send(self.request, self.time_limit)
        return owner.report(self, sent, now)


class Honest:
    """The implementation; every step a method, so that a mutant overrides one."""

    name = "honest"
    over_limit: ClassVar[str] = "fail"
    render_each_attempt: ClassVar[bool] = False
    user_agent: ClassVar[str | None] = "honest-bot/1.0 (webhook-harness mutants)"
    max_redirects: ClassVar[int] = 5

    def __init__(self) -> None:
        self.client = httpx.AsyncClient(max_redirects=self.max_redirects)

    # --- the interface -------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(name=self.name, renders=True, over_limit=self.over_limit)

    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: str
    ) -> Rendered:
        missing: list[str] = []
        variables = self.variables(context, now)
        if kind == "set":
            return Rendered(self.render_set(template, variables, missing), tuple(missing))
        return Rendered(self.render_text(template, variables, missing), tuple(missing))

    def deliver(
        self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float
    ) -> HonestDelivery:
        return HonestDelivery(self, action, context, time_limit)

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- B: templates ----------------------------------------------------------------

    token = re.compile(r"\{\s*(/?ignore)\s*\}|\{\s*(\w+(?:\.\w+)*)\s*\}")
    end_ignore = re.compile(r"\{\s*/ignore\s*\}")

    def parse(self, template: str) -> list[str | Ref]:
        parts: list[str | Ref] = []
        position = 0
        while True:
            found = self.token.search(template, position)
            if found is None:
                parts.append(template[position:])
                return [part for part in parts if part != ""]
            parts.append(template[position : found.start()])
            position = found.end()
            if found.group(1) == "ignore":
                end = self.end_ignore.search(template, position)
                if end is None:
                    parts.append(template[position:])
                    return [part for part in parts if part != ""]
                parts.append(template[position : end.start()])
                position = end.end()
            elif found.group(1):
                parts.append(found.group(0))  # a stray {/ignore}
            else:
                parts.append(Ref(found.group(2).split(".")))

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        value: Any = variables
        for segment in path:
            if isinstance(value, dict) and segment in value:
                value = value[segment]
            elif isinstance(value, list) and segment.isdecimal() and int(segment) < len(value):
                value = value[int(segment)]
            else:
                return MISSING
        return value

    def format(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return json.dumps(value)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def missing_text(self, ref: Ref) -> str:
        return ""

    def render_text(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
        out = []
        for part in self.parse(template):
            if isinstance(part, str):
                out.append(part)
                continue
            value = self.lookup(variables, part.path)
            if value is MISSING:
                missing.append(".".join(part.path))
                out.append(self.missing_text(part))
            else:
                out.append(self.format(value))
        return "".join(out)

    def render_typed(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> Any:
        """C6: a lone reference to a number, boolean, object or list keeps its type."""
        parts = self.parse(template)
        if len(parts) == 1 and isinstance(parts[0], Ref):
            value = self.lookup(variables, parts[0].path)
            if isinstance(value, bool | int | float | dict | list):
                return json.loads(json.dumps(value))
        return self.render_text(template, variables, missing)

    def render_set(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> Any:
        return self.render_text(template, variables, missing)

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        local = now.astimezone(ZoneInfo(context.timezone or "UTC"))
        subscriber = context.subscriber
        values: dict[str, Any] = {name: str(subscriber.get(name, "")) for name in RESERVED[:7]}
        values["bot_id"] = context.bot_id
        values["date"] = local.strftime("%d.%m.%Y")
        values["time"] = local.strftime("%H:%M")
        values["datetime"] = local.replace(microsecond=0).isoformat()
        values["timestamp"] = int(now.timestamp())
        return values

    def variables(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        return {**context.variables, **self.reserved(context, now)}

    # --- A: settings -----------------------------------------------------------------

    def parse_method(self, raw: str) -> str:
        method = raw.upper().replace("_", " ") if isinstance(raw, str) else ""
        if method not in METHODS:
            raise Config("method", raw)
        return method

    def check_url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise Config("url", url)
        return url

    def check_param_name(self, index: int, name: str) -> None:
        if "" in name.split("."):
            raise Config(f"params[{index}].name", name)

    def check_save_to(self, name: str | None) -> None:
        if name is not None and (not re.fullmatch(r"\w+", name) or name in RESERVED):
            raise Config("save_to", name)

    def check_header_name(self, index: int, name: str) -> None:
        if not HEADER_NAME.fullmatch(name):
            raise Config(f"headers[{index}].name", name)

    def check(self, action: Mapping[str, Any]) -> str:
        method = self.parse_method(action["method"])
        if not action["url"].strip():
            raise Config("url", action["url"])
        for index, (name, _) in enumerate(action.get("headers", [])):
            self.check_header_name(index, name)
        for index, (name, _) in enumerate(action.get("params", [])):
            self.check_param_name(index, name)
        self.check_save_to(action.get("save_to"))
        return method

    def configuration_report(self, exc: Config, now: datetime) -> AttemptReport:
        return AttemptReport(
            ok=False,
            error=str(exc),
            error_kind="configuration",
            configuration_error=ConfigurationProblem(exc.field, exc.value, str(exc)),
        )

    # --- C: the request --------------------------------------------------------------

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        root: dict[str, Any] = {}
        for name, value in pairs:
            *parents, last = name.split(".")
            node = root
            for segment in parents:
                child = node.get(segment)
                if not isinstance(child, dict):
                    child = node[segment] = {}
                node = child
            node[last] = value
        return self.listify(root)

    def listify(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        items = {key: self.listify(value) for key, value in node.items()}
        if items and list(items) == [str(index) for index in range(len(items))]:
            return list(items.values())
        return items

    def quote(self, text: str) -> str:
        return quote_plus(text, safe="").replace("~", "%7E")

    def encode(self, data: Any, prefix: str = "") -> list[str]:
        items = data.items() if isinstance(data, dict) else enumerate(data)
        out = []
        for key, value in items:
            name = f"{prefix}[{key}]" if prefix else str(key)
            if isinstance(value, dict | list):
                out += self.encode(value, name)
            else:
                out.append(f"{self.quote(name)}={self.quote(self.format(value))}")
        return out

    def form(self, data: Any) -> str:
        return "&".join(self.encode(data))

    def append_query(self, url: str, query: str) -> str:
        url = url.split("#", 1)[0]
        if not query:
            return url
        if "?" not in url:
            return f"{url}?{query}"
        return url + ("" if url.endswith(("?", "&")) else "&") + query

    def clean_header(self, value: str) -> str:
        return value.replace("\r", " ").replace("\n", " ")

    def headers(
        self, content_type: str | None, user: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        defaults = []
        if self.user_agent:
            defaults.append(("User-Agent", self.user_agent))
        if content_type:
            defaults.append(("Content-Type", content_type))
        names = {name.lower() for name, _ in user}
        return [pair for pair in defaults if pair[0].lower() not in names] + user

    def build(
        self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: list[str]
    ) -> httpx.Request:
        method = self.check(action)
        variables = self.variables(context, now)
        url = self.check_url(self.render_text(action["url"], variables, missing).strip())
        params = action.get("params", [])
        body: bytes | None = None
        content_type = None
        if method == "JSON POST":
            typed = [(n, self.render_typed(v, variables, missing)) for n, v in params]
            body = json.dumps(self.nest(typed), ensure_ascii=False).encode()
            content_type = "application/json"
        else:
            pairs = [(n, self.render_text(v, variables, missing)) for n, v in params]
            query = self.form(self.nest(pairs)) if pairs else ""
            if method == "GET":
                url = self.append_query(url, query)
            elif pairs or method == "POST":
                body = query.encode()
                content_type = "application/x-www-form-urlencoded"
        user = [
            (name, self.clean_header(self.render_text(value, variables, missing)))
            for name, value in action.get("headers", [])
        ]
        http_method = "POST" if method == "JSON POST" else method
        return httpx.Request(
            http_method,
            url,
            headers=[(name, value.encode()) for name, value in self.headers(content_type, user)],
            content=body,
        )

    # --- C9, D: sending and the answer --------------------------------------------------

    def kind_of(self, exc: Exception) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return "timeout"
        if isinstance(exc, httpx.TooManyRedirects):
            return "redirects"
        if isinstance(exc, httpx.ConnectError):
            return "connect"
        if isinstance(exc, httpx.ReadError | httpx.WriteError):
            return "disconnect"
        if isinstance(exc, httpx.RemoteProtocolError):
            return "protocol"
        return "network"

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        response = await self.client.send(request, stream=True, follow_redirects=True)
        try:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > LIMIT:
                    return Sent(response.status_code, response.headers, body[:LIMIT], True)
            return Sent(response.status_code, response.headers, body)
        finally:
            await response.aclose()

    async def send(self, request: httpx.Request, time_limit: float) -> Sent:
        try:
            async with asyncio.timeout(time_limit):
                return await self.exchange(request, time_limit)
        except TimeoutError:
            return Sent(kind="timeout", error=f"no answer within {time_limit} s")
        except httpx.HTTPError as exc:
            return Sent(kind=self.kind_of(exc), error=f"{type(exc).__name__}: {exc}")

    def succeeded(self, sent: Sent) -> bool:
        return sent.status is not None and sent.status < 400

    def charset(self, content_type: str) -> str:
        found = re.search(r"charset=\"?([^\";\s]+)", content_type, re.IGNORECASE)
        if found:
            try:
                return codecs.lookup(found.group(1)).name
            except LookupError:
                pass
        return "utf-8"

    def decode(self, body: bytes, content_type: str) -> str:
        return body.decode(self.charset(content_type), "replace")

    def value_of(self, body: bytes, content_type: str) -> Any:
        text = self.decode(body, content_type)
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, dict | list) else text

    # --- E: retries --------------------------------------------------------------------

    def retry_at(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> datetime | None:
        delivery.failures += 1
        if delivery.failures > len(SCHEDULE):
            return None
        return now + timedelta(seconds=SCHEDULE[delivery.failures - 1])

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> AttemptReport:
        request = delivery.request
        assert request is not None
        snapshot = RequestSnapshot.of(request)
        ok = self.succeeded(sent)
        if ok and sent.over_limit and self.over_limit == "fail":
            sent = Sent(sent.status, kind="too_large", error="the body is over 1 MiB")
            ok = False
        if ok:
            value = self.value_of(sent.body, sent.headers.get("content-type", ""))
            if sent.over_limit:  # D3, as declared: the text read so far, or nothing
                value = self.decode(sent.body, "") if self.over_limit == "truncate" else MISSING
            return AttemptReport(
                ok=True,
                status=sent.status,
                value=value if delivery.action.get("save_to") else MISSING,
                request=snapshot,
                missing=tuple(delivery.missing),
            )
        kind = sent.kind or "status"
        return AttemptReport(
            ok=False,
            status=sent.status,
            error=sent.error or f"status {sent.status}",
            error_kind=kind,
            retry_at=self.retry_at(delivery, sent, now),
            request=snapshot,
            missing=tuple(delivery.missing),
        )


def honest() -> Honest:
    return Honest()


class HonestTruncating(Honest):
    """The same, with D3's other documented choice: keep the text of the first 1 MiB."""

    over_limit = "truncate"


class HonestDiscarding(Honest):
    """The same, with D3's third choice: succeed and save nothing."""

    over_limit = "discard"
