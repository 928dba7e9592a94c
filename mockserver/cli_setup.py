"""What the ``mockserver`` command checks and builds before it serves: the stub paths,
the admin and CRM options, the port kept in a ``--data`` folder, the fake CRMs to mount,
TLS; each problem as one line naming the option or file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import ssl
from collections.abc import Sequence
from pathlib import Path

from .errors import StubError
from .server import MockServer

__all__ = [
    "KeptPortError",
    "admin_option_problem",
    "crm_options_without_crm",
    "escaped",
    "keep_port",
    "listen_problem",
    "mount_crms",
    "remembered_port",
    "stub_error_text",
    "stub_path_problem",
    "tls",
]


def listen_problem(args: argparse.Namespace, port: int, exc: OSError) -> str:
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


def stub_path_problem(paths: Sequence[str]) -> str:
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
            return f"{escaped(name)}: cannot read: {reason}"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
            return f"{escaped(name)}: not a file or folder of stubs (a device or socket)"
    return ""


def stub_error_text(exc: StubError) -> str:
    """A stub file's problems: one line for one problem (``file:line: field: what``),
    else a head line and one line each; anything from a file name or a file escaped."""
    if len(exc.problems) == 1:
        return f"mockserver: {escaped(str(exc.problems[0]))}"
    return "\n".join(
        [f"mockserver: {len(exc.problems)} problems in the stub files"]
        + [f"  {escaped(str(problem))}" for problem in exc.problems]
    )


def remembered_port(args: argparse.Namespace) -> int:
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
        raise KeptPortError(f"{remembered}: cannot read the kept port: {reason}") from None
    try:
        port = json.loads(text)["port"] if text is not None else None
    except (ValueError, KeyError, TypeError):
        port = None
    # Served on another port without a word, the CRM URLs printed before would be wrong.
    if not (isinstance(port, int) and not isinstance(port, bool) and 0 < port <= 65535):
        got = "bytes that are not UTF-8" if text is None else repr(text.strip()[:60])
        raise KeptPortError(
            f'{remembered}: expected the kept port, {{"port": 1-65535}}, got {got}; '
            "give --port N to keep a new one, or remove the file"
        )
    return port


class KeptPortError(ValueError):
    """``server.json`` of a ``--data`` folder holds no port this server can use."""


def keep_port(args: argparse.Namespace) -> None:
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


def admin_option_problem(args: argparse.Namespace) -> str:
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


def crm_options_without_crm(args: argparse.Namespace) -> str:
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


def mount_crms(server: MockServer, args: argparse.Namespace) -> str:
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


def tls(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, str | None]:
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
                raise ValueError(f"{option} {escaped(name)}: {exc.strerror or exc}") from None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.tls_cert, args.tls_key)
        except ssl.SSLError as exc:
            raise ValueError(
                f"--tls-cert/--tls-key: {escaped(args.tls_cert)} and {escaped(args.tls_key)} "
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


def escaped(text: str) -> str:
    from .journal import escape_text

    return escape_text(text)
