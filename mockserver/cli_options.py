"""The ``mockserver`` command's options: the parser, each option's type (ASCII digits in
range, seconds, a CRM's name), and a usage error as one line naming the option."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from typing import NoReturn, TextIO

__all__ = ["EXIT_BAD_INPUT", "BadArguments", "Parser", "build_parser"]

#: The exit status of a usage or input error (argparse's, and every start-up problem).
EXIT_BAD_INPUT = 2

_WHOLE = re.compile(r"[0-9]{1,18}")
_DECIMAL = re.compile(r"[0-9]{1,18}(\.[0-9]{0,18})?|\.[0-9]{1,18}")


class BadArguments(SystemExit):
    """An argument argparse refused: its one line is already written; exit status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_BAD_INPUT)
        self.message = message


class Parser(argparse.ArgumentParser):
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
    parser = Parser(
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
