"""The journal's byte budget holds what the journal holds: a body's parsed views, kept
between reads, are counted when they are kept, and not kept when they would cost far
more than the body (``[{},{},…]`` of 60 KB parses to 1.5 MB, which the budget did not
see: 600 such requests under a 32 MiB budget took 880 MB)."""

from __future__ import annotations

import gc
import tracemalloc

import httpx

from mockserver import MockServer

JSON = {"Content-Type": "application/json"}


async def test_bodies_that_parse_large_stay_within_the_budget() -> None:
    body = b"[" + b",".join([b"{}"] * 10_000) + b"]"  # 30 KB, 10 001 objects parsed
    budget = 4 * 1024 * 1024
    stubs = [{"request": {"path": "/j", "json_paths": {"0.a": 1}}}]  # reads the JSON
    async with MockServer(stubs=stubs, journal_bytes=budget) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.post("/j", content=body, headers=JSON)).status_code == 404
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for _ in range(200):
                    await client.post("/j", content=body, headers=JSON)
                gc.collect()
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
        journal = server.journal
        assert journal.dropped > 0  # the budget was reached
        assert journal.bytes <= budget
        assert journal.bytes == sum(entry.size for entry in journal.entries())
        # What the journal holds is near its budget, not twenty times it.
        assert grown < 3 * budget, f"{grown:,} bytes grown under a {budget:,} budget"
        # A later read parses the body again, as ever.
        assert server.find({"json_paths": {"0": {}}})


async def test_small_bodies_keep_their_views_and_count_them() -> None:
    async with MockServer(journal_bytes=None) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.post("/a", content=b'{"a": [1, 2, 3]}', headers=JSON)
            await client.post("/a", content=b'{"a": [1, 2, 3]}', headers=JSON)
        small, other = server.journal.entries()
        assert small.json == {"a": [1, 2, 3]}
        # The second, never parsed, costs the same: its views are counted before use.
        assert small.size == other.size
        assert small.size > 1024 + len(small.body) + sum(
            len(name) + len(value) for name, value in small.raw_headers
        ) + 2 * len(small.path)


def test_the_inline_views_estimate_on_the_hot_path_is_views_cost() -> None:
    # received() works views_cost out inline (a call a request cost 1% of the POST path):
    # the two must agree, or the journal's budget counts one thing and keeps another.
    from datetime import datetime, timezone

    from mockserver.journal import RecordedRequest, views_cost

    when = datetime.now(timezone.utc)
    for body in (
        b'{"a": [1, 2, 3]}',
        b"a=1&b=2",
        b"[" + b",".join([b"{}"] * 900) + b"]",  # past 64 KiB of views: none kept
        b"x" * (32 * 1024 + 1),  # past the size whose views may be kept
        b"plain",
    ):
        made = RecordedRequest.received(1, "POST", "/p", "", (), body, when)
        assert made.views_size == views_cost(body), body[:20]
        assert made.size == made.views_size + len(body) + 1024 + 2 * len("/p")
