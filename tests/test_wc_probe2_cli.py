"""URLs that httpx takes and the connection then chokes on, and numbers PyYAML cannot read:
a configuration error or an outcome, one line from ``webhook-try``, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from webhook_core import (
    ConfigurationError,
    Flow,
    FlowRuntime,
    FlowState,
    HttpxSender,
    Method,
    Subscriber,
    Webhook,
    WebhookAction,
    prepare_request,
)
from webhook_core.cli import main

HOSTILE_URLS = [
    pytest.param("http://127.0.0.1:99999/x", "port 99999 is out of range", id="port"),
    pytest.param("http://xn--/x", "Malformed A-label", id="empty-a-label"),
    pytest.param("http://a..b/x", "label empty or too long", id="empty-label"),
    pytest.param("http://" + "a" * 64 + ".example/x", "label empty or too long", id="long-label"),
]


def _call(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.rule("A4")
@pytest.mark.parametrize(("url", "reason"), HOSTILE_URLS)
def test_a_url_the_connection_cannot_use_is_a_configuration_error(url: str, reason: str) -> None:
    # Each was an exception out of the sender (ValueError, IDNAError, UnicodeError).
    with pytest.raises(ConfigurationError) as caught:
        prepare_request(WebhookAction(url, Method.GET), {})
    assert caught.value.field == "url"
    assert reason in caught.value.expected


@pytest.mark.parametrize(
    "url", ["http://example.com./x", "http://[::1]:8080/x", "http://ä.example/x", "http://1.2.3.4/"]
)
def test_unusual_but_good_urls_still_pass(url: str) -> None:
    assert prepare_request(WebhookAction(url, Method.GET), {}).url.scheme == "http"


@pytest.mark.rule("A4")
async def test_a_subscriber_cannot_crash_the_flow_through_the_host() -> None:
    flow = Flow([Webhook(WebhookAction("http://{first_name}.example/x", Method.GET))])
    async with HttpxSender() as sender:
        run = await FlowRuntime(sender).start(flow, Subscriber(first_name="a" * 300))
    assert run.state is FlowState.PAUSED
    assert run.last_error is not None
    assert run.last_error.startswith("configuration error: url: ")
    assert run.attempts == []


async def test_a_host_the_resolver_refuses_is_a_failed_attempt() -> None:
    # A numeric last label passes the URL check; the resolver's encoding then fails, which
    # was a UnicodeError out of send(), not an outcome.
    prepared = prepare_request(WebhookAction("http://" + "a" * 64 + ".1/x", Method.GET), {})
    async with HttpxSender(timeout=30) as sender:
        outcome = await sender.send_prepared(prepared)
    assert not outcome.ok
    assert outcome.error_kind == "connect"


@pytest.mark.parametrize(("url", "reason"), HOSTILE_URLS)
def test_webhook_try_says_it_in_one_line(tmp_path: Path, url: str, reason: str) -> None:
    action = tmp_path / "a.yaml"
    action.write_text(f'url: "{url}"\nmethod: GET\n', encoding="utf-8")
    code, out, err = _call(str(action), "--timeout", "5")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"webhook-try: {action}:1: url: got ")
    assert reason in err


def test_an_integer_pyyaml_cannot_read_is_its_text(tmp_path: Path) -> None:
    # PyYAML's int() raised ValueError (over 4 300 digits) out of the whole command.
    digits = "9" * 5000
    action = tmp_path / "a.yaml"
    action.write_text(
        f'url: "http://127.0.0.1:9/x"\nmethod: POST\nparams:\n  - n: {digits}\n  - v: "{{v}}"\n',
        encoding="utf-8",
    )
    variables = tmp_path / "v.yaml"
    variables.write_text(f"v: {digits}\n", encoding="utf-8")
    code, out, err = _call(str(action), "--vars", str(variables), "--dry-run")
    assert (code, err) == (0, "")
    assert f"n={digits}&v={digits}" in out


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_output_a_stream_cannot_encode_is_escaped(tmp_path: Path, as_json: bool) -> None:
    # A file in cp1252 (Windows, redirected) could not take "Анна" or "→": the output was
    # a UnicodeEncodeError traceback after the request had gone.
    action = tmp_path / "a.yaml"
    action.write_text('url: "http://127.0.0.1:9/x"\nmethod: GET\n', encoding="utf-8")
    raw_out, raw_err = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(raw_out, encoding="cp1252")
    err = io.TextIOWrapper(raw_err, encoding="cp1252")
    argv = [str(action), "--var", "x=Анна😀", "--show", "{x}", "--dry-run"]
    code = main([*argv, "--json"] if as_json else argv, stdout=out, stderr=err)
    out.flush()
    err.flush()
    assert code == 0
    assert raw_err.getvalue() == b""
    printed = raw_out.getvalue().decode("cp1252")
    if as_json:
        assert json.loads(printed)["shows"][0]["text"] == "Анна😀"
    else:
        assert "{x} \\u2192 \\u0410\\u043d\\u043d\\u0430\\U0001f600" in printed
