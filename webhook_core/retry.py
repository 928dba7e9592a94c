"""The retry schedule as data, and a dispatcher of due times (rules E1, E6).

Nothing here sleeps. A pending retry is a due time; :class:`Dispatcher` keeps
them and runs what is due when asked. The clock is read as
``datetime.now(timezone.utc)`` so that freezegun moves it.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Final

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_SCHEDULE",
    "Dispatcher",
    "attempt_offsets",
    "now",
    "retry_delay",
]

#: E1: the waits after the 1st, 2nd, … 5th failure.
RETRY_SCHEDULE: Final[tuple[timedelta, ...]] = tuple(
    timedelta(seconds=seconds) for seconds in (5, 30, 60, 1800, 7200)
)
#: E1/E2: the first attempt and one per wait.
MAX_ATTEMPTS: Final = len(RETRY_SCHEDULE) + 1


def now() -> datetime:
    """The wall clock, aware, in UTC (E6). The one place ``webhook_core`` reads time."""
    return datetime.now(timezone.utc)


def retry_delay(failures: int, schedule: Sequence[timedelta] = RETRY_SCHEDULE) -> timedelta | None:
    """The wait after the ``failures``-th failed attempt, or ``None`` when retries ran out."""
    if failures < 1:
        raise ValueError(f"failures: got {failures!r}, expected 1 or more")
    return schedule[failures - 1] if failures <= len(schedule) else None


def attempt_offsets(
    schedule: Sequence[timedelta] = RETRY_SCHEDULE,
    durations: Sequence[timedelta] = (),
) -> tuple[timedelta, ...]:
    """When each attempt starts, from the first, if every attempt fails.

    Each wait counts from the end of the failed attempt (E1), so an attempt
    that took ``durations[i]`` pushes every later one. With instant answers:
    0, 5 s, 35 s, 1 min 35 s, 31 min 35 s, 2 h 31 min 35 s.
    """
    offsets = [timedelta(0)]
    for index, wait in enumerate(schedule):
        took = durations[index] if index < len(durations) else timedelta(0)
        offsets.append(offsets[-1] + took + wait)
    return tuple(offsets)


Job = Callable[[], Awaitable[object]]


class Dispatcher:
    """Due times and what to run at them; runs what is due at ``now()`` when asked (E6)."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Job]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, due: datetime, job: Job) -> None:
        """Run ``job`` once the clock reaches ``due``."""
        heapq.heappush(self._heap, (due, next(self._order), job))

    def next_due(self) -> datetime | None:
        """The earliest due time held, or ``None`` when nothing is pending."""
        return self._heap[0][0] if self._heap else None

    async def run_due(self, at: datetime | None = None) -> int:
        """Run, in due order, every job due at ``at`` (default: now); return how many ran.

        A job scheduled while this runs is run too if it is already due.
        """
        count = 0
        while self._heap and self._heap[0][0] <= (at or now()):
            _, _, job = heapq.heappop(self._heap)
            await job()
            count += 1
        return count

    def clear(self) -> None:
        """Forget every pending job."""
        self._heap.clear()
