"""Mutants of rules C (the request)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from scenarios import FlowContext

from .honest import Honest, Ref, Sent
from .registry import mutant

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
