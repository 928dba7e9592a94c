"""``mockserver``: serve stubs from files on a real socket, log each request, stop cleanly.

mockserver --stubs stubs.yaml --port 8080
python -m mockserver --help
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
import sys
from collections.abc import Sequence
from typing import TextIO

from .errors import StubError
from .files import load_stub_files
from .server import MockServer

__all__ = ["build_parser", "main", "run"]

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        type=int,
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
        type=int,
        default=10_000,
        metavar="N",
        help="how many requests the journal keeps (default: 10000; 0: no limit)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--crm",
        action="append",
        default=[],
        choices=["bitrix24", "amocrm"],
        help="put a fake CRM on the far side (repeatable); its webhook URL is printed at start",
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


async def _serve(server: MockServer, out: TextIO) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
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
            "machine can read the journal and change the stubs (--host 127.0.0.1 keeps it local)",
            file=out,
            flush=True,
        )
    for profile in server.profiles:
        print(f"{profile.name}: {profile.describe(server.url)}", file=out, flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
        print(f"mockserver stopped after {len(server.journal)} request(s)", file=out, flush=True)


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the CLI; return the exit code (2 for bad input)."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        stubs = load_stub_files(args.stubs)
    except StubError as exc:
        print(f"mockserver: {exc}", file=err)
        return EXIT_BAD_INPUT
    if not 0 <= args.port <= 65535:
        print(f"mockserver: --port: expected 0 to 65535, got {args.port}", file=err)
        return EXIT_BAD_INPUT
    if args.journal_cap < 0:
        print(
            f"mockserver: --journal-cap: expected a count (0 for no limit), got {args.journal_cap}",
            file=err,
        )
        return EXIT_BAD_INPUT
    misplaced = _crm_options_without_crm(args)
    if misplaced:
        print(f"mockserver: {misplaced}", file=err)
        return EXIT_BAD_INPUT
    log = None if args.quiet else (lambda line: print(line, file=out, flush=True))
    try:
        context, ca_file = _tls(args)
    except (OSError, ssl.SSLError, ValueError) as exc:
        print(f"mockserver: --tls-cert/--tls-key: {exc}", file=err)
        return EXIT_BAD_INPUT
    server = MockServer(
        stubs,
        host=args.host,
        port=args.port,
        journal_cap=args.journal_cap or None,
        log=log,
        ssl_context=context,
    )
    if ca_file is not None:
        print(
            f"TLS: the certificate's CA is {ca_file} (REQUESTS_CA_BUNDLE={ca_file})",
            file=out,
            flush=True,
        )
    try:
        _mount_crms(server, args)
    except ValueError as exc:  # a --amocrm-subdomain or --bitrix24-secret that cannot work
        print(f"mockserver: {exc}", file=err)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(
            f"mockserver: --data: cannot keep records in {args.data}: {exc.strerror or exc}",
            file=err,
        )
        return EXIT_BAD_INPUT
    try:
        asyncio.run(_serve(server, out))
    except OSError as exc:
        print(
            f"mockserver: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=err
        )
        return 1
    return 0


def _crm_options_without_crm(args: argparse.Namespace) -> str:
    """An option for a fake CRM given without that CRM: say so rather than ignore it."""
    if args.data is not None and not args.crm:
        return "--data keeps the fake CRMs' records: give --crm bitrix24 or --crm amocrm too"
    for option, value, crm in (
        ("--amocrm-subdomain", args.amocrm_subdomain, "amocrm"),
        ("--bitrix24-secret", args.bitrix24_secret, "bitrix24"),
        ("--bitrix24-plan", args.bitrix24_plan, "bitrix24"),
    ):
        if value is not None and crm not in args.crm:
            return f"{option} is for the fake {crm}: give --crm {crm} too"
    return ""


def _mount_crms(server: MockServer, args: argparse.Namespace) -> None:
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


def _tls(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, str | None]:
    """An SSL context from ``--tls`` (a throwaway CA) or ``--tls-cert``/``--tls-key``."""
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise ValueError("give both --tls-cert and --tls-key")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
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
