"""The retry schedule and the dispatcher (rules E1, E6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from webhook_core import MAX_ATTEMPTS, RETRY_SCHEDULE, Dispatcher, attempt_offsets, retry_delay

START = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


@pytest.mark.rule("E1")
def test_schedule_is_the_documented_data() -> None:
    assert tuple(delay.total_seconds() for delay in RETRY_SCHEDULE) == (5, 30, 60, 1800, 7200)
    assert MAX_ATTEMPTS == 6


@pytest.mark.rule("E1")
@pytest.mark.parametrize(
    ("failures", "delay"),
    [(1, 5), (2, 30), (3, 60), (4, 1800), (5, 7200), (6, None), (9, None)],
)
def test_delay_after_each_failure(failures: int, delay: int | None) -> None:
    expected = None if delay is None else timedelta(seconds=delay)
    assert retry_delay(failures) == expected


def test_delay_before_any_failure_is_an_error() -> None:
    with pytest.raises(ValueError, match="failures"):
        retry_delay(0)


@pytest.mark.rule("E1")
def test_offsets_with_instant_answers() -> None:
    assert [offset.total_seconds() for offset in attempt_offsets()] == [0, 5, 35, 95, 1895, 9095]


@pytest.mark.rule("E1")
def test_each_wait_counts_from_the_end_of_the_attempt() -> None:
    took = [timedelta(seconds=2)] * 5
    assert [offset.total_seconds() for offset in attempt_offsets(durations=took)] == [
        0,
        7,
        39,
        101,
        1903,
        9105,
    ]


@pytest.mark.rule("E6")
async def test_dispatcher_runs_only_what_is_due_in_order() -> None:
    ran: list[str] = []
    dispatcher = Dispatcher()

    def job(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            ran.append(name)

        return run

    with freeze_time(START, real_asyncio=True) as clock:
        dispatcher.schedule(START + timedelta(seconds=30), job("b"))
        dispatcher.schedule(START + timedelta(seconds=5), job("a"))
        dispatcher.schedule(START + timedelta(hours=2), job("c"))
        assert await dispatcher.run_due() == 0
        assert dispatcher.next_due() == START + timedelta(seconds=5)
        clock.move_to(START + timedelta(seconds=30))
        assert await dispatcher.run_due() == 2
        assert ran == ["a", "b"]
        assert len(dispatcher) == 1
        clock.move_to(START + timedelta(hours=3))
        assert await dispatcher.run_due() == 1
        assert dispatcher.next_due() is None
    assert ran == ["a", "b", "c"]


@pytest.mark.rule("E6")
async def test_dispatcher_never_sleeps() -> None:
    # Two hours of due time pass in no real time: the frozen clock is moved, not waited on.
    dispatcher = Dispatcher()
    done: list[bool] = []

    async def job() -> None:
        done.append(True)

    with freeze_time(START, real_asyncio=True) as clock:
        dispatcher.schedule(START + timedelta(hours=2), job)
        clock.tick(timedelta(hours=2))
        await dispatcher.run_due()
    assert done == [True]
