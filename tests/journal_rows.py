"""Journal entries put in directly, as if the requests had come: for the dashboard's
tests, which need many rows between two looks of the live feed (no await between)."""

from __future__ import annotations

from datetime import datetime, timezone

from mockserver import MockServer
from mockserver.journal import RecordedRequest


def arrive(server: MockServer, path: str, count: int = 1) -> None:
    """``count`` ``GET path`` requests in ``server``'s journal, without a body."""
    for _ in range(count):
        server.journal.add(
            RecordedRequest(
                seq=server.journal.next_seq(),
                method="GET",
                path=path,
                query_string="",
                raw_headers=(),
                body=b"",
                received_at=datetime.now(timezone.utc),
            )
        )
