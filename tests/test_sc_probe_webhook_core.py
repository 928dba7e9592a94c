"""webhook_core under hostile input: a deep parameter name, an answer's lone surrogate."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from webhook_core import ConfigurationError, Method, WebhookAction, parse_body, prepare_request
from webhook_core.cli import main
from webhook_core.nesting import MAX_SEGMENTS

URL = "http://127.0.0.1:9/x"


@pytest.mark.rule("A4")
@pytest.mark.parametrize("method", [pytest.param(m, id=m.value) for m in Method])
@pytest.mark.parametrize(
    "segments",
    [pytest.param(MAX_SEGMENTS + 1, id="one-too-many"), pytest.param(5000, id="thousands")],
)
def test_a_name_deeper_than_the_limit_is_a_configuration_error(
    method: Method, segments: int
) -> None:
    # It was a RecursionError out of nest() for GET, POST and JSON POST alike.
    name = ".".join(["a"] * segments)
    with pytest.raises(ConfigurationError) as caught:
        WebhookAction(url=URL, method=method, params=[("ok", "1"), (name, "v")])
    assert caught.value.field == "params[1].name"
    assert f"at most {MAX_SEGMENTS} dot-separated segments" in str(caught.value)


@pytest.mark.rule("C1")
def test_a_name_at_the_limit_is_nested_that_deep() -> None:
    action = WebhookAction(
        url=URL, method=Method.JSON_POST, params=[(".".join(["a"] * MAX_SEGMENTS), "v")]
    )
    body = prepare_request(action, {}).body
    assert body is not None
    data = json.loads(body)
    for _ in range(MAX_SEGMENTS - 1):
        data = data["a"]
    assert data == {"a": "v"}


@pytest.mark.rule("D2")
@pytest.mark.parametrize("method", [pytest.param(m, id=m.value) for m in Method])
def test_an_answers_unpaired_surrogate_is_saved_as_a_replacement_character(
    method: Method,
) -> None:
    # Half an emoji, as JavaScript's JSON.stringify writes a string cut in the middle.
    saved = parse_body(b'{"name": "Ann\\ud83d", "\\udc00": ["\\ud83d\\ude00"]}', None)
    assert saved == {"name": "Ann\ufffd", "\ufffd": ["\U0001f600"]}
    # The next webhook that sends it (rule C6) builds its request instead of crashing.
    action = WebhookAction(
        url=URL + "?n={result.name}",
        method=method,
        headers=[("X-Name", "{result.name}")],
        params=[("name", "{result.name}"), ("all", "{result}")],
    )
    request = prepare_request(action, {"result": saved})
    assert "Ann\ufffd".encode() in dict(request.headers)[b"X-Name"]


ACTION = """\
url: "http://127.0.0.1:9/x"
method: JSON POST
params:
  - a: "{x}"
"""


def _try(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    action = tmp_path / "action.yaml"
    action.write_text(ACTION, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main([str(action), "--dry-run", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "files", "says"),
    [
        pytest.param(["--var", 'x:="Ann\\ud83d"'], {}, "variable 'x'", id="var-json-surrogate"),
        pytest.param(["--var", "x:=1e999"], {}, "a number JSON can write", id="var-json-inf"),
        pytest.param(
            ["--vars", "v.json"], {"v.json": '{"x": 1e999}'}, "a number JSON", id="file-inf"
        ),
        pytest.param(
            ["--vars", "v.json"],
            {"v.json": '{"x": {"k": "\\udc00"}}'},
            "UTF-8",
            id="file-surrogate",
        ),
        pytest.param(["--show", "{x}\udcff", "--var", "x=1"], {}, "--show", id="show-undecodable"),
        pytest.param(["--timeout", "inf"], {}, "--timeout", id="timeout-inf"),
    ],
)
def test_webhook_try_names_a_value_it_cannot_send_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    files: dict[str, str],
    says: str,
) -> None:
    # Each crashed with UnicodeEncodeError, or sent {"a":Infinity}, which is not JSON.
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    code, out, err = _try(tmp_path, *argv)
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("webhook-try: ")
    assert says in line


def test_webhook_try_refuses_argv_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    action = tmp_path / "action.yaml"
    action.write_text(ACTION, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "webhook_core", str(action), "--dry-run", b"--var=x=a\xffb"],
        capture_output=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"},
        check=False,
    )
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr
    assert done.stderr.startswith(b"webhook-try: variable 'x': got 'a\\udcffb', expected text")


@pytest.mark.rule("D2")
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"a": 1e999}', id="huge"),
        pytest.param(b"[-1.5E+400]", id="huge-negative"),
    ],
)
def test_an_answer_with_a_number_out_of_range_is_saved_as_its_text(body: bytes) -> None:
    # Read as Infinity, it was sent on by a JSON POST as {"a":Infinity}, which is not JSON;
    # like NaN and Infinity themselves, it is not JSON a bot can keep.
    assert parse_body(body, "application/json") == body.decode()


def test_an_answer_with_a_small_or_tiny_number_is_still_a_structure() -> None:
    assert parse_body(b'{"a": 1e308, "b": 1e-999}', None) == {"a": 1e308, "b": 0.0}


def test_the_template_cache_keeps_only_short_templates() -> None:
    # Every template was cached whole, 8192 of them: gigabytes for long ones.
    from webhook_core import template

    template._parse_cached.cache_clear()
    long = "{a}" + "x" * (template.CACHED_TEMPLATE_CHARS + 1)
    for n in range(50):
        parts = template.parse_template(f"{n}{long}")
        assert parts[1] == template.Reference(("a",), "{a}")
    assert template._parse_cached.cache_info().currsize == 0
    assert template.parse_template("hi {a}") == ("hi ", template.Reference(("a",), "{a}"))
    assert template._parse_cached.cache_info().currsize == 1


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        pytest.param([], "the following arguments are required: ACTION", id="no-action"),
        pytest.param(["a.yaml", "--bogus"], "unrecognized arguments: --bogus", id="unknown"),
        pytest.param(["a.yaml", "--timeout", "abc"], "invalid float value: 'abc'", id="timeout"),
    ],
)
def test_a_usage_mistake_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    # argparse printed five lines of usage before the one that says what is wrong.
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("webhook-try: ")
    assert says in line
    assert line.endswith("(see webhook-try --help)")
