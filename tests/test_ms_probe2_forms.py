"""Form bodies and queries whose percent-escapes are not UTF-8 (``name=caf%E9``).

PHP's ``parse_str`` keeps the byte (``"caf\\xe9"``, four bytes; ``json_encode``
then refuses the string). The mock server keeps it too, written ``\\xNN`` as every
other undecodable byte is (docs/hardening.md "Any bytes in"), never U+FFFD, and
names the part in ``undecodable``: alike for matching, templates, the journal and
the admin API.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest

from mockserver import MockServer, parse_php_form
from mockserver.forms import php_pairs

from .test_ms_hardening import body_of, exchange, request, status_of

FORM = b"Content-Type: application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("name=caf%E9", {"name": "caf\\xe9"}, id="latin-1-value"),
        pytest.param("n%FF=1", {"n\\xff": "1"}, id="in-a-name"),
        pytest.param("a[%FF]=1", {"a": {"\\xff": "1"}}, id="in-a-key"),
        pytest.param("ok=caf%C3%A9", {"ok": "café"}, id="utf-8-as-it-was"),
        pytest.param("half=%E2%82", {"half": "\\xe2\\x82"}, id="a-cut-sequence"),
        pytest.param("s=%ED%A0%80", {"s": "\\xed\\xa0\\x80"}, id="an-encoded-surrogate"),
    ],
)
def test_a_byte_that_is_not_utf8_is_kept_escaped(text: str, expected: object) -> None:
    assert parse_php_form(text) == expected
    assert "\ufffd" not in repr(php_pairs(text))


@pytest.mark.skipif(shutil.which("php") is None, reason="php-cli is not installed")
def test_php_keeps_the_byte_too() -> None:
    code = 'parse_str("name=caf%E9", $o); echo bin2hex($o["name"]);'
    out = subprocess.run(["php", "-r", code], capture_output=True, check=True, timeout=60)
    assert out.stdout.decode().strip() == b"caf\xe9".hex()


async def test_matching_templates_journal_and_admin_agree() -> None:
    stubs = [
        {
            "request": {"method": "POST", "path": "/f", "form": {"name": "caf\\xe9"}},
            "response": {"json": {"form": "{request.form.name}", "q": "{request.query.q}"}},
        }
    ]
    async with MockServer(stubs) as server:
        answer = await exchange(
            server.port, request("/f?q=%FF", FORM, method=b"POST", body=b"name=caf%E9")
        )
        assert status_of(answer) == 200, answer
        assert json.loads(body_of(answer)) == {"form": "caf\\xe9", "q": "\\xff"}
        (entry,) = server.requests
        assert entry.form == {"name": "caf\\xe9"}
        assert entry.query == {"q": "\\xff"}
        assert entry.query_string == "q=%FF"  # the query as sent: ASCII, kept as it is
        async with httpx.AsyncClient(base_url=server.url) as client:
            (shown,) = (await client.get("/__admin/requests")).json()["requests"]
        assert shown["form"] == {"name": "caf\\xe9"}
        assert "query" in shown["undecodable"]
        assert "form" in shown["undecodable"]
        assert "body" not in shown["undecodable"]  # the body's own bytes are ASCII


async def test_a_valid_form_notes_nothing() -> None:
    async with MockServer() as server:
        await exchange(server.port, request("/f?q=caf%C3%A9", FORM, method=b"POST", body=b"a=1"))
        async with httpx.AsyncClient(base_url=server.url) as client:
            (shown,) = (await client.get("/__admin/requests")).json()["requests"]
        assert shown["undecodable"] == []
