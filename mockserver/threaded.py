"""Serving from a thread with its own event loop, for synchronous code and tests:
``with MockServer() as server:`` starts it there and stops it on the way out."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

__all__ = ["InThread"]


class InThread:
    """``start_in_thread``/``stop_thread`` and ``with``, for a class whose ``start()``
    and ``stop()`` are coroutines. Its ``stop()`` is told, through :attr:`_loop`, which
    loop it runs on, so that a test's own loop can stop it there."""

    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> Any:  # pragma: no cover - the server's own
        raise NotImplementedError

    async def stop(self) -> None:  # pragma: no cover - the server's own
        raise NotImplementedError

    def start_in_thread(self) -> Self:
        """Start serving from a thread with its own event loop; return once it serves
        (or raise what starting raised). It waits as long as starting takes: a loaded
        machine is slow, not wrong (a 30 s wait returned a server not yet serving)."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            try:
                loop.run_until_complete(self.stop())
            finally:
                _close_loop(loop)

        thread = threading.Thread(target=serve, name="mockserver", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._thread, self._loop = thread, loop
        return self

    def stop_thread(self) -> None:
        """Stop serving and wait for the thread: its drain is bounded by the server's own
        ``drain_timeout`` (a 30 s join let a slow drain run on beside the next start)."""
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._thread = self._loop = None

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Close a server thread's loop as ``asyncio.run`` closes its own: cancel what is
    still running there and let it end first. A connection's handler that aiohttp's
    shutdown had not yet seen end (a client that sent a refused body and then another
    request) was destroyed pending, and Python printed "Task was destroyed but it is
    pending!" into the user's test output."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
