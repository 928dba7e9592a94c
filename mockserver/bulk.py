"""Many stubs at once through the admin API, without holding up everyone else.

The admin API runs on the server's event loop, so a list of 10 000 stubs
handled in one go would hold every other request (a health check, the stub
traffic) for as long as it takes. Here the work is cut into pieces of
:data:`PIECE` stubs with a turn of the event loop between them: stubs are
checked, compiled and filed in the index piece by piece, not yet answering,
then all made live in one step (:meth:`StubRegistry.commit`), so no request
sees half of the list; if the call is cut short, what was filed is taken back.
Removal is the reverse: every stub stops answering in one step, and is taken out
of the index (and let go of) piece by piece. A JSON array in the request is
decoded item by item, with the same turns.

A large request (100 KiB or more) also holds the garbage collector for the duration, and freezes
what exists at its end (``gc.freeze``): CPython's full collection walks every
object, and with 10 000 stubs that walk takes 150-250 ms on the bench machine,
during which nothing is answered. Frozen objects are still freed when nothing
refers to them; only cyclic garbage alive at that moment stays until
``gc.unfreeze()``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from .jsoncodec import dumps_compact
from .models import Stub
from .stubs import StubEntry, StubRegistry

__all__ = [
    "HOLD_FROM_BYTES",
    "PIECE",
    "add_in_pieces",
    "breathe",
    "collector_held",
    "dumps_in_pieces",
    "list_in_pieces",
    "release_in_pieces",
    "remove_in_pieces",
]

#: Stubs handled between two turns of the event loop (about 2 ms of work here).
PIECE: Final = 64
#: From a request body this large on (about 1 000 stubs), a bulk change holds the
#: collector and freezes at its end.
HOLD_FROM_BYTES: Final = 100 * 1024


async def breathe(index: int) -> None:
    """After every :data:`PIECE` items of a long list, let the event loop answer others."""
    if index % PIECE == PIECE - 1:
        await asyncio.sleep(0)


@contextmanager
def collector_held(big: bool) -> Iterator[None]:
    """For a big change: no automatic collection while it runs (decoding the request
    included: its 10 000 dicts alone started full collections), and what exists at
    its end frozen. A small change, or a collector already off, is left alone."""
    if not big or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


async def add_in_pieces(
    registry: StubRegistry, models: Sequence[Stub], *, weight: int = 0
) -> list[Stub]:
    """Compile and file ``models`` piece by piece, then make them live as one change;
    ``weight`` (the bytes they came in) is shared among them for the byte budget.
    A reset (or ``DELETE /__admin/stubs``) while this works comes after it: none of
    the stubs stays, not the pieces filed after the reset either."""
    generation = registry.generation
    entries: list[StubEntry] = []
    share, rest = divmod(weight, len(models)) if models else (0, 0)
    for index, model in enumerate(models):
        entries += registry.prepare([model])
        entries[-1].weight = share + (1 if index < rest else 0)
        await breathe(index)
    final = registry.final(entries)
    staged: list[StubEntry] = []
    try:
        for start in range(0, len(final), PIECE):
            piece = final[start : start + PIECE]
            registry.stage(piece, generation)
            staged += piece
            await asyncio.sleep(0)
        registry.commit(final)
    except BaseException:
        registry.unstage(staged)
        raise
    return [entry.stub for entry in entries]


async def remove_in_pieces(registry: StubRegistry, stub_ids: Sequence[str]) -> list[str]:
    """Stop these stubs answering as one change, then take them out of the index piece
    by piece; the unknown ids (then nothing is removed)."""
    retired, unknown = registry.retire(stub_ids)
    await release_in_pieces(retired, registry.purge)
    return unknown


async def release_in_pieces(
    entries: list[StubEntry], purge: Callable[[list[StubEntry]], None] | None = None
) -> None:
    """Let go of many entries a piece at a time (``purge`` each piece first): freeing
    10 000 stubs' objects at once holds the event loop for tens of milliseconds."""
    while entries:
        piece = entries[-PIECE:]
        del entries[-PIECE:]
        if purge is not None:
            purge(piece)
        del piece
        await asyncio.sleep(0)


def _refuse(text: str) -> Any:
    raise ValueError(f"{text} is not a number JSON can carry")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        _refuse(text)
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) != len(pairs):
        raise ValueError("a key given twice in one object")
    return made


#: Strict as the admin API's own reader: NaN, Infinity, 1e999, integers past
#: Python's digit limit and a key given twice make ``list_in_pieces`` hand the body
#: to that reader, which names the field.
_DECODER: Final = json.JSONDecoder(
    parse_constant=_refuse, parse_float=_finite, object_pairs_hook=_unique
)
_SPACE: Final = re.compile(r"[ \t\n\r]*")


async def list_in_pieces(raw: bytes) -> list[Any] | None:
    """The items of a JSON array, decoded one after another by the ``json`` module
    with a turn of the event loop every :data:`PIECE` items (one ``json.loads`` of
    the 1 MB of 10 000 stubs holds it for 20-60 ms); ``None`` when ``raw`` is not
    one well-formed UTF-8 JSON array, and the caller's own parse says why."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    position = _space(text, 0)
    if text[position : position + 1] != "[":
        return None
    position = _space(text, position + 1)
    items: list[Any] = []
    if text[position : position + 1] == "]":
        return items if _space(text, position + 1) == len(text) else None
    while True:
        try:
            item, position = _DECODER.raw_decode(text, position)
        except (ValueError, RecursionError):
            return None
        items.append(item)
        position = _space(text, position)
        separator = text[position : position + 1]
        if separator == "]":
            break
        if separator != ",":
            return None
        position = _space(text, position + 1)
        await breathe(len(items) - 1)
    return items if _space(text, position + 1) == len(text) else None


def _space(text: str, position: int) -> int:
    found = _SPACE.match(text, position)
    assert found is not None  # the pattern matches the empty string
    return found.end()


async def dumps_in_pieces(items: Sequence[Any], dump: Callable[[Any], Any]) -> str:
    """``[dump(item), ...]`` as compact JSON text, written piece by piece."""
    parts: list[str] = []
    for start in range(0, len(items), PIECE):
        piece = [dump(item) for item in items[start : start + PIECE]]
        parts.append(dumps_compact(piece)[1:-1])
        await asyncio.sleep(0)
    return "[" + ",".join(part for part in parts if part) + "]"
