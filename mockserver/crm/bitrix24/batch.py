"""``batch`` as ``settings/how-to-call-rest-api/batch.md`` describes it: up to 50 commands,
each a method with a query string, run in order (a command past the 50th is not run: its
``result_error`` is ``ERROR_BATCH_LENGTH_EXCEEDED``); a later command may use an earlier one's
answer as ``$result[cmd][field]…`` (also ``$result_total``, ``$result_next``,
``$result_error``, ``$result_time``); ``halt`` stops at the first error; the answer keeps
``result``, ``result_error``, ``result_total``, ``result_next`` and ``result_time`` keyed by
command (an empty one is ``[]``, PHP's empty array).

The portal's own code is ``CRestProvider::methodsBatch`` (the ``rest`` module's
``classes/general/rest_provider.php``, as in ``alex-jazzman/bitrix24_source``): each command's
method is its ``parse_url`` path, run through ``CRestServerBatchItem`` as named (so a
``.json``/``.xml`` suffix is no format there), a command that is no string is skipped,
``halt`` is PHP's ``(bool)``, and a ``cmd`` that is no array (``cmd=crm.lead.list``) runs
nothing: the answer's sections are all empty."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from mockserver.crm.store import StoreFull
from mockserver.forms import parse_php_form

from .schema import BATCH_LIMIT, BitrixError, text, whole_number

__all__ = ["run_batch", "run_batch_async", "run_batch_json"]

_REFERENCE: Final = re.compile(
    r"\$(result|result_error|result_total|result_next|result_time)\[([^\]\[]*)\]((?:\[[^\]\[]*\])*)"
)
_STEP: Final = re.compile(r"\[([^\]\[]*)\]")

#: The text references may put inside one command's strings (**decision**: batch.md
#: gives no bound; a page of 50 records is about 100 000 characters).
MAX_EXPANSION: Final = 1024 * 1024

Call = Callable[[str, Mapping[str, Any]], tuple[Any, dict[str, Any] | None]]
Timing = Callable[[], dict[str, Any]]


def _follow(value: Any, steps: list[str]) -> Any:
    for step in steps:
        if isinstance(value, Mapping):
            value = value.get(step, value.get(step.upper()))
        elif (
            isinstance(value, list)
            and (index := whole_number(step)) is not None
            and -len(value) <= index < len(value)
        ):
            value = value[index]
        else:
            return None
    return value


def _substitute(
    value: Any, answers: Mapping[str, Mapping[str, Any]], budget: list[int] | None = None
) -> Any:
    """Replace references in every string of a decoded command's parameters.

    A string that is one reference takes the referred value itself (a list stays a
    list); a reference inside a longer string is replaced by its text. A reference to
    nothing (a command that failed, an item past a short page) becomes ``""``. The text
    references put inside strings is at most :data:`MAX_EXPANSION` characters per
    command (``budget`` is what is left): 2 000 copies of a page of records in one
    comment would turn a small request into hundreds of megabytes.
    """
    if budget is None:
        budget = [MAX_EXPANSION]
    if isinstance(value, Mapping):
        return {key: _substitute(item, answers, budget) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, answers, budget) for item in value]
    if not isinstance(value, str) or "$result" not in value:
        return value

    def lookup(match: re.Match[str]) -> Any:
        section, command, rest = match.group(1), match.group(2), match.group(3)
        return _follow(answers[section].get(command), _STEP.findall(rest))

    def inline(match: re.Match[str]) -> str:
        found = text(lookup(match))
        budget[0] -= len(found)
        if budget[0] < 0:
            raise BitrixError(
                "",
                f"The references of this command expand to more than {MAX_EXPANSION} "
                "characters of text",
            )
        return found

    whole = _REFERENCE.fullmatch(value)
    if whole is not None:
        found = lookup(whole)
        return "" if found is None else found
    return _REFERENCE.sub(inline, value)


def _run(
    params: Mapping[str, Any],
    call: Call,
    allowed: Callable[[str], bool],
    timing: Timing,
    answers: dict[str, dict[str, Any]],
) -> Iterator[str]:
    """The commands in turn, filling ``answers``; yields each one's name after it ran."""
    commands = params.get("cmd") or {}
    if isinstance(commands, list):
        commands = {str(index): command for index, command in enumerate(commands)}
    if not isinstance(commands, Mapping):
        # `foreach ($arQuery['CMD'] as $key => $call)` over a text or a number: PHP
        # warns ("foreach() argument must be of type array|object"), which the portal's
        # error handling (`exception_errors_types` 4437) does not turn into an error, and
        # no command runs: the answer is every section empty, with 200.
        commands = {}
    # `(bool) $arQuery['HALT']`: PHP's truth, so a form's `halt=false` halts.
    halt = params.get("halt") not in (None, False, 0, "", "0", [], {})
    for place, (key, command) in enumerate(commands.items()):
        name = str(key)
        if not isinstance(command, str) and place < BATCH_LIMIT:
            continue  # `if (!is_string($call)) continue;`: counted, not run, not answered
        # The method as written: the portal's `parse_url($call)['path']`, looked up as it
        # is (lowercased). A format suffix is the front door's (`/rest/crm.lead.get.xml`),
        # not a method's: `crm.lead.get.json` or `.xml` inside a batch is not found.
        method, _, query = str(command).partition("?")
        method = method.strip().lower()
        try:
            if place >= BATCH_LIMIT:
                # Past the 50th: that command's error, the first 50 run (decision,
                # docs/crm-bitrix24.md "batch").
                raise BitrixError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
            if method == "batch":
                raise BitrixError(
                    "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage"
                )
            if not allowed(method):
                raise BitrixError("ERROR_METHOD_NOT_FOUND", "Method not found!")
            decoded = parse_php_form(query)
            sub = _substitute(decoded if isinstance(decoded, dict) else {}, answers)
            result, extra = call(method, {str(k).lower(): v for k, v in sub.items()})
        except (BitrixError, StoreFull) as exc:
            answers["result_error"][name] = (
                {"error": exc.code, "error_description": exc.description}
                if isinstance(exc, BitrixError)
                else {"error": "ERROR_CORE", "error_description": str(exc)}
            )
            if halt:
                return
            yield name
            continue
        answers["result"][name] = result
        answers["result_time"][name] = timing()
        if extra and "total" in extra:
            answers["result_total"][name] = extra["total"]
        if extra and "next" in extra:
            answers["result_next"][name] = extra["next"]
        yield name


def _sections() -> dict[str, dict[str, Any]]:
    return {
        "result": {},
        "result_error": {},
        "result_total": {},
        "result_next": {},
        "result_time": {},
    }


def _answer(answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {section: (found or []) for section, found in answers.items()}


def run_batch(
    params: Mapping[str, Any], call: Call, allowed: Callable[[str], bool], timing: Timing
) -> dict[str, Any]:
    """Run ``params['cmd']`` through ``call``; ``allowed`` says which method names exist."""
    answers = _sections()
    for _ in _run(params, call, allowed, timing, answers):
        pass
    return _answer(answers)


async def run_batch_async(
    params: Mapping[str, Any], call: Call, allowed: Callable[[str], bool], timing: Timing
) -> dict[str, Any]:
    """:func:`run_batch`, letting the event loop serve other requests between commands,
    so one account's batch of 50 writes does not hold another account's call."""
    answers = _sections()
    for _ in _run(params, call, allowed, timing, answers):
        await asyncio.sleep(0)
    return _answer(answers)


async def run_batch_json(
    params: Mapping[str, Any], call: Call, allowed: Callable[[str], bool], timing: Timing
) -> str:
    """:func:`run_batch_async`, answering the batch's ``result`` as JSON text whose parts
    are encoded in the step of the command they belong to: a batch of 50 list pages
    (2 500 records, as b24pysdk's ``as_list_fast`` asks) is never encoded in one step
    that holds every other account's call. The text is what ``json.dumps`` gives."""
    answers = _sections()
    encoded: dict[str, dict[str, str]] = {section: {} for section in answers}
    for name in _run(params, call, allowed, timing, answers):
        await asyncio.sleep(0)  # a page of 50 records: running it and encoding it are
        _encode(answers, encoded, (name,))  # each about as long, so each is a step
        await asyncio.sleep(0)
    _encode(answers, encoded, None)  # what a halt left without a step of its own
    parts = []
    for section, found in encoded.items():
        body = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in found.items()) + "}"
        parts.append(f"{json.dumps(section)}: {body if found else '[]'}")
    return "{" + ", ".join(parts) + "}"


def _encode(
    answers: dict[str, dict[str, Any]],
    encoded: dict[str, dict[str, str]],
    names: tuple[str, ...] | None,
) -> None:
    """JSON text for the answers of ``names`` (every one not yet encoded when ``None``)."""
    for section, found in answers.items():
        done = encoded[section]
        for name in found if names is None else names:
            if name in found and name not in done:
                done[name] = json.dumps(found[name])
