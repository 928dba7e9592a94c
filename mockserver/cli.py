"""``mockserver``: serve stubs from files on a real socket, log each request, stop cleanly.

mockserver --stubs stubs.yaml --port 8080
python -m mockserver --help
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import io
import os
import shutil
import signal
import ssl
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TextIO, cast

from .cli_options import EXIT_BAD_INPUT, BadArguments, Parser, build_parser
from .cli_setup import (
    KeptPortError,
    admin_option_problem,
    crm_options_without_crm,
    escaped,
    keep_port,
    listen_problem,
    mount_crms,
    remembered_port,
    stub_error_text,
    stub_path_problem,
    tls,
)
from .errors import StubError
from .files import load_stub_files
from .models import Stub
from .server import MockServer

__all__ = ["build_parser", "main", "run"]


# Ctrl-C, SIGTERM, and SIGHUP (the terminal closed): each stops the server through its
# drain and ``finally`` (SIGHUP's default killed it where it stood, the throwaway CA left).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop_signals() -> tuple[int, ...]:
    """The signals that stop the server: SIGHUP left ignored when the server was started
    ignoring it (``nohup mockserver &`` outlives its terminal on purpose)."""
    return tuple(
        signum
        for signum in _STOP_SIGNALS
        if signum != signal.SIGHUP or signal.getsignal(signum) is not signal.SIG_IGN
    )


async def _serve(server: MockServer, out: TextIO) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = _stop_signals()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    print(
        f"mockserver listening on {server.url} with {len(server.registry)} stub(s); "
        f"admin API at {server.url}/__admin/, dashboard at {server.url}/__admin/ui/ "
        "(Ctrl-C to stop)",
        file=out,
        flush=True,
    )
    if server.host in ("0.0.0.0", "::", ""):
        print(
            "note: listening on every network interface: anyone who can reach this "
            "machine can read the journal and change the stubs (--host 127.0.0.1 keeps it "
            "local; --admin-token locks the admin API)",
            file=out,
            flush=True,
        )
    if server.admin_token:
        print(
            "admin API: every request needs 'Authorization: Bearer <the --admin-token>'",
            file=out,
            flush=True,
        )
    for profile in server.profiles:
        print(f"{profile.name}: {profile.describe(server.url)}", file=out, flush=True)
    try:
        await stop.wait()
        if server.drain_timeout > 0:
            print(
                f"mockserver stopping: no new connections; waiting up to "
                f"{server.drain_timeout:g} s for requests in flight (again to stop now)",
                file=out,
                flush=True,
            )
            for signum in signals:  # a second signal: stop now
                loop.add_signal_handler(signum, server.end_drain)
    finally:
        await server.stop()
        print(f"mockserver stopped after {len(server.journal)} request(s)", file=out, flush=True)


class _QueuedOutput(io.TextIOBase):
    """The CLI's output, written by a thread of its own: a reader that stops reading (a
    harness that started the server with ``stdout=PIPE`` and read only the banner) must
    never block the event loop, which printing there would, once the pipe is full.

    At most ``max_pending`` writes and ``max_bytes`` characters wait; past that, lines
    are dropped and counted, and the count is written when the reader catches up.
    """

    def __init__(
        self, out: TextIO, *, max_pending: int = 10_000, max_bytes: int = 8 * 1024 * 1024
    ) -> None:
        super().__init__()
        self._out = out
        self._pending: collections.deque[str] = collections.deque()
        self._size = 0
        self._dropped = 0
        self._limits = (max_pending, max_bytes)
        self._changed = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="mockserver-output", daemon=True)
        _start_deaf(self._thread)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._changed:
            if len(self._pending) >= self._limits[0] or self._size + len(text) > self._limits[1]:
                self._dropped += text.count("\n") or 1
                return len(text)
            self._pending.append(text)
            self._size += len(text)
            self._changed.notify()
        return len(text)

    def flush(self) -> None:
        """Nothing to do here: the thread flushes after each batch it writes."""

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closing:
                    self._changed.wait()
                if not self._pending:
                    return
                batch = "".join(self._pending)
                self._pending.clear()
                self._size = 0
                dropped, self._dropped = self._dropped, 0
            if dropped:
                batch = (
                    f"mockserver: {dropped} log line(s) dropped: the output was not being read\n"
                    + batch
                )
            try:
                self._out.write(batch)
                self._out.flush()
            except (OSError, ValueError):  # the reader is gone (a closed pipe)
                return

    def close(self) -> None:
        """Write what is waiting (for up to five seconds: a reader that never reads
        must not hold the exit either)."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join(5.0)
        super().close()


def _start_deaf(thread: threading.Thread) -> None:
    """Start ``thread`` with the stop signals blocked in it, so that the kernel gives them to
    the main thread. A signal the output thread took only set Python's flag, and a main
    thread blocked in a read (a ``--stubs`` pipe no one writes) never woke to act on it:
    Ctrl-C or SIGTERM while starting then hung the process, one time in four."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        thread.start()
        return
    previous = mask(signal.SIG_BLOCK, _STOP_SIGNALS)  # the new thread inherits the mask
    try:
        thread.start()
    finally:
        mask(signal.SIG_SETMASK, previous)


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the CLI; return the exit code (2 for bad input; 128 + the signal's number
    for Ctrl-C, SIGTERM or SIGHUP before the server was listening)."""
    queued = _QueuedOutput(out or sys.stdout)
    err = err or sys.stderr
    previous = _catch_early_signals()
    try:
        return _main(argv, cast(TextIO, queued), err)
    except _EarlySignal as exc:
        name = signal.Signals(exc.signum).name
        print(f"mockserver: {name} while starting: nothing was served", file=err, flush=True)
        return 128 + exc.signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        queued.close()


class _EarlySignal(BaseException):
    """Ctrl-C or SIGTERM before the event loop took the signals over."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_early_signal(signum: int, frame: object) -> None:
    raise _EarlySignal(signum)


def _catch_early_signals() -> dict[int, Any]:
    """Until the server listens (and the loop handles them), Ctrl-C, SIGTERM and SIGHUP end the
    start-up through ``finally`` (a throwaway CA is removed) with one line: SIGTERM's
    default killed the process where it stood, Ctrl-C printed a traceback."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, _raise_early_signal) for signum in _stop_signals()}


def _main(argv: Sequence[str] | None, out: TextIO, err: TextIO) -> int:
    parser = build_parser()
    if isinstance(parser, Parser):
        parser.err = err
    try:
        args = parser.parse_args(argv)
    except BadArguments:
        return EXIT_BAD_INPUT
    path_problem = stub_path_problem(args.stubs)
    if path_problem:
        print(f"mockserver: --stubs: {path_problem}", file=err)
        return EXIT_BAD_INPUT
    try:
        stubs = load_stub_files(args.stubs)
    except StubError as exc:
        print(stub_error_text(exc), file=err)
        return EXIT_BAD_INPUT
    option_problem = admin_option_problem(args)
    if option_problem:
        _say(err, f"{option_problem}")
        return EXIT_BAD_INPUT
    misplaced = crm_options_without_crm(args)
    if misplaced:
        _say(err, f"{misplaced}")
        return EXIT_BAD_INPUT
    log = None if args.quiet else (lambda line: print(line, file=out, flush=True))
    try:
        context, ca_file = tls(args)
    except ValueError as exc:
        _say(err, f"{exc}")
        return EXIT_BAD_INPUT
    except (OSError, ssl.SSLError) as exc:
        _say(err, f"--tls-cert/--tls-key: {exc}")
        return EXIT_BAD_INPUT
    try:
        return _run(args, stubs, log, context, ca_file, out, err)
    finally:
        if ca_file is not None:  # the throwaway CA goes with the server
            shutil.rmtree(os.path.dirname(ca_file), ignore_errors=True)


def _run(
    args: argparse.Namespace,
    stubs: list[Stub],
    log: Callable[[str], None] | None,
    context: ssl.SSLContext | None,
    ca_file: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    try:
        port = remembered_port(args)
    except KeptPortError as exc:
        _say(err, f"--data: {exc}")
        return EXIT_BAD_INPUT
    server = MockServer(
        stubs,
        host=args.host,
        port=port,
        journal_cap=args.journal_cap or None,
        journal_bytes=args.journal_bytes or None,
        journal_body_cap=args.journal_body_cap or None,
        log=log,
        ssl_context=context,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        drain_timeout=args.drain_timeout,
        admin_token=args.admin_token,
        admin_hosts=args.admin_allow_host,
    )
    if ca_file is not None:
        print(
            f"TLS: the certificate's CA is {ca_file} (REQUESTS_CA_BUNDLE={ca_file})",
            file=out,
            flush=True,
        )
    problem = mount_crms(server, args) if args.crm else ""
    if problem:
        _say(err, f"{problem}")
        return EXIT_BAD_INPUT
    keep_port(args)  # only once the files are this server's: a refused one changes nothing
    try:
        asyncio.run(_serve(server, out))
    except OSError as exc:
        _say(err, f"{listen_problem(args, server.port, exc)}")
        return EXIT_BAD_INPUT
    return 0


def _say(err: TextIO, problem: str) -> None:
    """One line on stderr: anything from the command line (a --host, a --data path) or
    from the system escaped, so no value can start a line of its own."""
    print(f"mockserver: {escaped(problem)}", file=err)


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())
