"""Checks across a scenario's fields that the model cannot make alone: attempts
in time order, ``{mock.*}`` references the run would not have, ``expect.crm`` of a fake CRM
not mounted. Each gives ``(place, message)`` pairs for the loader to put at file:line."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any, Final

from .durations import format_duration
from .model import Scenario
from .parameters import Place

__all__ = [
    "MOCK_CRM_KEYS",
    "MOCK_KEYS",
    "attempt_problems",
    "checks_of_nothing",
    "look_alike_references",
    "mock_references",
    "nodes",
    "unmet_by_the_flow",
    "unmounted_checks",
]


def attempt_problems(scenario: Scenario) -> list[tuple[Place, str]]:
    """``expect.attempts`` that no run can give: a block that is not a webhook of the
    flow, a status that is not HTTP's, no kind at all, or offsets going back in time."""
    webhooks = [i for i, block in enumerate(scenario.flow) if block.webhook is not None]
    found: list[tuple[Place, str]] = []
    previous = None
    for index, want in enumerate(scenario.expect.attempts or ()):
        at: Place = ("expect", "attempts", index)
        if want.block is not None and want.block not in webhooks:
            found.append(
                (
                    (*at, "block"),
                    f"the index of a webhook block of the flow ({', '.join(map(str, webhooks))}"
                    f" here); got {want.block}"
                    if webhooks
                    else f"the index of a webhook block, and this flow has none; got {want.block}",
                )
            )
        if want.status is not None and not 100 <= want.status <= 599:
            found.append(((*at, "status"), f"an HTTP status, 100 to 599; got {want.status}"))
        if want.error == []:
            found.append(((*at, "error"), "a kind, a list of kinds (not empty), or a text"))
        found += _misspelt_kinds(want.error, (*at, "error"))
        if previous is not None and want.at < previous:
            found.append(
                (
                    (*at, "at"),
                    "attempts in the order they happen, each at or after the one before "
                    f"({format_duration(previous)}); got {format_duration(want.at)}",
                )
            )
        previous = want.at
    return found


def _edits(first: str, second: str) -> int:
    """How many letters put in, taken out, changed or swapped with a neighbour make
    ``first`` into ``second`` (``timeuot`` is one from ``timeout``)."""
    rows = [list(range(len(second) + 1))]
    for i, a in enumerate(first, start=1):
        row = [i]
        for j, b in enumerate(second, start=1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a != b)))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _closest_kind(word: str) -> str | None:
    """The failure kind at most two edits from ``word``, if there is one."""
    from .implementations import ERROR_KINDS

    distance, kind = min((_edits(word, kind), kind) for kind in ERROR_KINDS)
    return kind if distance <= 2 else None


def _misspelt_kinds(error: object, at: Place) -> list[tuple[Place, str]]:
    """An attempt's ``error:`` that names no kind where a kind was meant: a single
    lower-case word close to a kind (``timeuot``) was read as a part of the message and
    failed after the run; a list is of kinds only, and another word in it matched nothing."""
    from .implementations import ERROR_KINDS

    if isinstance(error, str) and error not in ERROR_KINDS and re.fullmatch(r"[a-z_]+", error):
        kind = _closest_kind(error)
        if kind is not None:
            return [
                (
                    at,
                    f"a failure kind ({', '.join(ERROR_KINDS)}) or a part of the message; "
                    f"got {error!r}: did you mean {kind!r}? (to look for {error!r} in the "
                    f"message, write {{contains: {error}}})",
                )
            ]
    found: list[tuple[Place, str]] = []
    for index, item in enumerate(error if isinstance(error, list) else ()):
        if item not in ERROR_KINDS:
            kind = _closest_kind(item)
            hint = f"did you mean {kind!r}? " if kind is not None else ""
            found.append(
                (
                    (*at, index),
                    f"a failure kind ({', '.join(ERROR_KINDS)}); got {item!r}: {hint}a list "
                    "holds kinds only (a part of the message is written alone, "
                    "{contains: text})",
                )
            )
    return found


#: What ``{mock.<name>}`` names (``scenarios.runner`` sets them): always, and with each
#: fake CRM of ``mock.crm``.
MOCK_KEYS: Final = ("url", "host")
MOCK_CRM_KEYS: Final = {
    "bitrix24": ("bitrix24",),
    "amocrm": (
        "amocrm",
        "amocrm_token",
        "amocrm_oauth",
        "amocrm_client_id",
        "amocrm_client_secret",
        "amocrm_redirect_uri",
        "amocrm_code",
    ),
}
_CRM_NAMES: Final = {"bitrix24": "Bitrix24", "amocrm": "amoCRM"}


def mock_references(scenario: Scenario, body: dict[str, Any]) -> list[tuple[Place, str]]:
    """``{mock.<name>}`` in the flow that the run would not have: a fake CRM's URL with
    no ``mock.crm`` for it, or a misspelt name. Either rendered as nothing (rule B3), and
    the run failed later, naming the URL left (``/crm.lead.add.json``), not the cause."""
    import difflib

    from webhook_core.template import references

    mounted = {name for name in MOCK_CRM_KEYS if getattr(scenario.mock.crm, name) is not None}
    known = [*MOCK_KEYS, *(key for name in sorted(mounted) for key in MOCK_CRM_KEYS[name])]
    found: list[tuple[Place, str]] = []
    for text, at in nodes(body.get("flow"), ("flow",)):
        if not isinstance(text, str) or "mock" not in text:
            continue
        try:
            refs = references(text)
        except ValueError:  # the implementation under test judges a template (rule A4)
            continue
        for ref in refs:
            if ref.path[0] != "mock" or len(ref.path) < 2 or ref.path[1] in known:
                continue
            key = ref.path[1]
            crm = next((name for name, keys in MOCK_CRM_KEYS.items() if key in keys), None)
            if crm is not None:
                message = (
                    f"{{mock.{key}}} is the fake {_CRM_NAMES[crm]}'s, and this scenario has "
                    f"none: add mock: {{crm: {{{crm}: {{}}}}}}"
                )
            else:
                every = [*MOCK_KEYS, *itertools.chain.from_iterable(MOCK_CRM_KEYS.values())]
                close = difflib.get_close_matches(key, every, n=1)
                hint = f"did you mean {{mock.{close[0]}}}? " if close else ""
                message = (
                    f"{{mock.{key}}} is not the harness's; {hint}this scenario has "
                    + ", ".join(f"{{mock.{name}}}" for name in known)
                )
            found.append((at, message))
            break
    return found


def look_alike_references(scenario: Scenario, body: dict[str, Any]) -> list[tuple[Place, str]]:
    """A template reference that prints like a variable the scenario sets but is not it
    (``{order}`` with ``variables: {оrder: 1}``, a Cyrillic о): rule B3 rendered it as
    nothing and the run failed on a missing reference, with the two names alike on screen."""
    from mockserver.validation import look_alike, unseen
    from webhook_core.template import references

    names = _set_here(scenario)
    found: list[tuple[Place, str]] = []
    for text, at in nodes(body.get("flow"), ("flow",)):
        if not isinstance(text, str) or "{" not in text:
            continue
        try:
            refs = references(text)
        except ValueError:  # the implementation under test judges a template (rule A4)
            continue
        for ref in refs:
            root = str(ref.path[0])
            twin = next((name for name in sorted(names) if look_alike(root, name)), None)
            if root in names or twin is None:
                continue
            differs = unseen(root, "the reference") or unseen(twin, "the variable's name")
            found.append(
                (
                    at,
                    f"{{{root}}} prints like the variable {twin!r} this scenario sets, and is "
                    f"not it{differs}: write the two alike",
                )
            )
            break
    return found


def _set_here(scenario: Scenario) -> set[str]:
    """The variables the scenario sets: ``variables:``, ``set:`` blocks, ``save_to``."""
    return {
        *scenario.variables,
        *(block.set.name for block in scenario.flow if block.set is not None),
        *(
            block.webhook.save_to
            for block in scenario.flow
            if block.webhook is not None and block.webhook.save_to is not None
        ),
    }


def unmounted_checks(scenario: Scenario) -> list[tuple[Place, str]]:
    """``expect.crm`` entries for a fake CRM the scenario does not mount: the check could
    only fail, and it failed after the run (saying the CRM was not mounted), not at
    collection where the file is."""
    found: list[tuple[Place, str]] = []
    for crm in scenario.expect.crm:
        if getattr(scenario.mock.crm, crm) is None:
            found.append(
                (
                    ("expect", "crm", crm),
                    f"checks the fake {_CRM_NAMES[crm]}'s records, and this scenario mounts "
                    f"none: add mock: {{crm: {{{crm}: {{}}}}}} (here or under defaults:)",
                )
            )
    return found


def checks_of_nothing(scenario: Scenario) -> list[tuple[Place, str]]:
    """Fields written out that can check nothing, so the file says more than runs: an
    empty ``when:``, ``in_order:`` with no ``expect.requests`` to order, an empty text in
    ``expect.missing`` (no reference is named so)."""
    found: list[tuple[Place, str]] = []
    if "when" in scenario.model_fields_set and not scenario.when.items():
        found.append(
            (
                ("when",),
                "a capability to ask for (over_limit:, renders:); an empty when: asks for "
                "nothing, so remove it",
            )
        )
    expect = scenario.expect
    if "in_order" in expect.model_fields_set and expect.requests is None:
        found.append(
            (
                ("expect", "in_order"),
                "says in which order expect.requests arrived, and this scenario has no "
                "expect.requests: add them, or remove in_order",
            )
        )
    for index, reference in enumerate(expect.missing or ()):
        if not reference.strip():
            found.append(
                (
                    ("expect", "missing", index),
                    "a reference as the template writes it (first_name, result.promo.code); "
                    f"got {reference!r}, which no reference is",
                )
            )
    return found


def unmet_by_the_flow(scenario: Scenario) -> list[tuple[Place, str]]:
    """``expect`` that the flow as written can never meet: more messages than it has
    ``message:`` blocks (each sends at most one), attempts of a flow without webhook
    blocks, or a variable that nothing of the
    scenario sets (``variables:``, a ``set:`` block, a webhook's ``save_to``): the runner
    keeps no other, so the check failed after every run ("got (absent)"). ``{absent:
    true}`` of such a variable is true, and kept (the conformance suite pins rule A1 so)."""
    from webhook_core.action import RESERVED_VARIABLES

    found: list[tuple[Place, str]] = []
    senders = [i for i, block in enumerate(scenario.flow) if block.message is not None]
    messages = scenario.expect.messages
    if messages is not None and len(messages) > len(senders):
        blocks = (
            f"message blocks ({', '.join(f'flow[{i}]' for i in senders)})"
            if len(senders) > 1
            else f"message block (flow[{senders[0]}])"
            if senders
            else "message blocks"
        )
        found.append(
            (
                ("expect", "messages", len(senders)),
                f"at most {len(senders)} message(s): the flow has {len(senders)} {blocks}, "
                f"each sending one; got {len(messages)} expected messages",
            )
        )
    if scenario.expect.attempts and not any(b.webhook is not None for b in scenario.flow):
        found.append(
            (
                ("expect", "attempts", 0),
                "attempts of the flow's webhook blocks, and this flow has none (write "
                f"attempts: [] for none); got {len(scenario.expect.attempts)} expected attempts",
            )
        )
    set_here = _set_here(scenario)
    for path, matcher in scenario.expect.variables.items():
        root = path.split(".")[0]
        if root in set_here or root == "mock" or matcher.kind == "absent":
            continue  # {absent: true} says what is true: nothing here sets it
        known = ", ".join(sorted(set_here)) or "none"
        why = (
            f" ({root} is the subscriber's, not one of the flow's variables)"
            if root in RESERVED_VARIABLES
            else ""
        )
        found.append(
            (
                ("expect", "variables", path),
                f"a variable this scenario sets (variables:, a set: block or a webhook's "
                f"save_to: {known}); nothing sets {root}{why}, so this check fails after "
                "every run",
            )
        )
    return found


def nodes(value: Any, at: Place = ()) -> Iterator[tuple[Any, Place]]:
    """Every value in ``value`` (itself first) and its place, in the order written;
    without recursion."""
    stack: list[tuple[Any, Place]] = [(value, at)]
    while stack:
        item, place = stack.pop()
        yield item, place
        if isinstance(item, dict):
            stack.extend((v, (*place, k)) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, (*place, i)) for i, v in reversed(list(enumerate(item))))


#: Keys people put in the wrong place, and where they go.
