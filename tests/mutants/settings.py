"""Mutants of rules A (the action's settings) and B (templates)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from scenarios import AttemptReport, FlowContext, Rendered
from webhook_core import MISSING

from .honest import METHODS, RESERVED, Config, Honest, HonestDelivery, Ref, Sent
from .registry import mutant

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


@mutant("A4", "B8")
class ContactFieldsAsSaveTo(Honest):
    """Refuses the ids and the clock's names as save-to, but forgets the subscriber's
    contact fields: ``last_name``, ``username``, ``phone`` and ``email`` are taken."""

    refused = ("user_id", "first_name", "channel", "bot_id", "date", "time", "datetime")

    def check_save_to(self, name: str | None) -> None:
        if name is not None and (
            not re.fullmatch(r"\w+", name) or name in (*self.refused, "timestamp")
        ):
            raise Config("save_to", name)


@mutant("A4", "A1")
class LettersDigitsDashHeaderNames(Honest):
    """Header names of ``[A-Za-z0-9-]`` only: ``X_Token`` and ``X.Id`` are refused."""

    def check_header_name(self, index: int, name: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9-]+", name):
            raise Config(f"headers[{index}].name", name)


@mutant("A4", "A1")
class ReservedNamesAnyCase(Honest):
    """Compares the save-to name with the reserved ones case-insensitively: ``Date`` and
    ``Phone``, which are not reserved, are refused."""

    def check_save_to(self, name: str | None) -> None:
        if name is not None and (not re.fullmatch(r"\w+", name) or name.lower() in RESERVED):
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
