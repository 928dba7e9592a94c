"""The stub registry: which stub answers a request, with what, and the scenario states.

Stubs are tried in the order (priority, newest first). The index
(:mod:`mockserver.routing`) files each stub by its path: exact paths in a dict,
templates in a trie of segments, regexes by their literal start, so finding
the answer costs the stubs that could take the path, whatever the number of
stubs. Each change costs O(log n), and many stubs change as one operation
(:meth:`StubRegistry.add_many`, :meth:`StubRegistry.remove_many`). The server's
thread and the test's thread may both use the registry: changes and lookups
take its lock.
"""

from __future__ import annotations

import gc
import itertools
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sortedcontainers import SortedKeyList

from webhook_core.template import Reference

from .journal import NO_PARAMS, RecordedRequest
from .matching import CompiledPattern, Mismatch
from .models import ResponseDef, Stub
from .responding import Prepared, prepare
from .routing import PathIndex
from .templating import GROWTH, count_references, render_text, rendered_size

__all__ = [
    "INITIAL_STATE",
    "NEAR_MISS_CANDIDATES",
    "Answer",
    "StateTable",
    "StubEntry",
    "StubRegistry",
]

INITIAL_STATE = "Started"
#: How many stubs the near-miss report of one request scores, at most (see
#: :meth:`StubRegistry.near_candidates`).
NEAR_MISS_CANDIDATES = 64


@dataclass(eq=False)
class StubEntry:
    """A registered stub, its compiled pattern and how often it has answered."""

    stub: Stub
    pattern: CompiledPattern
    order: int
    calls: int = 0
    prepared: list[Prepared] = field(default_factory=list)

    answers: list[ResponseDef] = field(default_factory=list)
    #: Answering requests (``False`` while a bulk change files it, not yet committed).
    live: bool = True
    #: Its id was made up when it was added (and may be made up again on a collision).
    auto_id: bool = False
    #: The registry's generation it was staged in (see :meth:`StubRegistry.stage`).
    generation: int = 0
    #: It matches only in a given scenario state, or makes its state key from the request.
    stateful: bool = False
    #: Its place in the order stubs are tried: lowest priority, then newest, first.
    sort_key: tuple[int, int] = (0, 0)
    #: The bytes of its definition as the admin API received it (its share of the
    #: request's body); 0 for a stub given in Python or a file.
    weight: int = 0

    def __post_init__(self) -> None:
        self.answers = self.stub.answers
        self.prepared = [prepare(answer) for answer in self.answers]
        self.sort_key = (self.stub.priority, -self.order)
        state = self.stub.state
        #: The references of its state key, with how often each is written.
        self.key_references: dict[Reference, int] = {}
        if state is not None and state.key is not None:
            count_references(state.key, self.key_references)
        # A key from the request is checked before any use: it may render too much.
        self.stateful = state is not None and (
            state.required is not None or bool(self.key_references)
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic garbage collection while many stubs are built or filed.

    Thousands of new objects that all stay alive would otherwise start a
    collection every 700 allocations, each walking the young objects in vain:
    it doubled the cost of adding 10 000 stubs. Nothing here makes cycles;
    the collector runs as usual afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: Scenario states kept at most (a ``key`` from the request makes one per distinct key),
#: and the text they may hold; past either, the state set longest ago is forgotten (it is
#: ``Started`` again) and counted in :attr:`StateTable.dropped`.
MAX_STATES = 100_000
MAX_STATE_BYTES = 32 * 1024 * 1024
#: The longest state key a request may make (a stub whose key renders more does not
#: match that request, and its near miss says why).
MAX_STATE_KEY = 1024 * 1024
_STATE_OVERHEAD = 200  # bytes: the dict slot, the tuple and three str objects, roughly


def _state_cost(key: tuple[str, str], state: str) -> int:
    return len(key[0]) + len(key[1]) + len(state) + _STATE_OVERHEAD


class StateTable(dict[tuple[str, str], str]):
    """Scenario states by ``(scenario, key)``, within ``max_entries`` and ``max_bytes``
    (``None``: no limit). Setting a state makes it the most recent; past a bound the
    least recently set go first. One state larger than the whole budget is kept, alone."""

    def __init__(
        self, max_entries: int | None = MAX_STATES, max_bytes: int | None = MAX_STATE_BYTES
    ) -> None:
        super().__init__()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self.dropped = 0

    def __setitem__(self, key: tuple[str, str], state: str) -> None:
        old = super().pop(key, None)
        if old is not None:
            self.bytes -= _state_cost(key, old)
        super().__setitem__(key, state)
        self.bytes += _state_cost(key, state)
        entries, budget = self.max_entries, self.max_bytes
        while len(self) > 1 and (
            (entries is not None and len(self) > entries)
            or (budget is not None and self.bytes > budget)
        ):
            oldest = next(iter(self))
            self.bytes -= _state_cost(oldest, super().pop(oldest))
            self.dropped += 1

    def __delitem__(self, key: tuple[str, str]) -> None:
        self.bytes -= _state_cost(key, self[key])
        super().__delitem__(key)

    def clear(self) -> None:
        super().clear()
        self.bytes = self.dropped = 0


def _new_id() -> str:
    return uuid.uuid4().hex[:8]


def _sort_key(entry: StubEntry) -> tuple[int, int]:
    return entry.sort_key


@dataclass(slots=True)
class Answer:
    """What the chosen stub answers: the response to give (``None``: its sequence ran out)."""

    entry: StubEntry
    response: ResponseDef | None
    index: int = 0
    path_params: Mapping[str, str] = field(default_factory=lambda: NO_PARAMS)
    note: str | None = None


class StubRegistry:
    """Stubs in priority order, indexed by path; sequences, and scenario states."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._order = itertools.count()
        self._entries: dict[str, StubEntry] = {}
        self._ordered: SortedKeyList = SortedKeyList(key=_sort_key)
        self._index: PathIndex[StubEntry] = PathIndex()
        self.states = StateTable()
        self._generation = 0  # counts clear(): a staged entry from before is void
        #: The live stubs' :attr:`StubEntry.weight` in all (the admin API's byte budget).
        self.weight = 0

    # --- changing the set of stubs -------------------------------------------------

    def _entry(self, stub: Stub | Mapping[str, Any]) -> StubEntry:
        model = stub if isinstance(stub, Stub) else Stub.model_validate(stub)
        entry = StubEntry(model, CompiledPattern(model.request), next(self._order))
        if model.id is None:
            entry.auto_id = True
            entry.stub = model.model_copy(update={"id": _new_id()})
        return entry

    def prepare(self, stubs: Iterable[Stub | Mapping[str, Any]]) -> list[StubEntry]:
        """Stubs compiled for :meth:`insert`, not yet registered (the slow part, done
        outside the lock, and in pieces by the admin API)."""
        with collector_paused():
            return [self._entry(stub) for stub in stubs]

    @staticmethod
    def final(entries: Iterable[StubEntry]) -> list[StubEntry]:
        """Of entries with the same id, the last; an id made up for a stub that
        collides with another is made up again."""
        chosen: dict[str, StubEntry] = {}
        for entry in entries:
            while entry.auto_id and entry.stub.id in chosen:
                entry.stub = entry.stub.model_copy(update={"id": _new_id()})
            assert entry.stub.id is not None
            chosen.pop(entry.stub.id, None)
            chosen[entry.stub.id] = entry
        return list(chosen.values())

    @property
    def generation(self) -> int:
        """How many times the registry was cleared: a change begun in one generation
        and staged in pieces must not be filed in a later one (:meth:`stage`)."""
        return self._generation

    def stage(self, entries: list[StubEntry], generation: int | None = None) -> None:
        """File entries in the index, not yet answering: :meth:`commit` makes a whole
        list of them live at once, :meth:`unstage` takes them back. Ids must be
        unique among them (:meth:`final`).

        ``generation`` is the :attr:`generation` the change began in: when the
        registry was cleared since, nothing is filed and :meth:`commit` makes none of
        them live (the clear came after the change, and forgot it whole). Without it,
        a list staged in pieces around a reset had the pieces after the reset filed,
        and committed: half of an all-or-none change."""
        with self._lock, collector_paused():
            if generation is None:
                generation = self._generation
            for entry in entries:
                entry.live = False
                entry.generation = generation
            if generation != self._generation:
                return  # cleared since the change began: void
            for entry in entries:
                while entry.auto_id and entry.stub.id in self._entries:
                    entry.stub = entry.stub.model_copy(update={"id": _new_id()})
            if len(entries) > 16:
                self._ordered.update(entries)
                self._index.add_many(entries)
            else:
                for entry in entries:
                    self._ordered.add(entry)
                    self._index.add(entry)

    def commit(self, entries: list[StubEntry]) -> None:
        """Make staged entries live, as one change: each replaces the stub with its id."""
        with self._lock:
            for entry in entries:
                assert entry.stub.id is not None
                if entry.generation != self._generation:
                    continue  # the registry was cleared since it was staged
                old = self._entries.get(entry.stub.id)
                if old is not None and old is not entry:
                    self._drop(old)
                    self.weight -= old.weight
                if old is not entry:
                    self.weight += entry.weight
                self._entries[entry.stub.id] = entry
                entry.live = True

    def unstage(self, entries: list[StubEntry]) -> None:
        """Take back staged entries that were never committed."""
        with self._lock:
            for entry in entries:
                if not entry.live and entry.generation == self._generation:
                    self._drop(entry)

    def insert(self, entries: Iterable[StubEntry]) -> list[Stub]:
        """Register prepared stubs as one change: a stub with a known id replaces it
        (also one earlier in ``entries``)."""
        entries = list(entries)
        fresh = self.final(entries)
        self.stage(fresh)
        self.commit(fresh)
        return [entry.stub for entry in entries]

    def add(self, stub: Stub | Mapping[str, Any]) -> Stub:
        """Register a stub (a model or its dict form); a stub with a known id replaces it."""
        (model,) = self.insert(self.prepare([stub]))
        return model

    def add_many(self, stubs: Iterable[Stub | Mapping[str, Any]]) -> list[Stub]:
        """Register several stubs as one change: O(log n) each, one lock taken."""
        return self.insert(self.prepare(stubs))

    def _drop(self, entry: StubEntry) -> None:
        self._ordered.discard(entry)
        self._index.remove(entry)

    def remove(self, stub_id: str) -> bool:
        return not self.remove_many([stub_id])

    def remove_many(self, stub_ids: Iterable[str]) -> list[str]:
        """Remove the stubs with these ids as one change; the ids no stub has are
        returned, and then nothing is removed."""
        retired, unknown = self.retire(stub_ids)
        self.purge(retired)
        return unknown

    def retire(self, stub_ids: Iterable[str]) -> tuple[list[StubEntry], list[str]]:
        """Stop the stubs with these ids answering, as one change (O(1) each): their
        entries, to :meth:`purge` from the index, and no unknown ids; or, when some id
        is unknown, no entries and those ids, and nothing changes."""
        with self._lock:
            wanted = list(dict.fromkeys(stub_ids))
            unknown = [stub_id for stub_id in wanted if stub_id not in self._entries]
            if unknown:
                return [], unknown
            retired = [self._entries.pop(stub_id) for stub_id in wanted]
            for entry in retired:
                entry.live = False
                self.weight -= entry.weight
            return retired, []

    def purge(self, entries: Iterable[StubEntry]) -> None:
        """Take retired entries out of the index (O(log n) each; in pieces if many)."""
        with self._lock:
            for entry in entries:
                if not entry.live and entry.generation == self._generation:
                    self._drop(entry)

    def clear(self, *, states: bool = True) -> None:
        """Forget every stub, and (unless ``states=False``) every scenario state."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self.weight = 0
            self._ordered.clear()
            self._index.clear()
            if states:
                self.states.clear()

    def entries(self) -> list[StubEntry]:
        """Every stub, in the order they are tried."""
        with self._lock:
            return [entry for entry in self._ordered if entry.live]

    def get(self, stub_id: str) -> StubEntry | None:
        return self._entries.get(stub_id)

    def __len__(self) -> int:
        return len(self._entries)

    # --- states --------------------------------------------------------------------

    def state_key(self, entry: StubEntry, request: RecordedRequest) -> tuple[str, str]:
        spec = entry.stub.state
        assert spec is not None
        key = ""
        if spec.key is not None:
            key = render_text(spec.key, {"request": request.template_context()})
        return (spec.scenario, key)

    @staticmethod
    def key_too_large(entry: StubEntry, request: RecordedRequest) -> int | None:
        """How many bytes the stub's state key would render for ``request`` when that is
        more than :data:`MAX_STATE_KEY` (``{request.body}`` written a thousand times);
        ``None`` when it is within (the usual case costs one multiplication)."""
        references = entry.key_references
        if not references:
            return None
        template = entry.stub.state.key if entry.stub.state is not None else None
        assert template is not None  # it has references
        bound = sum(references.values()) * GROWTH * request.size + len(template)
        if bound <= MAX_STATE_KEY:
            return None
        context = {"request": request.template_context()}
        size = len(template) + rendered_size(references, context)
        return size if size > MAX_STATE_KEY else None

    def state_of(self, scenario: str, key: str = "") -> str:
        return self.states.get((scenario, key), INITIAL_STATE)

    def set_state(self, scenario: str, state: str, key: str = "") -> None:
        with self._lock:
            self.states[(scenario, key)] = state

    def _state_mismatch(self, entry: StubEntry, request: RecordedRequest) -> Mismatch | None:
        spec = entry.stub.state
        if spec is None:
            return None
        if (size := self.key_too_large(entry, request)) is not None:
            return Mismatch(
                "state.key", f"a key of at most {MAX_STATE_KEY:,} bytes", f"{size:,} bytes"
            )
        if spec.required is None:
            return None
        scenario, key = self.state_key(entry, request)
        current = self.state_of(scenario, key)
        if current == spec.required:
            return None
        where = f"{scenario}[{key}]" if key else scenario
        return Mismatch(f"state.{where}", repr(spec.required), repr(current))

    # --- answering -----------------------------------------------------------------

    def _best(self, request: RecordedRequest) -> StubEntry | None:
        """The first stub, in the order they are tried, that takes ``request``."""
        index = self._index
        best: StubEntry | None = None
        exact = index.exact(request.path)
        if exact:  # the usual case first, without building an iterator of lists
            for entry in exact:
                if (
                    entry.live
                    and entry.pattern.matches(request)
                    and self._state_allows(entry, request)
                ):
                    best = entry
                    break
        if not index.general_count:
            return best
        for bucket in index.general(request.path):
            for entry in bucket:
                if best is not None and entry.sort_key >= best.sort_key:
                    break  # this list holds nothing tried before the best so far
                if (
                    entry.live
                    and entry.pattern.matches(request)
                    and self._state_allows(entry, request)
                ):
                    best = entry
                    break
        return best

    def _state_allows(self, entry: StubEntry, request: RecordedRequest) -> bool:
        return not entry.stateful or self._state_mismatch(entry, request) is None

    def answer(self, request: RecordedRequest) -> Answer | None:
        """Choose the stub that answers ``request`` and advance its sequence and state."""
        with self._lock:
            entry = self._best(request)
            if entry is None:
                return None
            stub = entry.stub
            entry.calls += 1
            calls = entry.calls
            if stub.state is not None and stub.state.set is not None:
                self.states[self.state_key(entry, request)] = stub.state.set
        answers = entry.answers
        index = calls - 1
        note = None
        response: ResponseDef | None
        if index >= len(answers) and stub.when_exhausted == "cycle":
            index %= len(answers)
        elif index >= len(answers) and stub.when_exhausted == "repeat_last":
            index = len(answers) - 1
        if index < len(answers):
            response = answers[index]
        else:
            response = None
            note = (
                f"{stub.label()} has {len(answers)} response(s) and this was call {calls} "
                "(when_exhausted: fail)"
            )
        params = entry.pattern.path_params(request.path) if entry.pattern.captures else None
        return Answer(entry, response, index, params or NO_PARAMS, note)

    def near_candidates(
        self, request: RecordedRequest, limit: int = NEAR_MISS_CANDIDATES
    ) -> list[StubEntry]:
        """The stubs the near-miss report scores for ``request``: every stub when there
        are at most ``limit``; else at most ``limit`` of them, chosen without looking at
        the rest: first those the index gives for its path (in the order they are
        tried), then those whose literal path start shares the longest start with it."""
        with self._lock:
            if len(self._ordered) <= limit:
                return [entry for entry in self._ordered if entry.live]
            chosen: dict[int, StubEntry] = {}
            sources: Iterator[StubEntry] = itertools.chain(
                itertools.chain.from_iterable(self._index.candidates(request.path)),
                self._index.nearest(request.path),
            )
            for entry in sources:
                if not entry.live:
                    continue
                chosen.setdefault(id(entry), entry)
                if len(chosen) >= limit:
                    break
            return list(chosen.values())

    def difference(self, entry: StubEntry, request: RecordedRequest) -> list[Mismatch]:
        """All the ways ``request`` misses ``entry`` (state included), for reports."""
        out = entry.pattern.difference(request)
        state = self._state_mismatch(entry, request)
        if state is not None:
            out.append(state)
        return out
