"""``webhook-try`` (``python -m webhook_core``): called as ``main(argv)``, against the mock
server on a real socket; the retry schedule on a frozen clock moved by an injected sleep."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun import freeze_time
from hypothesis import assume, example, given
from hypothesis import strategies as st

from mockserver import MockServer
from webhook_core import __version__
from webhook_core.actionfile import action_from_file, load_file, typed, variables_from_file
from webhook_core.cli import main
from webhook_core.template import format_value

START = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


def call(*argv: str, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


PROMO = """\
webhook:
  url: "{base}/crm/promo?src=bot"
  method: JSON POST
  headers:
    - Authorization: "Bearer {token}"
  params:
    - user.name: "{first_name}"
    - user.phone: "{phone}"
    - order: "{order}"
  save_to: result
"""


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def promo_stub(server: MockServer, *responses: dict[str, Any]) -> None:
    server.add(
        {
            "request": {"method": "POST", "path": "/crm/promo"},
            "responses": list(responses) or [{"json": {"promo": {"code": "ABC"}}}],
        }
    )


@pytest.mark.rule("C8")
def test_the_dry_run_is_what_goes_on_the_wire(tmp_path: Path, server: MockServer) -> None:
    action = write(tmp_path, "promo.yaml", PROMO)
    given_ = [
        action,
        f"--var=base={server.url}",
        "--var=token=t-ключ",
        '--var=order:={"id": 17, "items": [1, 2]}',
        "--subscriber-field=first_name=Анна",
        "--subscriber-field=phone=+7 900 000-00-00",
    ]
    code, out, _ = call(*given_, "--dry-run", "--json")
    assert code == 0
    dry = json.loads(out)
    assert server.requests == []  # a dry run sends nothing
    promo_stub(server)
    code, out, _ = call(*given_, "--json")
    assert code == 0, out
    (received,) = server.requests
    sent = json.loads(out)
    assert sent["request"] == dry["request"]
    assert [list(pair) for pair in received.raw_headers] == dry["request"]["headers"]
    assert received.body.decode() == dry["request"]["body"]
    assert received.json == {
        "user": {"name": "Анна", "phone": "+7 900 000-00-00"},
        "order": {"id": 17, "items": [1, 2]},
    }
    assert f"{received.path}?{received.query_string}" == "/crm/promo?src=bot"
    assert sent["saved"] == {"variable": "result", "value": {"promo": {"code": "ABC"}}}
    assert sent["state"] == "finished"


def test_the_pretty_dry_run_reads_like_curl(tmp_path: Path) -> None:
    action = write(
        tmp_path,
        "form.yaml",
        "url: http://crm.example/lead\nmethod: post\nparams:\n"
        "  - user.name: '{first_name} Ли'\n  - tags.0: vip\n",
    )
    code, out, _ = call(action, "--subscriber-field", "first_name=Анна", "--dry-run")
    assert code == 0
    body = "user%5Bname%5D=%D0%90%D0%BD%D0%BD%D0%B0+%D0%9B%D0%B8&tags%5B0%5D=vip"
    assert out.splitlines()[:9] == [
        "POST http://crm.example/lead",
        "> POST /lead HTTP/1.1",
        "> Host: crm.example",
        f"> User-Agent: webhook-core/{__version__} (LeadConverter send-via-webhook)",
        "> Content-Type: application/x-www-form-urlencoded",
        f"> Content-Length: {len(body)}",
        ">",
        body,
        "# the body, decoded:",
    ]
    assert "#   user[name] = Анна Ли" in out
    assert "(dry run: nothing was sent)" in out


@pytest.mark.rule("B8")
def test_reserved_variables_come_from_the_subscriber_the_bot_and_the_clock(
    tmp_path: Path,
) -> None:
    action = write(
        tmp_path,
        "get.yaml",
        "url: http://crm.example/hook\nmethod: GET\nparams:\n"
        "  - when: '{date} {time}'\n  - ts: '{timestamp}'\n  - who: '{user_id}/{username}'\n"
        "  - bot: '{bot_id}'\n",
    )
    subscriber = write(tmp_path, "subscriber.yaml", "user_id: 0042\nusername: anna\n")
    code, out, _ = call(
        action,
        "--subscriber",
        subscriber,
        "--bot-id",
        "bot-7",
        "--now",
        "2026-01-01T21:30:00",
        "--timezone",
        "Asia/Vladivostok",
        "--dry-run",
        "--json",
    )
    assert code == 0
    url = json.loads(out)["request"]["url"]
    stamp = int(datetime(2026, 1, 1, 21, 30, tzinfo=timezone.utc).timestamp())
    assert url == (
        f"http://crm.example/hook?when=02.01.2026+07%3A30&ts={stamp}&who=0042%2Fanna&bot=bot-7"
    )


@pytest.mark.rule("A1")
def test_yaml_values_are_the_text_as_written(tmp_path: Path, server: MockServer) -> None:
    # YAML 1.1 would send 79001234567, 83, 90 and false.
    action = write(
        tmp_path,
        "t.yaml",
        f"url: {server.url}/t\nmethod: POST\nparams:\n"
        "  - phone: +79001234567\n  - zip: 0123\n  - t: 1:30\n  - answer: NO\n"
        "  - empty:\n  - when: 2026-01-01\n",
    )
    server.add({"request": {"path": "/t"}, "response": {"text": "ok"}})
    code, _, _ = call(action)
    assert code == 0
    (received,) = server.requests
    assert received.form == {
        "phone": "+79001234567",
        "zip": "0123",
        "t": "1:30",
        "answer": "NO",
        "empty": "",
        "when": "2026-01-01",
    }


@pytest.mark.rule("D2")
def test_a_real_send_shows_the_answer_what_is_saved_and_the_templates(
    tmp_path: Path, server: MockServer
) -> None:
    promo_stub(server, {"json": {"promo": {"code": "ABC", "percent": 15}}})
    action = write(tmp_path, "promo.yaml", PROMO)
    code, out, _ = call(
        action,
        "--var",
        f"base={server.url}",
        "--show",
        "{result.promo.code}",
        "--show",
        "-{result.promo.percent}% for {first_name}",
        "--show",
        "{result.nope}",
    )
    assert code == 0
    assert "< HTTP/1.1 200 OK" in out
    assert "< Content-Type: application/json" in out
    assert 'saved into {result} (an object): {"promo": {"code": "ABC", "percent": 15}}' in out
    assert "{result.promo.code} → ABC\n" in out
    assert "-{result.promo.percent}% for {first_name} → -15% for \n" in out
    assert "{result.nope} → \n  ! not found, rendered as empty text (rule B3): {result.nope}" in out
    assert "! not found, rendered as empty text (rule B3): {order}, {token}" in out


@pytest.mark.rule("D2")
def test_a_text_answer_is_saved_as_text(tmp_path: Path, server: MockServer) -> None:
    server.add({"request": {"path": "/t"}, "response": {"text": "42"}})
    action = write(
        tmp_path,
        "t.json",
        json.dumps({"url": f"{server.url}/t", "method": "GET", "save_to": "answer"}),
    )
    code, out, _ = call(action, "--json", "--show", "{answer}")
    assert code == 0
    data = json.loads(out)
    assert data["saved"] == {"variable": "answer", "value": "42"}
    assert data["shows"] == [{"template": "{answer}", "text": "42", "missing": []}]


@pytest.mark.rule("D4")
def test_a_failed_answer_is_shown_and_nothing_is_saved(tmp_path: Path, server: MockServer) -> None:
    server.add(
        {
            "request": {"path": "/crm/promo"},
            "response": {"status": 422, "json": {"error": "phone is required"}},
        }
    )
    code, out, _ = call(write(tmp_path, "p.yaml", PROMO), "--var", f"base={server.url}")
    assert code == 1
    assert "< HTTP/1.1 422 Unprocessable Entity" in out
    assert '{"error": "phone is required"}' in out or '{"error":"phone is required"}' in out
    assert "the attempt failed: status 422 Unprocessable Entity" in out
    assert "nothing is saved (rule D4)" in out
    assert len(server.requests) == 1  # no --retries: one attempt


def test_a_redirect_is_shown_hop_by_hop(tmp_path: Path, server: MockServer) -> None:
    server.add(
        {"request": {"path": "/old"}, "response": {"status": 302, "headers": {"Location": "/new"}}}
    )
    server.add({"request": {"path": "/new"}, "response": {"json": {"ok": True}}})
    code, out, _ = call(write(tmp_path, "r.yaml", f"url: {server.url}/old\nmethod: GET\n"))
    assert code == 0
    assert "< HTTP/1.1 302 Found" in out
    assert "< Location: /new" in out
    assert f"> GET {server.url}/new" in out


@pytest.mark.rule("E1", "E3")
def test_retries_run_the_real_schedule_on_the_clock(tmp_path: Path, server: MockServer) -> None:
    promo_stub(server, {"status": 503}, {"status": 503}, {"json": {"promo": {"code": "ABC"}}})
    slept: list[float] = []
    with freeze_time(START, real_asyncio=True) as clock:

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            clock.tick(seconds)

        code, out, _ = call(
            write(tmp_path, "p.yaml", PROMO),
            "--var",
            f"base={server.url}",
            "--retries",
            "--json",
            sleep=sleep,
        )
    assert code == 0
    data = json.loads(out)
    assert [a["offset"] for a in data["attempts"]] == ["0s", "5s", "35s"]
    assert [a["status"] for a in data["attempts"]] == [503, 503, 200]
    assert slept == [5.0, 30.0]
    bodies = {request.body for request in server.requests}
    assert len(server.requests) == 3
    assert len(bodies) == 1
    assert data["saved"]["value"] == {"promo": {"code": "ABC"}}


@pytest.mark.rule("E1", "E2")
def test_six_failures_pause_and_the_progress_is_printed(tmp_path: Path, server: MockServer) -> None:
    promo_stub(server, {"status": 503})
    slept: list[float] = []
    with freeze_time(START, real_asyncio=True) as clock:

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            clock.tick(seconds)

        code, out, _ = call(
            write(tmp_path, "p.yaml", PROMO),
            "--var",
            f"base={server.url}",
            "--retries",
            sleep=sleep,
        )
    assert code == 1
    assert slept == [5.0, 30.0, 60.0, 1800.0, 7200.0]
    assert len(server.requests) == 6
    assert "attempt 6 of 6 at 2026-01-01 11:31:35 UTC (+2h31m35s): failed: status 503" in out
    assert "  next attempt in 30m, at 2026-01-01 09:31:35 UTC (waiting; Ctrl-C stops)" in out
    assert "all 6 attempts failed: the bot's scenario would be paused here (rule E2)" in out


@pytest.mark.rule("E1")
def test_simulate_retries_at_once_and_shows_the_schedule_times(
    tmp_path: Path, server: MockServer
) -> None:
    promo_stub(server, {"status": 500})

    async def no_sleep(seconds: float) -> None:
        raise AssertionError("--simulate must not wait")

    code, out, _ = call(
        write(tmp_path, "p.yaml", PROMO),
        "--var",
        f"base={server.url}",
        "--simulate",
        "--now",
        "2026-01-01T09:00:00Z",
        "--json",
        sleep=no_sleep,
    )
    assert code == 1
    data = json.loads(out)
    offsets = [timedelta(seconds=s) for s in (0, 5, 35, 95, 1895, 9095)]
    assert len(server.requests) == 6
    assert data["state"] == "paused"
    for attempt, offset in zip(data["attempts"], offsets, strict=True):
        # The exchange itself takes real time, which pushes later attempts (E1).
        lag = datetime.fromisoformat(attempt["at"]) - (START + offset)
        assert timedelta(0) <= lag < timedelta(seconds=30)


def test_a_dry_run_can_show_the_schedule_without_sending(tmp_path: Path) -> None:
    action = write(tmp_path, "a.yaml", "url: http://127.0.0.1:9/x\nmethod: GET\n")
    code, out, _ = call(
        action,
        "--dry-run",
        "--simulate",
        "--now",
        "2026-01-01T09:00:00Z",
        "--timezone",
        "Europe/Moscow",
    )
    assert code == 0
    assert "  attempt 4  +1m35s      2026-01-01 12:01:35 MSK" in out
    assert "  attempt 6  +2h31m35s   2026-01-01 14:31:35 MSK" in out


def test_ctrl_c_while_waiting_stops_with_130(tmp_path: Path, server: MockServer) -> None:
    promo_stub(server, {"status": 503})

    async def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    code, _, err = call(
        write(tmp_path, "p.yaml", PROMO),
        "--var",
        f"base={server.url}",
        "--retries",
        sleep=interrupted,
    )
    assert code == 130
    assert "stopped" in err
    assert len(server.requests) == 1


def test_a_refused_connection_is_a_failed_attempt(tmp_path: Path) -> None:
    with MockServer() as gone:
        url = gone.url
    code, out, _ = call(write(tmp_path, "a.yaml", f"url: {url}/x\nmethod: GET\n"))
    assert code == 1
    assert "the attempt failed: connection failed" in out


# --- bad input: one line, file:line, exit 2 ----------------------------------------------


@pytest.mark.rule("A4")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "url: http://x/\nmethod: FETCH\n",
            "a.yaml:2: method: got 'FETCH', expected one of GET, POST, JSON POST, PUT, PATCH, "
            "DELETE",
            id="method",
        ),
        pytest.param(
            "url: http://x/\nmethod: GET\nparams:\n  - ok: 1\n  - a..b: 2\n",
            "a.yaml:5: params[1].name: got 'a..b', expected dot-separated segments",
            id="param-name",
        ),
        pytest.param(
            "url: http://x/\nmethod: GET\nheaders:\n  - 'Bad Header': 1\n",
            "a.yaml:4: headers[0].name: got 'Bad Header', expected an HTTP header name",
            id="header-name",
        ),
        pytest.param(
            "webhook:\n  url: http://x/\n  method: GET\n  save_to: phone\n",
            "a.yaml:4: webhook.save_to: got 'phone', expected a name that is not reserved",
            id="save-to-reserved",
        ),
        pytest.param(
            "url: '{base}/x'\nmethod: GET\n",
            "a.yaml:1: url: got '/x', expected an absolute http:// or https:// URL",
            id="url-after-rendering",
        ),
        pytest.param(
            "url: http://x/\nmethod: GET\nparams: {a: 1}\n",
            "a.yaml:3: params: got {'a': '1'}, expected a list of name: value pairs",
            id="params-mapping",
        ),
        pytest.param(
            "url: http://x/\nmethod: GET\nparamz: []\n",
            "a.yaml:3: paramz: got 'paramz', expected one of url, method, headers, params, "
            "save_to; did you mean 'params'?",
            id="unknown-field",
        ),
        pytest.param(
            "method: GET\n",
            "a.yaml:1: url: got None, expected a 'url' (rule A1)",
            id="no-url",
        ),
        pytest.param(
            "url: http://x/\nmethod: GET\nparams:\n  - {path: /crm/promo/{code}}\n",
            "a.yaml:4: (the file): got \"expected ',' or '}', but got '{'\", expected YAML; a "
            "value with '{', '}' or ',' inside '{...}' must be quoted",
            id="flow-style-braces",
        ),
        pytest.param(
            "url: http://x/\nurl: http://y/\nmethod: GET\n",
            "a.yaml:2: url: got 'url', expected each key once",
            id="duplicate-key",
        ),
        pytest.param(
            "url: http://x/\nmethod: GET\nparams:\n  - [a, b, c]\n",
            "a.yaml:4: params[0]: got ['a', 'b', 'c'], expected a pair written as '- Name: "
            "value' or [Name, value]",
            id="bad-pair",
        ),
        pytest.param(
            "- url: http://x/\n",
            "a.yaml:1: (the file): got [{'url': 'http://x/'}], expected a mapping with url and "
            "method",
            id="a-list",
        ),
    ],
)
def test_a_bad_action_file_is_one_line_at_file_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    action = write(tmp_path, "a.yaml", text)
    code, out, err = call(action, "--dry-run")
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"webhook-try: {tmp_path}/{expected}"), err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["--var", "first_name=X"],
            "--var first_name: a name that is not reserved (rule B8: {first_name} is filled from "
            "the subscriber: use --subscriber-field first_name=...)",
            id="reserved-var",
        ),
        pytest.param(["--var", "novalue"], "--var: got 'novalue', expected NAME=VALUE", id="var"),
        pytest.param(["--var", "n:={x"], "--var n:=: got '{x', expected JSON", id="var-json"),
        pytest.param(["--var", "n:=" + "[" * 100_000], "--var n:=: got '[[[", id="var-deep"),
        pytest.param(["--var", "a..b=1"], "--var: got 'a..b', expected dot-separated", id="dots"),
        pytest.param(
            ["--now", "tomorrow"],
            "--now: got 'tomorrow', expected an ISO 8601 time like 2026-01-01T09:00:00Z",
            id="now",
        ),
        pytest.param(
            ["--now", "9999-12-31T23:00:00Z", "--simulate"],
            "--now: got '9999-12-31T23:00:00Z', expected a time from 1970 to 9998",
            id="now-too-late",
        ),
        pytest.param(
            ["--now", "0001-01-01T00:00:00+05:00"],
            "--now: got '0001-01-01T00:00:00+05:00', expected a time from 1970 to 9998",
            id="now-too-early",
        ),
        pytest.param(
            ["--timezone", "Mars/Olympus"],
            "--timezone: got 'Mars/Olympus', expected an IANA time zone",
            id="timezone",
        ),
        pytest.param(
            ["--subscriber-field", "nick=x"],
            "--subscriber-field: got 'nick', expected one of user_id, first_name",
            id="subscriber-field",
        ),
        pytest.param(["--timeout", "0"], "--timeout: got 0.0, expected seconds above 0", id="t"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    action = write(tmp_path, "a.yaml", "url: http://x/\nmethod: GET\n")
    code, _, err = call(action, *args, "--dry-run")
    assert code == 2
    assert err.startswith(f"webhook-try: {expected}"), err
    assert len(err.splitlines()) == 1


def test_bad_variables_and_subscriber_files_name_file_and_line(tmp_path: Path) -> None:
    action = write(tmp_path, "a.yaml", "url: http://x/\nmethod: GET\n")
    variables = write(tmp_path, "v.yaml", "token: t\nphone: +7900\n")
    code, _, err = call(action, "--vars", variables, "--dry-run")
    assert code == 2
    assert err.startswith(f"webhook-try: {variables}:2: phone: got 'phone', expected a name that")
    subscriber = write(tmp_path, "s.json", '{\n  "user_id": "1",\n  "frist_name": "A"\n}')
    code, _, err = call(action, "--subscriber", subscriber, "--dry-run")
    assert code == 2
    assert f"{subscriber}:3: frist_name: got 'frist_name'" in err
    assert "did you mean 'first_name'?" in err
    broken = write(tmp_path, "b.json", '{"url": "http://x/",\n "method": GET}')
    code, _, err = call(broken, "--dry-run")
    assert code == 2
    assert err.startswith(f"webhook-try: {broken}:2: (the file): got 'Expecting value'")
    code, _, err = call(str(tmp_path / "none.yaml"), "--dry-run")
    assert code == 2
    assert "none.yaml: (the file): got 'No such file or directory'" in err


def test_a_json_error_document_for_scripts(tmp_path: Path) -> None:
    action = write(tmp_path, "a.yaml", "url: http://x/\nmethod: FETCH\n")
    code, out, _ = call(action, "--json")
    assert code == 2
    assert json.loads(out)["error"] == {
        "message": (
            f"{action}:2: method: got 'FETCH', expected one of GET, POST, JSON POST, PUT, "
            "PATCH, DELETE"
        ),
        "field": "method",
        "value": "FETCH",
        "expected": "one of GET, POST, JSON POST, PUT, PATCH, DELETE",
        "file": action,
        "line": 2,
    }


# --- variables ---------------------------------------------------------------------------


@pytest.mark.rule("C6")
def test_variables_files_and_options_merge_later_wins(tmp_path: Path) -> None:
    action = write(
        tmp_path,
        "a.yaml",
        "url: http://x/\nmethod: JSON POST\nparams:\n  - order: '{order}'\n  - n: '{n}'\n"
        "  - zip: '{zip}'\n  - ok: '{ok}'\n  - yes: '{yes}'\n",
    )
    first = write(tmp_path, "v1.yaml", "order: {id: 17, total: 2.5}\nn: 5\nzip: 0123\n")
    second = write(tmp_path, "v2.json", '{"ok": true, "yes": "yes"}')
    code, out, _ = call(
        action, "--vars", first, "--vars", second, "--var", "order.id=18", "--dry-run", "--json"
    )
    assert code == 0
    body = json.loads(json.loads(out)["request"]["body"])
    assert body == {
        "order": {"id": "18", "total": 2.5},
        "n": 5,
        "zip": "0123",
        "ok": True,
        "yes": "yes",
    }


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("17", 17),
        ("-2", -2),
        ("2.5", 2.5),
        ("true", True),
        ("false", False),
        ("+7900", "+7900"),
        ("0123", "0123"),
        ("0x1F", "0x1F"),
        ("1:30", "1:30"),
        ("1_000", "1_000"),
        ("1.50", "1.50"),
        ("yes", "yes"),
        ("NO", "NO"),
        ("True", "True"),
        ("2026-01-01", "2026-01-01"),
        (".inf", ".inf"),
        ("null", None),
        ("~", None),
        ("", None),
        ("'17'", "17"),
    ],
)
def test_a_variables_file_keeps_a_type_only_when_it_renders_back(
    tmp_path: Path, written: str, value: Any
) -> None:
    path = write(tmp_path, "v.yaml", f"x: {written}\n")
    got = variables_from_file(load_file(path))["x"]
    assert got == value
    assert type(got) is type(value)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12))
def test_a_plain_scalar_renders_back_to_what_was_written(text: str) -> None:
    try:
        node = yaml.compose(f"x: {text}\n", Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        assume(False)
        return
    value_node = node.value[0][1] if node is not None else None
    assume(isinstance(value_node, yaml.ScalarNode) and value_node.style is None)
    assert value_node is not None
    written = value_node.value
    located = load_file("v.yaml", text=f"x: {text}\n")
    value = typed(located.data["x"])
    if value is None:
        assert value_node.tag == "tag:yaml.org,2002:null"
    else:
        assert format_value(value) == written


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12))
@example("=")  # YAML 1.1's value tag, which no safe constructor builds
def test_an_action_value_is_the_text_written(text: str) -> None:
    source = f"url: http://x/\nmethod: GET\nparams:\n  - a: {text}\n"
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        assume(False)
        return
    assert node is not None
    params = {k.value: v for k, v in node.value}["params"]
    value_node = params.value[0].value[0][1]
    assume(isinstance(value_node, yaml.ScalarNode) and value_node.style is None)
    action = action_from_file(load_file("a.yaml", text=source))
    assert action.params == (("a", value_node.value),)


def test_usage_mistakes_return_2_and_help_returns_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--bogus", "a.yaml"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert main([]) == 2
    assert "the following arguments are required: ACTION" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "--dry-run" in capsys.readouterr().out
    big = tmp_path / "big.yaml"
    big.write_text("url: http://x/\nmethod: GET\n# " + "x" * (10 * 1024 * 1024) + "\n")
    code, _, err = call(str(big), "--dry-run")
    assert code == 2
    assert "expected a file of at most 10 MiB" in err


# --- the command -------------------------------------------------------------------------


def test_python_m_webhook_core_runs_the_command(tmp_path: Path) -> None:
    action = write(tmp_path, "a.yaml", "url: http://x/hook\nmethod: delete\n")
    result = subprocess.run(
        [sys.executable, "-m", "webhook_core", action, "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("DELETE http://x/hook\n> DELETE /hook HTTP/1.1\n")
    version = subprocess.run(
        [sys.executable, "-m", "webhook_core", "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == f"webhook-try {__version__}"


def test_hostile_files_are_refused_in_one_line(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        for prev, name in zip("abcdefg", "bcdefgh", strict=True)
    )
    path = write(tmp_path, "bomb.yaml", bomb)
    code, _, err = call(path, "--dry-run")
    assert code == 2
    assert "more than 100000 values" in err
    assert len(err.splitlines()) == 1
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(
        "url: http://x/\nmethod: GET\nparams: [{name: 'Jos\xe9'}]\n".encode("latin-1")
    )
    code, _, err = call(str(latin), "--dry-run")
    assert code == 2
    assert "expected UTF-8 text" in err
    nulls = write(
        tmp_path, "n.json", '{"url": "http://x/", "method": "GET", "params": [{"a": null}]}'
    )
    code, _, err = call(nulls, "--dry-run")
    assert code == 2
    assert 'params[0].a: got None, expected text (a template); write "" for empty text' in err


def test_the_action_can_come_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sys, "stdin", io.StringIO("url: http://x/in\nmethod: PUT\nparams: [{a: 1}]\n")
    )
    code, out, _ = call("-", "--dry-run", "--json")
    assert code == 0
    request = json.loads(out)["request"]
    assert (request["method"], request["url"], request["body"]) == ("PUT", "http://x/in", "a=1")


@pytest.mark.rule("C8")
def test_a_subscribers_line_break_never_reaches_a_header(tmp_path: Path) -> None:
    action = write(
        tmp_path, "h.yaml", "url: http://x/\nmethod: GET\nheaders: [{X-Name: '{first_name}'}]\n"
    )
    code, out, _ = call(action, "--subscriber-field", "first_name=Анна\r\nX-Admin: 1", "--dry-run")
    assert code == 0
    assert "> X-Name: Анна  X-Admin: 1\n" in out
    assert "\n> X-Admin" not in out


def test_deep_nesting_and_merge_keys(tmp_path: Path) -> None:
    for name, text in (("deep.yaml", "[" * 50_000 + "]" * 50_000), ("deep.json", "[" * 50_000)):
        code, _, err = call(write(tmp_path, name, text), "--dry-run")
        assert code == 2
        assert len(err.splitlines()) == 1
        assert "(the file)" in err
    base = "base: &base {url: 'http://x/{path}', method: GET}\n"
    variables = write(tmp_path, "v.yaml", "defaults: &d {a: 1, b: 2}\nbox: {<<: *d, b: 3}\n")
    action = write(tmp_path, "m.yaml", "url: 'http://x/?a={box.a}&b={box.b}'\nmethod: GET\n")
    code, out, _ = call(action, "--vars", variables, "--dry-run", "--json")
    assert code == 0
    assert json.loads(out)["request"]["url"] == "http://x/?a=1&b=3"
    code, _, err = call(write(tmp_path, "b.yaml", base), "--dry-run")
    assert code == 2
    assert "base: got 'base', expected one of url, method" in err
