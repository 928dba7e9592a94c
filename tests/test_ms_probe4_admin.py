"""The admin API's long views let other clients in: ``GET /__admin/near-misses`` scores
up to 64 stubs for each unmatched request as it writes, and held the event loop for
seconds over a few thousand of them (every other client waited)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.journal import RecordedRequest


class Turns:
    """Counts the event loop's turns while it runs: ``at()`` is the turn now, so what a
    handler does between two turns can be counted, not timed."""

    def __init__(self) -> None:
        self.count = 0
        self._task: asyncio.Task[None] | None = None

    def at(self) -> int:
        return self.count

    async def _spin(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0)

    def __enter__(self) -> Turns:
        self._task = asyncio.create_task(self._spin())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_near_misses_turn_the_event_loop_between_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stubs = [
        {"request": {"method": "POST", "path": f"/lead/{n}", "headers": {"X-A": "1"}}}
        for n in range(80)
    ]
    async with MockServer(stubs=stubs) as server, httpx.AsyncClient(base_url=server.url) as client:
        for n in range(120):
            assert (await client.get(f"/lead/{n}")).status_code == 404
        turns = Turns()
        scored_at: list[int] = []
        original = server.near_misses

        def near_misses(request: RecordedRequest, limit: int = 3) -> Any:
            scored_at.append(turns.at())
            return original(request, limit)

        monkeypatch.setattr(server, "near_misses", near_misses)
        with turns:
            answer = await client.get("/__admin/near-misses")
        assert answer.status_code == 200
        unmatched = answer.json()["unmatched"]
        assert [item["request"]["path"] for item in unmatched] == [f"/lead/{n}" for n in range(120)]
        assert all(item["near_misses"] for item in unmatched)
        assert len(scored_at) == 120
        # Between two turns of the loop, at most one entry is scored.
        assert max(Counter(scored_at).values()) == 1, Counter(scored_at).most_common(3)


async def test_the_journal_view_turns_the_event_loop_as_it_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each entry's body is parsed again as it is shown (over 64 KiB, its views are not
    # kept): 64 entries of 1 MiB were 64 MiB parsed between two turns of the loop.
    body = b'{"k": "' + b"x" * 200_000 + b'"}'
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(20):
            await client.post("/big", content=body, headers={"Content-Type": "application/json"})
        turns = Turns()
        shown_at: list[int] = []
        original = RecordedRequest.to_json

        def to_json(self: RecordedRequest) -> dict[str, Any]:
            shown_at.append(turns.at())
            return original(self)

        monkeypatch.setattr(RecordedRequest, "to_json", to_json)
        with turns:
            answer = await client.get("/__admin/requests")
        assert [entry["json"] for entry in answer.json()["requests"]] == [{"k": "x" * 200_000}] * 20
        assert max(Counter(shown_at).values()) == 1, Counter(shown_at).most_common(3)


async def test_a_search_of_the_journal_turns_the_event_loop_as_it_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mockserver.matching import CompiledPattern
    from mockserver.verifying import TURN_ENTRIES

    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        for n in range(300):
            await client.get(f"/lead/{n}")
        turns = Turns()
        matched_at: list[int] = []
        original = CompiledPattern.matches

        def matches(self: CompiledPattern, request: RecordedRequest) -> bool:
            matched_at.append(turns.at())
            return original(self, request)

        monkeypatch.setattr(CompiledPattern, "matches", matches)
        with turns:
            answer = await client.post(
                "/__admin/requests/find", json={"path": "/lead/{n}", "method": "GET"}
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["count"] == 300
        assert len(matched_at) == 300
        assert max(Counter(matched_at).values()) <= TURN_ENTRIES, Counter(matched_at).most_common(3)
