"""The mutants: :class:`~tests.mutants.honest.Honest` with one realistic bug each.

Each names the rules its bug breaks (``RULES``); ``tests/test_mutants.py``
checks that the conformance suite fails each one in a scenario that pins one
of those rules, and that every rule of the contract has such a mutant. The
bugs are the kind a developer writing from the rules makes: a regex a little
too strict, a library default left in place, an off-by-one in a schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httpx

from scenarios import AttemptReport, FlowContext, Rendered
from webhook_core import MISSING

from .honest import LIMIT, METHODS, SCHEDULE, Config, Honest, HonestDelivery, Ref, Sent

MUTANTS: dict[str, type[Honest]] = {}


def mutant(*rules: str) -> Callable[[type[Honest]], type[Honest]]:
    def register(cls: type[Honest]) -> type[Honest]:
        cls.RULES = rules  # type: ignore[attr-defined]
        cls.name = cls.__name__
        MUTANTS[cls.__name__] = cls
        return cls

    return register


def factory(name: str) -> Callable[[], Honest]:
    """``--sender=tests.mutants.catalogue:<name>`` works through these module attributes."""
    return MUTANTS[name]


# --- A. Settings ------------------------------------------------------------------------


@mutant("A1", "C8")
class IgnoresHeaders(Honest):
    """Never sends the action's own headers."""

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        return super().headers(content_type, [])


@mutant("A1", "D2", "F2")
class NeverSaves(Honest):
    """Forgets "save result to": the answer is never stored."""

    def value_of(self, body: bytes, content_type: str) -> Any:
        return MISSING


@mutant("A2")
class CaseSensitiveMethod(Honest):
    """Takes the method only in upper case."""

    def parse_method(self, raw: str) -> str:
        if raw not in METHODS and raw != "JSON_POST":
            raise Config("method", raw)
        return raw.replace("_", " ")


@mutant("A2")
class NoUnderscoreSpelling(Honest):
    """Accepts any case but not ``JSON_POST``."""

    def parse_method(self, raw: str) -> str:
        if raw.upper() not in METHODS:
            raise Config("method", raw)
        return raw.upper()


@mutant("A2", "C6")
class JsonSpellingAsForm(Honest):
    """``json_post`` in lower case falls through to a plain POST."""

    def parse_method(self, raw: str) -> str:
        if raw in ("json_post", "json post", "Json Post", "Json_Post"):
            return "POST"
        return super().parse_method(raw)


@mutant("A2", "A4")
class UnknownMethodIsGet(Honest):
    """An unknown method is sent as a GET instead of refused."""

    def parse_method(self, raw: str) -> str:
        try:
            return super().parse_method(raw)
        except Config:
            return "GET"


@mutant("A3")
class HeadersAsMapping(Honest):
    """Keeps headers in a dict: a repeated header keeps only its last value."""

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        return super().headers(content_type, list(dict(user).items()))


@mutant("A3", "C2")
class SortedParameters(Honest):
    """Sorts parameters by name before nesting them."""

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        return super().nest(sorted(pairs, key=lambda pair: pair[0]))


@mutant("A4")
class NoSchemeCheck(Honest):
    """Sends whatever URL renders (ftp, relative); the HTTP client's error is retried."""

    def check_url(self, url: str) -> str:
        return url


@mutant("A4", "C4")
class CaseSensitiveScheme(Honest):
    """Checks the scheme with ``startswith("http")``: ``HTTP://`` is refused."""

    def check_url(self, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise Config("url", url)
        return url


@mutant("A4")
class DropsEmptySegments(Honest):
    """Tidies ``a..b`` into ``a.b`` instead of refusing it."""

    def check_param_name(self, index: int, name: str) -> None:
        return None

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        tidy = [(".".join(part for part in name.split(".") if part), v) for name, v in pairs]
        return super().nest(tidy)


@mutant("A4", "B8")
class ReservedSaveToAllowed(Honest):
    """Checks the save-to name's characters but not the reserved names."""

    def check_save_to(self, name: str | None) -> None:
        if name is not None and not re.fullmatch(r"\w+", name):
            raise Config("save_to", name)


@mutant("A4")
class HeaderNamesUnchecked(Honest):
    """Lets the HTTP client find out about a bad header name (a transport error, retried)."""

    def check_header_name(self, index: int, name: str) -> None:
        return None


@mutant("A4")
class RetriesConfigurationErrors(Honest):
    """Treats a configuration error like any failure: retried on the schedule."""

    def configuration_report(self, exc: Config, now: datetime) -> AttemptReport:
        report = super().configuration_report(exc, now)
        return AttemptReport(
            ok=False,
            error=report.error,
            error_kind="configuration",
            configuration_error=report.configuration_error,
            retry_at=now + timedelta(seconds=5),
        )


@mutant("A4")
class OneBasedFieldIndex(Honest):
    """Names the n-th parameter ``params[n]`` counting from 1."""

    def check_param_name(self, index: int, name: str) -> None:
        super().check_param_name(index + 1, name)

    def check_header_name(self, index: int, name: str) -> None:
        super().check_header_name(index + 1, name)


@mutant("A4")
class ChecksSaveToAfterSending(Honest):
    """Validates "save result to" only when an answer is to be saved: the request went out."""

    def check_save_to(self, name: str | None) -> None:
        return None

    def report(self, delivery: HonestDelivery, sent: Sent, now: datetime) -> AttemptReport:
        try:
            Honest.check_save_to(self, delivery.action.get("save_to"))
        except Config as exc:
            return self.configuration_report(exc, now)
        return super().report(delivery, sent, now)


@mutant("A4")
class TemplateValueInError(Honest):
    """Names the URL's template, not the rendered URL, in the configuration error."""

    def build(self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: Any):  # type: ignore[no-untyped-def]
        try:
            return super().build(action, context, now, missing)
        except Config as exc:
            if exc.field == "url":
                raise Config("url", action["url"]) from None
            raise


# --- B. Templates -----------------------------------------------------------------------


@mutant("B1")
class NoSpacesInBraces(Honest):
    """``{name}`` only: ``{ name }`` is left as text."""

    token = re.compile(r"\{(/?ignore)\}|\{(\w+(?:\.\w+)*)\}")


@mutant("B1")
class AsciiNames(Honest):
    """Names of ASCII letters only: ``{город}`` is text."""

    token = re.compile(r"\{\s*(/?ignore)\s*\}|\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}")


@mutant("B2", "F2")
class NoListIndex(Honest):
    """Walks objects but not lists."""

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        value: Any = variables
        for segment in path:
            if not isinstance(value, dict) or segment not in value:
                return MISSING
            value = value[segment]
        return value


@mutant("B2")
class FirstSegmentOnly(Honest):
    """Looks up ``result.promo.code`` as one flat name."""

    def lookup(self, variables: Mapping[str, Any], path: list[str]) -> Any:
        name = ".".join(path)
        return variables.get(name, MISSING) if len(path) > 1 else super().lookup(variables, path)


@mutant("B3")
class KeepsMissingReference(Honest):
    """A missing reference stays in the text as written."""

    def missing_text(self, ref: Ref) -> str:
        return "{" + ".".join(ref.path) + "}"


@mutant("B3")
class ForgetsMissing(Honest):
    """Renders a missing reference as empty but does not report it."""

    def render_text(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
        return super().render_text(template, variables, [])


@mutant("B4")
class PythonBooleans(Honest):
    """``str(value)``: ``True``, ``None``."""

    def format(self, value: Any) -> str:
        if isinstance(value, bool | type(None)):
            return str(value)
        return super().format(value)


@mutant("B4")
class EscapedJson(Honest):
    """Objects as ``json.dumps`` writes them by default: spaces, ``\\u`` escapes."""

    def format(self, value: Any) -> str:
        if isinstance(value, dict | list):
            return json.dumps(value)
        return super().format(value)


@mutant("B4")
class NullAsText(Honest):
    """null renders as ``null``."""

    def format(self, value: Any) -> str:
        return "null" if value is None else super().format(value)


@mutant("B5")
class IgnoreTagsKept(Honest):
    """Outputs the ``{ignore}`` tags along with their content."""

    def parse(self, template: str) -> list[Any]:
        parts = super().parse(template.replace("{ignore}", "\0"))
        out: list[Any] = []
        for part in parts:
            out.append(part.replace("\0", "{ignore}") if isinstance(part, str) else part)
        return out


@mutant("B5")
class UnclosedIgnoreIsText(Honest):
    """An ``{ignore}`` without its end tag is text, and what follows is rendered."""

    def parse(self, template: str) -> list[Any]:
        if "{ignore}" in template and not self.end_ignore.search(template):
            head, _, tail = template.partition("{ignore}")
            return [*super().parse(head), "{ignore}", *super().parse(tail)]
        return super().parse(template)


@mutant("B5")
class DropsStrayEndTag(Honest):
    """A stray ``{/ignore}`` is removed."""

    def parse(self, template: str) -> list[Any]:
        return [part for part in super().parse(template) if part != "{/ignore}"]


@mutant("B6")
class AnyBracesAreReferences(Honest):
    """``\\{([^}]*)\\}``: any text in braces is a name, so ``{"json": 1}`` renders empty."""

    token = re.compile(r"\{\s*(/?ignore)\s*\}|\{\s*([^{}]*?)\s*\}")

    def parse(self, template: str) -> list[Any]:
        return [
            Ref(part.path[0].split(".")) if isinstance(part, Ref) and len(part.path) == 1 else part
            for part in super().parse(template)
        ]


@mutant("B7")
class RendersTwice(Honest):
    """Renders until nothing changes: a value holding ``{x}`` is expanded again."""

    def render_text(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
        text = super().render_text(template, variables, missing)
        for _ in range(3):
            again = super().render_text(text, variables, [])
            if again == text:
                break
            text = again
        return text


@mutant("B8")
class IsoDate(Honest):
    """``date`` as ``YYYY-MM-DD``."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        values = super().reserved(context, now)
        values["date"] = now.astimezone(timezone.utc).strftime("%Y-%m-%d")
        return values


@mutant("B8")
class IgnoresTimezone(Honest):
    """Reads the clock in UTC whatever the bot's time zone."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        return super().reserved(
            FlowContext(context.variables, context.subscriber, context.bot_id, "UTC"), now
        )


@mutant("B8")
class MillisecondTimestamp(Honest):
    """``timestamp`` in milliseconds."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        values = super().reserved(context, now)
        values["timestamp"] = int(now.timestamp() * 1000)
        return values


@mutant("B8")
class TwelveHourTime(Honest):
    """``time`` on a 12-hour clock."""

    def reserved(self, context: FlowContext, now: datetime) -> dict[str, Any]:
        values = super().reserved(context, now)
        values["time"] = now.astimezone(ZoneInfo(context.timezone)).strftime("%I:%M")
        return values


@mutant("B8")
class BotVariablesWin(Honest):
    """Reserved variables only fill names the bot has not set; messages lack them."""

    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: str
    ) -> Rendered:
        missing: list[str] = []
        text = self.render_text(template, dict(context.variables), missing)
        return Rendered(text, tuple(missing))


# --- C. The request ---------------------------------------------------------------------


@mutant("C1", "C4", "C5")
class LiteralDots(Honest):
    """Sends ``user.name`` as it is instead of nesting it."""

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        return dict(pairs)


@mutant("C2")
class FirstPairWins(Honest):
    """On conflict the first pair stays."""

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        root: dict[str, Any] = {}
        for name, value in pairs:
            *parents, last = name.split(".")
            node = root
            for segment in parents:
                child = node.setdefault(segment, {})
                if not isinstance(child, dict):
                    break
                node = child
            else:
                node.setdefault(last, value)
        return self.listify(root)


@mutant("C2")
class ReplacedPairMovesLast(Honest):
    """A replaced pair moves to the end (pop, then insert)."""

    def nest(self, pairs: list[tuple[str, Any]]) -> Any:
        root: dict[str, Any] = {}
        for name, value in pairs:
            *parents, last = name.split(".")
            node = root
            for segment in parents:
                child = node.get(segment)
                if not isinstance(child, dict):
                    node.pop(segment, None)
                    child = node[segment] = {}
                node = child
            node.pop(last, None)
            node[last] = value
        return self.listify(root)


@mutant("C3")
class NeverLists(Honest):
    """Every node is an object."""

    def listify(self, node: Any) -> Any:
        return node


@mutant("C3")
class DigitsMakeLists(Honest):
    """Any node whose keys are all digits is a list, sorted by index."""

    def listify(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        items = {key: self.listify(value) for key, value in node.items()}
        if items and all(key.isdecimal() for key in items):
            return [items[key] for key in sorted(items, key=int)]
        return items


@mutant("C3")
class NoListAtTheTop(Honest):
    """Lists inside, but the top level is always an object."""

    def listify(self, node: Any, top: bool = True) -> Any:  # type: ignore[override]
        if not isinstance(node, dict):
            return node
        return {key: Honest.listify(self, value) for key, value in node.items()}


@mutant("C4")
class RawUrlEncode(Honest):
    """``rawurlencode`` instead of ``urlencode``: spaces as ``%20``."""

    def quote(self, text: str) -> str:
        return quote(text, safe="")


@mutant("C4", "C5")
class TildeLeftAlone(Honest):
    """Python's ``quote_plus``: ``~`` is not encoded."""

    def quote(self, text: str) -> str:
        return super().quote(text).replace("%7E", "~")


@mutant("C4", "C5")
class BracketsNotEncoded(Honest):
    """Writes ``user[name]`` with literal brackets."""

    def quote(self, text: str) -> str:
        return super().quote(text).replace("%5B", "[").replace("%5D", "]")


@mutant("C4")
class QuestionMarkAlways(Honest):
    """Appends ``?`` and the query, even after a query already in the URL."""

    def append_query(self, url: str, query: str) -> str:
        url = url.split("#", 1)[0]
        return f"{url}?{query}" if query else url


@mutant("C4")
class KeepsFragment(Honest):
    """Appends the query after the URL's ``#fragment``."""

    def append_query(self, url: str, query: str) -> str:
        if not query:
            return url
        return url + ("&" if "?" in url else "?") + query


@mutant("C4")
class ReplacesQuery(Honest):
    """Replaces the URL's own query with the parameters."""

    def append_query(self, url: str, query: str) -> str:
        base = url.split("#", 1)[0].split("?", 1)[0]
        return f"{base}?{query}" if query else url.split("#", 1)[0]


@mutant("C4")
class UrlencodeDoseq(Honest):
    """``urllib.parse.urlencode`` of the flat pairs: dotted names unencoded as brackets."""

    def form(self, data: Any) -> str:
        def flat(node: Any, prefix: str = "") -> list[tuple[str, str]]:
            items = node.items() if isinstance(node, dict) else enumerate(node)
            out: list[tuple[str, str]] = []
            for key, value in items:
                name = f"{prefix}.{key}" if prefix else str(key)
                out += flat(value, name) if isinstance(value, dict | list) else [(name, value)]
            return out

        return urlencode(flat(data))


@mutant("C5", "C7")
class FormWithoutContentType(Honest):
    """Sends the form body without a Content-Type."""

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        if content_type == "application/x-www-form-urlencoded":
            content_type = None
        return super().headers(content_type, user)


@mutant("C5")
class PostSendsJson(Honest):
    """POST sends JSON like JSON POST."""

    def parse_method(self, raw: str) -> str:
        method = super().parse_method(raw)
        return "JSON POST" if method == "POST" else method


@mutant("C6")
class JsonAllText(Honest):
    """Every JSON value is text."""

    def render_typed(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> Any:
        return self.render_text(template, variables, missing)


@mutant("C6")
class TypedWhenPadded(Honest):
    """Strips the value before looking for a lone reference: `` {n}`` is a number."""

    def render_typed(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> Any:
        return super().render_typed(template.strip(), variables, missing)


@mutant("C6")
class NumericTextBecomesNumber(Honest):
    """Turns any text that looks like a number into a number."""

    def render_typed(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> Any:
        value = super().render_typed(template, variables, missing)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return int(value)
        return value


@mutant("C6")
class NullStaysNull(Honest):
    """A lone reference to null keeps null in the JSON body."""

    def render_typed(self, template: str, variables: Mapping[str, Any], missing: list[str]) -> Any:
        parts = self.parse(template)
        lone = len(parts) == 1 and isinstance(parts[0], Ref)
        if lone and self.lookup(variables, parts[0].path) is None:  # type: ignore[union-attr]
            return None
        return super().render_typed(template, variables, missing)


@mutant("C7")
class OtherMethodsUseTheQuery(Honest):
    """PUT, PATCH and DELETE put the parameters in the query, as GET does."""

    def build(self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: Any):  # type: ignore[no-untyped-def]
        request = super().build(action, context, now, missing)
        if request.method in ("PUT", "PATCH", "DELETE") and request.content:
            url = self.append_query(str(request.url), request.content.decode())
            return httpx.Request(
                request.method,
                url,
                headers=[
                    (k, v)
                    for k, v in request.headers.items()
                    if k.lower() not in ("content-type", "content-length")
                ],
            )
        return request


@mutant("C7")
class EmptyBodyWithContentType(Honest):
    """Without parameters, PUT, PATCH and DELETE still send an empty form."""

    def build(self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: Any):  # type: ignore[no-untyped-def]
        request = super().build(action, context, now, missing)
        if request.method in ("PUT", "PATCH", "DELETE") and not request.content:
            headers = [*request.headers.multi_items()]
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            return httpx.Request(request.method, request.url, headers=headers, content=b"")
        return request


@mutant("C8")
class OnlyContentTypeReplaced(Honest):
    """Only Content-Type replaces its default; a user's User-Agent is added beside it."""

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        out = [("User-Agent", self.user_agent or "")]
        if content_type and not any(n.lower() == "content-type" for n, _ in user):
            out.append(("Content-Type", content_type))
        return out + user


@mutant("C8")
class ContentTypeAddedTwice(Honest):
    """The user's Content-Type is sent beside the default one."""

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        defaults = [("User-Agent", self.user_agent or "")]
        if content_type:
            defaults.append(("Content-Type", content_type))
        return defaults + user


@mutant("C8")
class LineBreaksRemoved(Honest):
    """Removes CR and LF instead of replacing them with spaces."""

    def clean_header(self, value: str) -> str:
        return value.replace("\r", "").replace("\n", "")


@mutant("C8")
class HeaderValuesNotRendered(Honest):
    """Header values are sent as written."""

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        return super().headers(content_type, user)

    def build(self, action: Mapping[str, Any], context: FlowContext, now: datetime, missing: Any):  # type: ignore[no-untyped-def]
        request = super().build(action, context, now, missing)
        raw = {name.lower(): value for name, value in action.get("headers", [])}
        headers = [(k, raw.get(k.lower(), v)) for k, v in request.headers.multi_items()]
        return httpx.Request(request.method, request.url, headers=headers, content=request.content)


@mutant("C9")
class LibraryUserAgent(Honest):
    """Leaves the HTTP library's own User-Agent."""

    user_agent = None

    def headers(self, content_type: str | None, user: list[tuple[str, str]]) -> Any:
        return [
            ("User-Agent", f"python-httpx/{httpx.__version__}"),
            *super().headers(content_type, user),
        ]


@mutant("C9")
class PerReadTimeout(Honest):
    """The time limit is httpx's, for each read, not for the whole attempt."""

    async def send(self, request: httpx.Request, time_limit: float) -> Sent:
        self.client.timeout = httpx.Timeout(time_limit)
        try:
            return await self.exchange(request, time_limit)
        except httpx.HTTPError as exc:
            return Sent(kind=self.kind_of(exc), error=str(exc))


@mutant("C9")
class FixedTenSeconds(Honest):
    """Ignores the given time limit: always 10 s."""

    async def send(self, request: httpx.Request, time_limit: float) -> Sent:
        return await super().send(request, 10.0)


@mutant("C9", "D1")
class NoRedirects(Honest):
    """Does not follow redirects: a 302 is the final answer."""

    async def exchange(self, request: httpx.Request, time_limit: float) -> Sent:
        response = await self.client.send(request)
        return Sent(response.status_code, response.headers, response.content)


@mutant("C9")
class TenRedirects(Honest):
    """httpx's own default: 20 redirects."""

    max_redirects = 20


@mutant("C9")
class FourRedirects(Honest):
    """Counts the first request as a redirect: four at most."""

    max_redirects = 4


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


def __getattr__(name: str) -> Callable[[], Honest]:
    if name in MUTANTS:
        return MUTANTS[name]
    raise AttributeError(name)


__all__ = ["LIMIT", "MUTANTS", "factory", "mutant"]
