"""The stub registry: which stub answers a request, with what, and the scenario states.

Stubs are kept sorted by (priority, newest first). Those with an exact path
are indexed by it, so finding the answer costs a dict lookup plus the stubs
whose path is a template or a regex, whatever the number of stubs. Reads take
a snapshot, writes replace it under a lock: the server's thread and the
test's thread may both use the registry.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .journal import NO_PARAMS, RecordedRequest
from .matching import CompiledPattern, Mismatch
from .models import ResponseDef, Stub
from .responding import Prepared, prepare
from .templating import render_text

__all__ = ["INITIAL_STATE", "Answer", "StubEntry", "StubRegistry"]

INITIAL_STATE = "Started"


@dataclass(eq=False)
class StubEntry:
    """A registered stub, its compiled pattern and how often it has answered."""

    stub: Stub
    pattern: CompiledPattern
    order: int
    calls: int = 0
    prepared: list[Prepared] = field(default_factory=list)

    answers: list[ResponseDef] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.answers = self.stub.answers
        self.prepared = [prepare(answer) for answer in self.answers]

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.stub.priority, -self.order)


@dataclass(slots=True)
class Answer:
    """What the chosen stub answers: the response to give (``None``: its sequence ran out)."""

    entry: StubEntry
    response: ResponseDef | None
    index: int = 0
    path_params: Mapping[str, str] = field(default_factory=lambda: NO_PARAMS)
    note: str | None = None


class StubRegistry:
    """Stubs in priority order, sequences, and scenario states."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._order = itertools.count()
        self._entries: dict[str, StubEntry] = {}
        self._by_path: dict[str, list[StubEntry]] = {}
        self._general: list[StubEntry] = []
        self.states: dict[tuple[str, str], str] = {}

    # --- changing the set of stubs -------------------------------------------------

    def add(self, stub: Stub | Mapping[str, Any]) -> Stub:
        """Register a stub (a model or its dict form); a stub with a known id replaces it."""
        model = stub if isinstance(stub, Stub) else Stub.model_validate(stub)
        if model.id is None:
            model = model.model_copy(update={"id": uuid.uuid4().hex[:8]})
        assert model.id is not None
        entry = StubEntry(model, CompiledPattern(model.request), next(self._order))
        with self._lock:
            self._entries[model.id] = entry
            self._rebuild()
        return model

    def remove(self, stub_id: str) -> bool:
        with self._lock:
            found = self._entries.pop(stub_id, None) is not None
            self._rebuild()
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.states.clear()
            self._rebuild()

    def _rebuild(self) -> None:
        by_path: dict[str, list[StubEntry]] = {}
        general: list[StubEntry] = []
        for entry in sorted(self._entries.values(), key=lambda e: e.sort_key):
            if entry.pattern.exact_path is not None:
                by_path.setdefault(entry.pattern.exact_path, []).append(entry)
            else:
                general.append(entry)
        self._by_path, self._general = by_path, general

    def entries(self) -> list[StubEntry]:
        """Every stub, in the order they are tried."""
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: e.sort_key)

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

    def state_of(self, scenario: str, key: str = "") -> str:
        return self.states.get((scenario, key), INITIAL_STATE)

    def set_state(self, scenario: str, state: str, key: str = "") -> None:
        with self._lock:
            self.states[(scenario, key)] = state

    def _state_mismatch(self, entry: StubEntry, request: RecordedRequest) -> Mismatch | None:
        spec = entry.stub.state
        if spec is None or spec.required is None:
            return None
        scenario, key = self.state_key(entry, request)
        current = self.state_of(scenario, key)
        if current == spec.required:
            return None
        where = f"{scenario}[{key}]" if key else scenario
        return Mismatch(f"state.{where}", repr(spec.required), repr(current))

    # --- answering -----------------------------------------------------------------

    def _first_match(
        self, candidates: list[StubEntry], request: RecordedRequest
    ) -> StubEntry | None:
        for entry in candidates:
            if entry.pattern.matches(request) and self._state_mismatch(entry, request) is None:
                return entry
        return None

    def answer(self, request: RecordedRequest) -> Answer | None:
        """Choose the stub that answers ``request`` and advance its sequence and state."""
        candidates = self._by_path.get(request.path)
        exact = self._first_match(candidates, request) if candidates else None
        general = self._first_match(self._general, request) if self._general else None
        if exact is None or (general is not None and general.sort_key < exact.sort_key):
            exact = general
        if exact is None:
            return None
        entry = exact
        stub = entry.stub
        with self._lock:
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

    def difference(self, entry: StubEntry, request: RecordedRequest) -> list[Mismatch]:
        """All the ways ``request`` misses ``entry`` (state included), for reports."""
        out = entry.pattern.difference(request)
        state = self._state_mismatch(entry, request)
        if state is not None:
            out.append(state)
        return out
