"""The fake Bitrix24 driven by the official b24pysdk, unchanged, over HTTPS on a real socket.

b24pysdk always calls ``https://{domain}/rest/…``, so the mock server serves TLS
with a certificate from a throwaway CA (trustme) that ``requests`` is told to trust.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme
from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIError

from mockserver import MockServer
from mockserver.crm import Bitrix24, CrmFault
from tests.cli import spawn_mockserver


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[tuple[Bitrix24, Client]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with ca.cert_pem.tempfile() as ca_file, MockServer(ssl_context=context) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
        crm = server.mount(Bitrix24(user_id="1", secret="sdk-secret", plan="unlimited"))
        webhook = BitrixWebhook(domain=f"127.0.0.1:{server.port}", webhook_token="1/sdk-secret")
        yield crm, Client(webhook)


def test_create_read_update_and_list_through_the_sdk(sdk: tuple[Bitrix24, Client]) -> None:
    crm, client = sdk
    lead_id = client.crm.lead.add(
        fields={
            "TITLE": "From the bot",
            "NAME": "Анна",
            "PHONE": [{"VALUE": "+79990001122", "VALUE_TYPE": "WORK"}],
        }
    ).result
    assert lead_id == 1
    lead = client.crm.lead.get(bitrix_id=lead_id).result
    assert lead["NAME"] == "Анна"
    assert lead["PHONE"][0]["VALUE"] == "+79990001122"
    assert client.crm.lead.update(bitrix_id=lead_id, fields={"NAME": "Anna"}).result is True
    assert crm.records("lead")[0]["NAME"] == "Anna"
    for number in range(120):
        assert client.crm.lead.add(fields={"TITLE": f"lead {number}"}).result == number + 2
    everything = list(client.crm.lead.list(select=["ID", "TITLE"]).as_list().result)
    assert len(everything) == 121
    assert everything[-1]["TITLE"] == "lead 119"


def test_errors_reach_the_sdk_as_its_own_exceptions(sdk: tuple[Bitrix24, Client]) -> None:
    crm, client = sdk
    with pytest.raises(BitrixAPIError) as missing:
        _ = client.crm.lead.get(bitrix_id=42).result
    assert "Not found" in str(missing.value)
    crm.add_fault(
        CrmFault(
            "crm.lead.add",
            kind="error",
            status=503,
            code="QUERY_LIMIT_EXCEEDED",
            message="Too many requests",
        )
    )
    with pytest.raises(BitrixAPIError) as limited:
        _ = client.crm.lead.add(fields={"TITLE": "x"}).result
    assert "QUERY_LIMIT_EXCEEDED" in repr(limited.value) or "Too many" in str(limited.value)


def test_a_new_user_with_the_cli_and_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """mockserver --crm bitrix24 --tls; b24pysdk at the printed URL: create, list, hit the
    rate limit, and find it all in the call log."""
    import signal
    from urllib.parse import urlsplit

    import httpx

    process = spawn_mockserver("--crm", "bitrix24", "--tls", "--quiet")
    try:
        assert process.stdout is not None
        tls_line = process.stdout.readline()
        assert tls_line.startswith("TLS: the certificate's CA is ")
        ca_file = tls_line.split()[5]
        process.stdout.readline()
        webhook = process.stdout.readline().split()[3]
        assert webhook.startswith("https://127.0.0.1:")
        parts = urlsplit(webhook)
        token = parts.path.removeprefix("/rest/").strip("/")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
        client = Client(BitrixWebhook(domain=parts.netloc, webhook_token=token))
        assert client.crm.lead.add(fields={"TITLE": "first"}).result == 1
        assert [lead["TITLE"] for lead in client.crm.lead.list().as_list().result] == ["first"]
        for _ in range(52):  # past the bucket's 50: the SDK sleeps on 503 and tries again
            assert client.crm.lead.list().result
        trusted = ssl.create_default_context(cafile=ca_file)
        log = httpx.get(f"https://{parts.netloc}/__admin/crm/bitrix24", verify=trusted).json()
        calls = [(call["method"], call["status"]) for call in log["calls"]]
        assert calls[0] == ("crm.lead.add", 200)
        assert ("crm.lead.list", 503) in calls or any(
            entry["status"] == 503
            for entry in httpx.get(
                f"https://{parts.netloc}/__admin/requests", verify=ca_file
            ).json()["requests"]
        )
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    finally:
        process.kill()
