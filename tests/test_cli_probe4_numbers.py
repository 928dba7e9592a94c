"""The command line's numbers and errors (a fifth probe): ASCII numbers only, and every
error one line naming the option, exit status 2, as a real ``python -m mockserver``."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from mockserver.cli import build_parser, main

NUMERIC = [
    ("--port", "an integer 0-65535"),
    ("--journal-cap", "a count, 0 or more"),
    ("--journal-bytes", "a number of bytes, 0 or more"),
    ("--journal-body-cap", "a number of bytes, 0 or more"),
    ("--header-timeout", "seconds, more than 0"),
    ("--body-timeout", "seconds, more than 0"),
    ("--drain-timeout", "seconds, 0 or more"),
]

NOT_NUMBERS = [
    pytest.param("٨٠٨٠", id="arabic-indic"),  # int() reads it as 8080
    pytest.param("8_080", id="underscore"),  # int() reads it as 8080
    pytest.param("８０", id="fullwidth"),
    pytest.param("+80", id="plus"),
    pytest.param(" 80", id="space"),
    pytest.param("9" * 5000, id="5000-digits"),  # int() raises past 4300 digits
]


# A later check refuses this (``--data`` without ``--crm``), so a number that was taken
# makes the test fail on the message instead of starting a server that never stops.
TRIPWIRE = ["--data", "unused"]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("value", NOT_NUMBERS)
@pytest.mark.parametrize(("option", "expected"), NUMERIC, ids=[o for o, _ in NUMERIC])
def test_a_number_that_is_not_ascii_digits_is_refused_naming_the_option(
    option: str, expected: str, value: str
) -> None:
    err = io.StringIO()
    assert main([option, value, *TRIPWIRE], out=io.StringIO(), err=err) == 2
    (line,) = err.getvalue().splitlines()
    assert line.startswith(f"mockserver: argument {option}: expected {expected}")
    assert line.endswith(f", got {value!r}")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--header-timeout", "nan"),
        ("--body-timeout", "inf"),
        ("--drain-timeout", "1e3"),
        ("--drain-timeout", "١.٥"),
        ("--drain-timeout", "-1"),
        ("--header-timeout", "0"),
        ("--drain-timeout", "1000000000"),
    ],
)
def test_seconds_are_ascii_decimals_in_range(option: str, value: str) -> None:
    err = io.StringIO()
    assert main([option, value, *TRIPWIRE], out=io.StringIO(), err=err) == 2
    expected = "seconds, 0 or more" if option == "--drain-timeout" else "seconds, more than 0"
    assert err.getvalue() == (
        f"mockserver: argument {option}: expected {expected} (such as 2.5), got {value!r}\n"
    )


@pytest.mark.parametrize(
    ("value", "read"),
    [("8080", 8080), ("0", 0), ("0080", 80), ("65535", 65535)],
)
def test_plain_ports_still_read(value: str, read: int) -> None:
    assert build_parser().parse_args(["--port", value]).port == read


@pytest.mark.parametrize(("value", "read"), [("2.5", 2.5), ("10", 10.0), (".5", 0.5), ("3.", 3.0)])
def test_plain_seconds_still_read(value: str, read: float) -> None:
    assert build_parser().parse_args(["--drain-timeout", value]).drain_timeout == read


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        pytest.param(
            ["--port", "8_080"],
            "mockserver: argument --port: expected an integer 0-65535, got '8_080'",
            id="bad-number",
        ),
        pytest.param(
            ["--port", "70000"],
            "mockserver: argument --port: expected an integer 0-65535, got '70000'",
            id="out-of-range",
        ),
        pytest.param(
            ["--port"], "mockserver: argument --port: expected one argument", id="no-value"
        ),
        pytest.param(["--prot", "1"], "mockserver: unrecognized arguments: --prot 1", id="unknown"),
        pytest.param(
            ["--bitrix24-plan", "gold"],
            "mockserver: argument --bitrix24-plan: invalid choice: 'gold' "
            "(choose from 'standard', 'enterprise', 'unlimited')",
            id="choice",
        ),
        pytest.param(
            ["--crm", "x"],
            "mockserver: argument --crm: invalid choice: 'x' (choose from bitrix24, "
            "bitrix24:NAME, amocrm)",
            id="crm",
        ),
        pytest.param(
            ["--nope\x1b[31m\nforged"],
            "mockserver: unrecognized arguments: --nope\\x1b[31m\\x0aforged",
            id="controls-escaped",
        ),
    ],
)
def test_an_argument_error_is_one_line_without_the_usage_block(argv: list[str], line: str) -> None:
    done = _run(*argv)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == line + "\n"  # no "usage: mockserver [-h] ..." block before it


def test_help_is_unchanged() -> None:
    done = _run("--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: mockserver [-h]")
    assert "--drain-timeout SECONDS" in done.stdout
    assert done.stderr == ""


def test_the_parser_alone_still_exits_2_as_argparse_does() -> None:
    # build_parser() is public: a caller of parse_args() gets SystemExit(2), as from argparse.
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["--port", "x"])
    assert caught.value.code == 2
