"""``webhook-try`` prints what a far side wrote (the status line's reason, header values,
the body, what is saved and every ``--show``): an ANSI escape, a CR, a C1 control or a
bidi override in any of them reached the terminal raw, so a handler could clear the
screen, retitle the window, recolour or hide lines of the person trying an action."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from webhook_core.cli import main
from webhook_core.tryout import for_terminal

#: Clear the screen, retitle the window, a one-character CSI, a lone CR, a bidi override.
HOSTILE = "\x1b[2J\x1b]0;owned\x07\u009b31m paid\rnot \u202eyap"
SAFE = "\\x1b[2J\\x1b]0;owned\\x07\\x9b31m paid\\rnot \\u202eyap"
UNSAFE = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


def _answer(reason: bytes, header: bytes, body: bytes, status: int = 200) -> bytes:
    return (
        b"HTTP/1.1 %d OK" % status
        + reason
        + b"\r\nX-Evil: "
        + header
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n" % len(body)
        + b"Connection: close\r\n\r\n"
        + body
    )


@pytest.fixture
def far_side() -> Iterator[tuple[str, list[bytes]]]:
    """A real socket that answers each request with the answer in the list (set by the test)."""
    answers: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            if stop.is_set():
                connection.close()
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                connection.sendall(answers[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/x", answers
    finally:
        stop.set()
        socket.create_connection(listener.getsockname()).close()  # wakes accept() to see stop
        thread.join()
        listener.close()


def _run(tmp_path: Path, url: str, *extra: str) -> tuple[int, str, str]:
    action = tmp_path / "a.yaml"
    action.write_text(
        f'url: "{url}"\nmethod: POST\nsave_to: r\nparams:\n  - v: "{{v}}"\n', encoding="utf-8"
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [str(action), "--var", f"v={HOSTILE}", "--show", "{r}", *extra], stdout=out, stderr=err
    )
    return code, out.getvalue(), err.getvalue()


def test_a_hostile_answer_never_reaches_the_terminal_raw(
    tmp_path: Path, far_side: tuple[str, list[bytes]]
) -> None:
    url, answers = far_side
    line = HOSTILE.replace("\r", "").encode()  # a header or a status line cannot hold CR
    answers.append(_answer(line, line, HOSTILE.encode()))
    code, out, err = _run(tmp_path, url)
    assert code == 0
    for character in UNSAFE:
        assert character not in out
        assert character not in err
    assert f"< X-Evil: {SAFE.replace(chr(92) + 'r', '')}" in out
    assert f"saved into {{r}} (text): {SAFE}" in out
    assert f"{{r}} → {SAFE}" in out


def test_a_failed_answers_body_and_reason_are_escaped_too(
    tmp_path: Path, far_side: tuple[str, list[bytes]]
) -> None:
    url, answers = far_side
    answers.append(_answer(b" \x1b[8m", b"x", HOSTILE.encode(), status=500))
    code, out, err = _run(tmp_path, url)
    assert code == 1
    for character in UNSAFE:
        assert character not in out + err
    assert "\\x1b[8m" in out


def test_json_escapes_them_and_reads_back_exactly(
    tmp_path: Path, far_side: tuple[str, list[bytes]]
) -> None:
    url, answers = far_side
    answers.append(_answer(b"", b"x", HOSTILE.encode()))
    code, out, _ = _run(tmp_path, url, "--json")
    assert code == 0
    for character in UNSAFE:
        assert character not in out
    document = json.loads(out)
    assert document["saved"]["value"] == HOSTILE
    assert document["shows"][0]["text"] == HOSTILE


def test_a_dry_run_escapes_the_request_it_shows(tmp_path: Path) -> None:
    code, out, _ = _run(tmp_path, "http://127.0.0.1:9/x", "--dry-run")
    assert code == 0
    for character in UNSAFE:
        assert character not in out
    assert "#   v = " + SAFE in out


def test_an_error_line_is_escaped(tmp_path: Path) -> None:
    action = tmp_path / "a.yaml"
    action.write_text('url: "http://127.0.0.1:9/x"\nmethod: "FE\u202eTCH"\n', encoding="utf-8")
    err = io.StringIO()
    assert main([str(action), "--dry-run"], stdout=io.StringIO(), stderr=err) == 2
    assert "\u202e" not in err.getvalue()
    assert "\\u202e" in err.getvalue()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("Анна\tи\nПётр", "Анна\tи\nПётр", id="tab-newline-cyrillic-kept"),
        pytest.param("a\r\nb", "a\\r\nb", id="crlf"),
        pytest.param("\x00\x7f\x85", "\\x00\\x7f\\x85", id="nul-del-c1"),
        pytest.param("\u2066x\u2069\u200f", "\\u2066x\\u2069\\u200f", id="isolates-marks"),
        pytest.param("emoji 😀 é", "emoji 😀 é", id="printable-kept"),
    ],
)
def test_for_terminal(text: str, shown: str) -> None:
    assert for_terminal(text) == shown
