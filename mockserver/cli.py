"""``mockserver``: serve stubs from files on a real socket, log each request, stop cleanly.

mockserver --stubs stubs.yaml --port 8080
python -m mockserver --help
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import json
import os
import re
import shutil
import signal
import ssl
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

from .errors import StubError
from .files import load_stub_files
from .models import Stub
from .server import MockServer

__all__ = ["build_parser", "main", "run"]

EXIT_BAD_INPUT = 2

_WHOLE = re.compile(r"[0-9]{1,18}")
_DECIMAL = re.compile(r"[0-9]{1,18}(\.[0-9]{0,18})?|\.[0-9]{1,18}")


class BadArguments(SystemExit):
    """An argument argparse refused: its one line is already written; exit status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_BAD_INPUT)
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse, with every error one line naming the option (no usage block above it:
    the line is what a user reads, and what a harness's log keeps)."""

    err: TextIO | None = None

    def error(self, message: str) -> NoReturn:
        from .journal import escape_text

        line = f"{self.prog}: {escape_text(message)}"
        print(line, file=self.err or sys.stderr, flush=True)
        raise BadArguments(line)


def _whole(least: int, most: int | None, expected: str) -> Callable[[str], int]:
    """An argparse type: ASCII digits only (``int()`` takes ``٨٠٨٠``, ``8_080``, ``+80``
    and `` 80 ``), within ``least``..``most``."""

    def parse(value: str) -> int:
        number = int(value) if _WHOLE.fullmatch(value) else None
        if number is None or number < least or (most is not None and number > most):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
        return number

    return parse


def _seconds(*, zero: bool) -> Callable[[str], float]:
    """An argparse type for seconds: ASCII digits and one '.', ``zero`` or more than it,
    less than 1e9 (``float()`` takes ``nan``, ``inf``, ``1_0`` and ``١``)."""
    expected = "seconds, 0 or more" if zero else "seconds, more than 0"

    def parse(value: str) -> float:
        number = float(value) if _DECIMAL.fullmatch(value) else None
        if number is None or (number <= 0 and not zero) or number >= 1e9:
            raise argparse.ArgumentTypeError(f"expected {expected} (such as 2.5), got {value!r}")
        return number

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The CLI's options; an error is one line naming the option, exit status 2."""
    parser = _Parser(
        prog="mockserver",
        description=(
            "A programmable HTTP mock server. Serves the stubs of the given files, "
            "records every request, and answers an unmatched request with 404 and the "
            "closest stubs. Admin API under /__admin/ (stubs, requests, near-misses, state, reset)."
        ),
        epilog="Example: mockserver --stubs stubs/crm.yaml --port 8080",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: 127.0.0.1; use 0.0.0.0 to expose it)",
    )
    parser.add_argument(
        "--port",
        type=_whole(0, 65535, "an integer 0-65535"),
        default=0,
        help="port to bind (default: 0, a free port, printed at start)",
    )
    parser.add_argument(
        "--stubs",
        nargs="+",
        action="extend",
        default=[],
        metavar="FILE",
        help="stub files, YAML or JSON, or directories of them (*.yaml, *.yml, *.json, "
        "read in name order); repeatable; every problem is reported and nothing "
        "is served if any file is wrong",
    )
    parser.add_argument(
        "--journal-cap",
        type=_whole(0, None, "a count, 0 or more (0: no limit)"),
        default=10_000,
        metavar="N",
        help="how many requests the journal keeps (default: 10000; 0: no limit)",
    )
    parser.add_argument(
        "--journal-bytes",
        type=_whole(0, None, "a number of bytes, 0 or more (0: no limit)"),
        default=128 * 1024 * 1024,
        metavar="BYTES",
        help="how many bytes the journal's entries may hold; the oldest go first "
        "(default: 134217728, 128 MiB; 0: no limit)",
    )
    parser.add_argument(
        "--journal-body-cap",
        type=_whole(0, None, "a number of bytes, 0 or more (0: no limit)"),
        default=1024 * 1024,
        metavar="BYTES",
        help="how much of one body the journal keeps; beyond it the body is counted and "
        "hashed (SHA-256), and matching still sees all of it (default: 1048576, 1 MiB; "
        "0: no limit)",
    )
    parser.add_argument(
        "--header-timeout",
        type=_seconds(zero=False),
        default=60.0,
        metavar="SECONDS",
        help="close a connection whose request headers have not all come in this long, "
        "and an idle kept-alive connection after this long (default: 60)",
    )
    parser.add_argument(
        "--body-timeout",
        type=_seconds(zero=False),
        default=60.0,
        metavar="SECONDS",
        help="answer 408 when a request body sends nothing for this long (default: 60)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=_seconds(zero=True),
        default=10.0,
        metavar="SECONDS",
        help="on Ctrl-C or SIGTERM, stop listening and let requests in flight finish for "
        "up to this long (default: 10)",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("MOCKSERVER_ADMIN_TOKEN") or None,
        metavar="TOKEN",
        help="require 'Authorization: Bearer TOKEN' on every admin request, from anywhere "
        "(for deliberate remote use; default: $MOCKSERVER_ADMIN_TOKEN, or none: the admin "
        "API then takes only requests naming this server in Host and Origin)",
    )
    parser.add_argument(
        "--admin-allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the admin API may also be reached by (Host and Origin), beside "
        "127.0.0.1, localhost, [::1] and the bound address; repeatable",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--crm",
        action="append",
        default=[],
        type=_crm_choice,
        metavar="{bitrix24,bitrix24:NAME,amocrm}",
        help="put a fake CRM on the far side (repeatable); its webhook URL is printed at start; "
        "bitrix24:NAME is one more Bitrix24 portal, at /bitrix24/NAME/",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate from a throwaway CA, whose file is printed "
        "(for clients that insist on HTTPS, such as b24pysdk: REQUESTS_CA_BUNDLE=that file)",
    )
    parser.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate")
    parser.add_argument("--tls-key", metavar="FILE", help="the key of --tls-cert")
    parser.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="keep the fake CRMs' records in SQLite files under DIR, so they survive a "
        "restart (default: in memory)",
    )
    parser.add_argument(
        "--amocrm-subdomain",
        default=None,
        metavar="NAME",
        help="the fake amoCRM account's subdomain (default: example)",
    )
    parser.add_argument(
        "--bitrix24-secret",
        default=None,
        metavar="SECRET",
        help="the fake Bitrix24 webhook's secret (default: random)",
    )
    parser.add_argument(
        "--bitrix24-plan",
        default=None,
        choices=["standard", "enterprise", "unlimited"],
        help="rate limit: standard 50 then 2/s, enterprise 250 then 5/s",
    )
    return parser


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
    if isinstance(parser, _Parser):
        parser.err = err
    try:
        args = parser.parse_args(argv)
    except BadArguments:
        return EXIT_BAD_INPUT
    path_problem = _stub_path_problem(args.stubs)
    if path_problem:
        print(f"mockserver: --stubs: {path_problem}", file=err)
        return EXIT_BAD_INPUT
    try:
        stubs = load_stub_files(args.stubs)
    except StubError as exc:
        print(_stub_error_text(exc), file=err)
        return EXIT_BAD_INPUT
    option_problem = _admin_option_problem(args)
    if option_problem:
        _say(err, f"{option_problem}")
        return EXIT_BAD_INPUT
    misplaced = _crm_options_without_crm(args)
    if misplaced:
        _say(err, f"{misplaced}")
        return EXIT_BAD_INPUT
    log = None if args.quiet else (lambda line: print(line, file=out, flush=True))
    try:
        context, ca_file = _tls(args)
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
        port = _remembered_port(args)
    except _KeptPortError as exc:
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
    problem = _mount_crms(server, args) if args.crm else ""
    if problem:
        _say(err, f"{problem}")
        return EXIT_BAD_INPUT
    _keep_port(args)  # only once the files are this server's: a refused one changes nothing
    try:
        asyncio.run(_serve(server, out))
    except OSError as exc:
        _say(err, f"{_listen_problem(args, server.port, exc)}")
        return EXIT_BAD_INPUT
    return 0


def _listen_problem(args: argparse.Namespace, port: int, exc: OSError) -> str:
    """Why the server could not listen, as one line naming the option to change."""
    import errno

    where = f"{args.host}:{port}" if ":" not in args.host else f"[{args.host}]:{port}"
    if exc.errno == errno.EADDRINUSE:
        kept = f" (the port kept in {args.data}/server.json)" if port != args.port else ""
        return (
            f"--port: cannot listen on {where}{kept}: the port is in use (another server, "
            "or this one still running); give another --port, or 0 for a free one"
        )
    if exc.errno == errno.EACCES:
        return f"--port: cannot listen on {where}: not allowed (ports below 1024 need root)"
    # aiohttp's own text repeats the address; the system's reason is what is news
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EADDRNOTAVAIL:
        reason = "this machine has no such address"
    return f"--host: cannot listen on {where}: {reason}"


def _stub_path_problem(paths: Sequence[str]) -> str:
    """A ``--stubs`` path that is missing or cannot be a stub file, as one line, or "".

    A pipe (``--stubs <(make-stubs)``) is read as a file; a device (``/dev/zero``) would
    be read without end, so it is refused."""
    import stat

    for name in paths:
        try:
            mode = os.stat(name).st_mode
        except OSError as exc:
            missing = isinstance(exc, FileNotFoundError)
            reason = "no such file or folder" if missing else (exc.strerror or str(exc))
            return f"{_escaped(name)}: cannot read: {reason}"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
            return f"{_escaped(name)}: not a file or folder of stubs (a device or socket)"
    return ""


def _stub_error_text(exc: StubError) -> str:
    """A stub file's problems: one line for one problem (``file:line: field: what``),
    else a head line and one line each; anything from a file name or a file escaped."""
    if len(exc.problems) == 1:
        return f"mockserver: {_escaped(str(exc.problems[0]))}"
    return "\n".join(
        [f"mockserver: {len(exc.problems)} problems in the stub files"]
        + [f"  {_escaped(str(problem))}" for problem in exc.problems]
    )


def _say(err: TextIO, problem: str) -> None:
    """One line on stderr: anything from the command line (a --host, a --data path) or
    from the system escaped, so no value can start a line of its own."""
    print(f"mockserver: {_escaped(problem)}", file=err)


def _escaped(text: str) -> str:
    from .journal import escape_text

    return escape_text(text)


def _remembered_port(args: argparse.Namespace) -> int:
    """With ``--data``, a ``--port`` given once is kept there: a restart without ``--port``
    binds it again, so the printed CRM URLs stay the same."""
    if args.data is None:
        return int(args.port)
    remembered = Path(args.data) / "server.json"
    if args.port:
        return int(args.port)
    try:
        text = remembered.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return 0  # no port kept yet (a --data that is a file is named when the CRMs mount)
    except UnicodeDecodeError:
        text = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _KeptPortError(f"{remembered}: cannot read the kept port: {reason}") from None
    try:
        port = json.loads(text)["port"] if text is not None else None
    except (ValueError, KeyError, TypeError):
        port = None
    # Served on another port without a word, the CRM URLs printed before would be wrong.
    if not (isinstance(port, int) and not isinstance(port, bool) and 0 < port <= 65535):
        got = "bytes that are not UTF-8" if text is None else repr(text.strip()[:60])
        raise _KeptPortError(
            f'{remembered}: expected the kept port, {{"port": 1-65535}}, got {got}; '
            "give --port N to keep a new one, or remove the file"
        )
    return port


class _KeptPortError(ValueError):
    """``server.json`` of a ``--data`` folder holds no port this server can use."""


def _keep_port(args: argparse.Namespace) -> None:
    """Keep a ``--port`` given with ``--data`` in ``server.json``, written whole (a file
    beside it, then renamed): a crash mid-write leaves the old one, never half of one.
    Written after the CRMs took their files, so a second server on the same ``--data``,
    which is refused, does not change the first one's port."""
    if args.data is None or not args.port:
        return
    remembered = Path(args.data) / "server.json"
    partial = remembered.with_name(f".server.json.{os.getpid()}")
    with contextlib.suppress(OSError):  # the records are kept; only the port would not be
        partial.write_text(json.dumps({"port": args.port}) + "\n", encoding="utf-8")
        os.replace(partial, remembered)
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)


def _crm_choice(value: str) -> str:
    """``--crm``: bitrix24, amocrm, or bitrix24:NAME (one more portal, a host-name label)."""
    from .models import CRM_SUBDOMAIN, CRM_SUBDOMAIN_TEXT

    if value in ("bitrix24", "amocrm"):
        return value
    kind, _, name = value.partition(":")
    if kind == "bitrix24" and value != kind:
        if CRM_SUBDOMAIN.fullmatch(name):
            return value
        raise argparse.ArgumentTypeError(
            f"the portal's name in {value!r}: expected {CRM_SUBDOMAIN_TEXT}"
        )
    raise argparse.ArgumentTypeError(
        f"invalid choice: {value!r} (choose from bitrix24, bitrix24:NAME, amocrm)"
    )


def _admin_option_problem(args: argparse.Namespace) -> str:
    """``--host``, ``--admin-token`` or ``--admin-allow-host`` that cannot work, as one line."""
    from .guard import host_name_problem, token_problem

    if not args.host.strip():
        return f"--host: expected an address such as 127.0.0.1 or 0.0.0.0, got {args.host!r}"
    try:  # what the resolver does first: a label of 64 characters, or 'a..b', raised there
        args.host.encode("idna")
    except UnicodeError:
        return (
            f"--host: expected an address such as 127.0.0.1 or 0.0.0.0, got {args.host!r} "
            "(a host name's parts between dots are 1 to 63 characters)"
        )
    for option, value in (
        ("--admin-token", args.admin_token),  # $MOCKSERVER_ADMIN_TOKEN empty is no token
        ("--data", args.data),
        ("--amocrm-subdomain", args.amocrm_subdomain),
        ("--bitrix24-secret", args.bitrix24_secret),
        ("--tls-cert", args.tls_cert),
        ("--tls-key", args.tls_key),
    ):
        if value == "":  # was taken as not given (a random secret, records in ".")
            return f"{option}: empty; give a value, or leave the option out for its default"
    if args.admin_token and (problem := token_problem(args.admin_token)):
        given = os.environ.get("MOCKSERVER_ADMIN_TOKEN") == args.admin_token
        return f"--admin-token{' (from $MOCKSERVER_ADMIN_TOKEN)' if given else ''}: {problem}"
    for name in args.admin_allow_host:
        if problem := host_name_problem(name):
            return f"--admin-allow-host: {problem}"
    return ""


def _crm_options_without_crm(args: argparse.Namespace) -> str:
    """An option for a fake CRM given without that CRM: say so rather than ignore it."""
    if args.data is not None and not args.crm:
        return "--data keeps the fake CRMs' records: give --crm bitrix24 or --crm amocrm too"
    kinds = {crm.partition(":")[0] for crm in args.crm}  # bitrix24:NAME is a bitrix24
    named: dict[str, str] = {}
    for crm in dict.fromkeys(args.crm):
        if crm.startswith("bitrix24:"):
            other = named.setdefault(crm.lower(), crm)
            if other != crm:  # their addresses differ, their --data files may not
                return (
                    f"--crm {other} and --crm {crm}: portal names are compared without "
                    "case (a host name's are, and so are file names on some systems)"
                )
    for option, value, crm, present in (
        ("--amocrm-subdomain", args.amocrm_subdomain, "amocrm", "amocrm" in kinds),
        # the first portal's secret; a named portal's is minted and kept in --data
        ("--bitrix24-secret", args.bitrix24_secret, "bitrix24", "bitrix24" in args.crm),
        ("--bitrix24-plan", args.bitrix24_plan, "bitrix24", "bitrix24" in kinds),
    ):
        if value is not None and not present:
            return f"{option} is for the fake {crm}: give --crm {crm} too"
    return ""


def _mount_crms(server: MockServer, args: argparse.Namespace) -> str:
    """Mount the fake CRMs of ``--crm``; a problem with their options as one line, or ""."""
    import sqlite3  # only the fake CRMs keep records (an idle stub server never loads it)

    from .crm.store import StoreError

    try:
        _mount_each_crm(server, args)
    except StoreError as exc:  # not SQLite, a newer layout, rows that are not ours
        return f"--data: cannot keep records in {args.data}: {exc}"
    except ValueError as exc:  # a --amocrm-subdomain or --bitrix24-secret that cannot work
        return str(exc)
    except OSError as exc:
        if isinstance(exc, (FileExistsError, NotADirectoryError)):  # mkdir's "File exists"
            return (
                f"--data: cannot keep records in {args.data}: it, or a folder above it, is a file"
            )
        return f"--data: cannot keep records in {args.data}: {exc.strerror or exc}"
    except sqlite3.Error as exc:  # a file there that is not a SQLite database
        return (
            f"--data: cannot keep records in {args.data}: {exc} "
            "(the folder holds a file of that name that is not one of ours)"
        )
    except (TypeError, AttributeError, KeyError, IndexError) as exc:
        if args.data is None:
            raise
        # What a profile keeps in its meta, of a shape this version does not write.
        return (
            f"--data: cannot keep records in {args.data}: a file there holds data this "
            f"version cannot read ({type(exc).__name__}: {exc})"
        )
    return ""


def _mount_each_crm(server: MockServer, args: argparse.Namespace) -> None:
    if "amocrm" in args.crm:
        from .crm import AmoCRM

        subdomain = args.amocrm_subdomain or "example"
        try:
            made = AmoCRM(subdomain=subdomain, data=args.data)
        except ValueError as exc:
            raise ValueError(f"--amocrm-{exc}") from None
        amo = server.mount(made)
        if not amo.tokens:
            amo.issue_token("cli")
    if "bitrix24" in args.crm:
        from .crm import Bitrix24

        plan = args.bitrix24_plan or "standard"
        try:
            portal = Bitrix24(secret=args.bitrix24_secret, plan=plan, data=args.data)
        except ValueError as exc:
            raise ValueError(f"--bitrix24-{exc}") from None
        server.mount(portal)
    for named in dict.fromkeys(c.partition(":")[2] for c in args.crm if c.startswith("bitrix24:")):
        from .crm import Bitrix24

        server.mount(Bitrix24(portal=named, plan=args.bitrix24_plan or "standard", data=args.data))


def _tls(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, str | None]:
    """An SSL context from ``--tls`` (a throwaway CA) or ``--tls-cert``/``--tls-key``."""
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise ValueError("--tls-cert and --tls-key: give both")
        if args.tls:
            raise ValueError(
                "--tls and --tls-cert: --tls makes a throwaway certificate; give one or the other"
            )
        for option, name in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
            try:
                with open(name, "rb"):
                    pass
            except OSError as exc:
                raise ValueError(f"{option} {_escaped(name)}: {exc.strerror or exc}") from None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.tls_cert, args.tls_key)
        except ssl.SSLError as exc:
            raise ValueError(
                f"--tls-cert/--tls-key: {_escaped(args.tls_cert)} and {_escaped(args.tls_key)} "
                f"are not a PEM certificate and its key ({exc.reason or 'unreadable'})"
            ) from None
        return context, None
    if not args.tls:
        return None, None
    import tempfile

    import trustme

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    hosts = sorted({args.host, "127.0.0.1", "localhost"} - {"0.0.0.0"})
    authority.issue_cert(*hosts).configure_cert(context)
    folder = tempfile.mkdtemp(prefix="mockserver-tls-")
    ca_file = f"{folder}/ca.pem"
    authority.cert_pem.write_to_path(ca_file)
    return context, ca_file


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())
