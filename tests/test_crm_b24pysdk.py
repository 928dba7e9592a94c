"""The fake Bitrix24 driven by the official b24pysdk, unchanged, over HTTPS on a real socket.

b24pysdk always calls ``https://{domain}/rest/…``, so the mock server serves TLS
with a certificate from a throwaway CA (trustme) that ``requests`` is told to trust
(``REQUESTS_CA_BUNDLE``). Its OAuth calls go to ``https://oauth.bitrix24.tech``, written
into the SDK; ``requests`` honours ``HTTPS_PROXY``, so a CONNECT proxy that tunnels to the
mock server takes them to the fake's authorization server (docs/crm-bitrix24.md).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator

import pytest
import trustme
from b24pysdk import BitrixWebhook, Client, Config
from b24pysdk.errors import BitrixAPIError, BitrixAPIServiceUnavailable

from mockserver import MockServer
from mockserver.crm import Bitrix24, CrmFault
from tests.cli import spawn_mockserver

#: Generous socket timeouts: the SDK's own (3.05 s to connect, 10 s to read) are about
#: the machine's speed, which no test here may depend on; the limits under test read the
#: server's clock.
SLOW_MACHINE = 120


@pytest.fixture(autouse=True)
def sdk_config() -> Iterator[None]:
    """The SDK's settings for these tests (its Config is per thread), restored after."""
    from b24pysdk import constants

    Config().configure(default_connect_timeout=SLOW_MACHINE, default_read_timeout=SLOW_MACHINE)
    yield
    Config().configure(
        default_connect_timeout=constants.DEFAULT_CONNECT_TIMEOUT,
        default_read_timeout=constants.DEFAULT_READ_TIMEOUT,
        default_initial_retry_delay=constants.DEFAULT_INITIAL_RETRY_DELAY,
        default_retry_delay_increment=constants.DEFAULT_RETRY_DELAY_INCREMENT,
    )


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


def test_auth_and_method_errors_are_the_sdks_classes(sdk: tuple[Bitrix24, Client]) -> None:
    """The documented codes and statuses, as the SDK maps them to its exceptions."""
    from b24pysdk.errors import BitrixAPIInvalidCredentials, BitrixAPINotFound

    _, client = sdk
    domain = client.get_token().domain
    wrong = Client(BitrixWebhook(domain=domain, webhook_token="1/not-the-secret"))
    with pytest.raises(BitrixAPIInvalidCredentials) as credentials:
        _ = wrong.crm.lead.list().result
    assert (credentials.value.status_code, credentials.value.error) == (401, "INVALID_CREDENTIALS")
    with pytest.raises(BitrixAPINotFound) as missing:
        client.get_token().call_method("crm.lead.nothing")
    assert (missing.value.status_code, missing.value.error) == (404, "ERROR_METHOD_NOT_FOUND")


def test_a_new_user_with_the_cli_and_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """mockserver --crm bitrix24 --tls; b24pysdk at the printed URL: create, list, hit the
    rate limit on the server's frozen clock (exactly after 50), and find it all in the call
    log. The SDK's retry pause is shortened (its own setting): the frozen clock does not
    drain while it sleeps, so every retry is refused, as the test means."""
    import signal
    from urllib.parse import urlsplit

    import httpx

    Config().configure(default_initial_retry_delay=0.01, default_retry_delay_increment=0)
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
        admin = httpx.Client(
            base_url=f"https://{parts.netloc}/__admin/crm/",
            verify=ssl.create_default_context(cafile=ca_file),
            timeout=SLOW_MACHINE,
        )
        # The server's clock, frozen: the bucket's 50 are exactly 50 on any machine.
        assert admin.post("bitrix24/clock", json={"freeze": True}).is_success
        assert client.crm.lead.add(fields={"TITLE": "first"}).result == 1
        assert [lead["TITLE"] for lead in client.crm.lead.list().as_list().result] == ["first"]
        for _ in range(48):  # 50 calls in all: the bucket is full, not over
            assert client.crm.lead.list().result
        with pytest.raises(BitrixAPIError) as limited:  # the SDK tried 3 times, all 503
            _ = client.crm.lead.list().result
        assert isinstance(limited.value, BitrixAPIServiceUnavailable)  # the SDK's 503
        assert limited.value.error == "QUERY_LIMIT_EXCEEDED"
        assert admin.post("bitrix24/clock", json={"advance": 0.5}).is_success  # drains one
        assert client.crm.lead.list().result
        log = admin.get("bitrix24").json()
        calls = [(call["method"], call["status"]) for call in log["calls"]]
        assert calls == [
            ("crm.lead.add", 200),
            *[("crm.lead.list", 200)] * 49,
            *[("crm.lead.list", 503)] * 3,
            ("crm.lead.list", 200),
        ]
        admin.close()
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=SLOW_MACHINE)
    finally:
        process.kill()
        process.communicate()


def test_the_integrators_round_through_the_sdk(sdk: tuple[Bitrix24, Client]) -> None:
    """Custom and multifields, read back, update, more than 50 by page and by the SDK's
    fast (batch-reference) lister, filter, delete, batch with references, error shapes."""
    crm, client = sdk
    assert (
        client.crm.lead.userfield.add(
            fields={"FIELD_NAME": "CHAT_ID", "USER_TYPE_ID": "string"}
        ).result
        == 1
    )
    lead_id = client.crm.lead.add(
        fields={
            "TITLE": "Round",
            "OPPORTUNITY": 1500,
            "UF_CRM_CHAT_ID": "tg-1",
            "PHONE": [{"VALUE": "+79990001122", "VALUE_TYPE": "MOBILE"}],
            "EMAIL": [{"VALUE": "round@example.com", "VALUE_TYPE": "WORK"}],
        }
    ).result
    lead = client.crm.lead.get(bitrix_id=lead_id).result
    assert (lead["OPPORTUNITY"], lead["UF_CRM_CHAT_ID"], lead["COMMENTS"]) == (
        "1500.00",
        "tg-1",
        None,
    )
    phone_id = lead["PHONE"][0]["ID"]
    assert (
        client.crm.lead.update(
            bitrix_id=lead_id, fields={"PHONE": [{"ID": phone_id, "VALUE": "+70000000000"}]}
        ).result
        is True
    )
    assert client.crm.lead.get(bitrix_id=lead_id).result["PHONE"] == [
        {"ID": phone_id, "VALUE_TYPE": "MOBILE", "VALUE": "+70000000000", "TYPE_ID": "PHONE"}
    ]
    for number in range(130):
        assert client.crm.lead.add(
            fields={"TITLE": f"bulk {number}", "SOURCE_ID": "WEB" if number % 2 else "CALL"}
        ).result  # the SDK's requests are lazy: .result sends
    paged = list(client.crm.lead.list(select=["ID"]).as_list().result)
    fast = list(client.crm.lead.list(select=["ID", "TITLE"]).as_list_fast().result)
    assert [row["ID"] for row in paged] == [str(n) for n in range(1, 132)]
    assert [row["ID"] for row in fast] == [str(n) for n in range(1, 132)]  # batch references
    web = list(client.crm.lead.list(filter={"SOURCE_ID": "WEB"}, select=["ID"]).as_list().result)
    assert len(web) == 65
    assert client.crm.lead.delete(bitrix_id=lead_id).result is True
    with pytest.raises(BitrixAPIError) as gone:
        _ = client.crm.lead.get(bitrix_id=lead_id).result
    assert (gone.value.error, gone.value.error_description) == ("", "Not found")
    batch = client.call_batch(
        {
            "company": client.crm.company.add(fields={"TITLE": "Acme"}),
            "deal": client.crm.deal.add(fields={"TITLE": "Deal", "COMPANY_ID": "$result[company]"}),
            "read": client.crm.deal.list(filter={"=ID": "$result[deal]"}),
        }
    ).result
    assert [(d["ID"], d["COMPANY_ID"]) for d in batch.result["read"]] == [
        (str(batch.result["deal"]), str(batch.result["company"]))
    ]
    assert (
        client.crm.timeline.comment.add(
            fields={"ENTITY_ID": batch.result["deal"], "ENTITY_TYPE": "deal", "COMMENT": "hi"}
        ).result
        == 1
    )
    assert client.crm.duplicate.findbycomm(type="PHONE", values=["+70000000000"]).result == []
    assert len(crm.records("lead")) == 130


class ConnectTunnel:
    """A plain HTTP ``CONNECT`` proxy, as an office's is, on loopback: every tunnel it
    opens goes to ``port`` on 127.0.0.1 (the mock server), whatever host was asked for.
    TLS runs end to end inside the tunnel; the proxy sees bytes only."""

    def __init__(self, port: int) -> None:
        import socket
        import threading

        self.target = port
        self.asked: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: object) -> None:
        import socket
        import threading

        assert isinstance(client, socket.socket)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        self.asked.append(head.split(b"\r\n", 1)[0].decode())
        upstream = socket.create_connection(("127.0.0.1", self.target))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pump(source: socket.socket, sink: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    sink.sendall(data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join()
        client.close()
        upstream.close()

    def close(self) -> None:
        self.listener.close()


def test_an_expired_application_token_is_refreshed_by_the_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """b24pysdk refreshes at ``https://oauth.bitrix24.tech/oauth/token/``, written into
    the SDK. It sends that through ``requests``, which honours ``HTTPS_PROXY`` (and
    ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``): a CONNECT proxy that tunnels to the mock
    server, whose certificate also names oauth.bitrix24.tech, gets the refresh to the
    fake's authorization server with no change to the SDK. The expiry is on the server's
    clock: it jumps an hour, the SDK meets expired_token, refreshes once, retries."""
    from b24pysdk import BitrixAppLocal, BitrixToken
    from b24pysdk.errors import BitrixAPIExpiredToken

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "oauth.bitrix24.tech").configure_cert(context)
    with ca.cert_pem.tempfile() as ca_file, MockServer(ssl_context=context) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
        tunnel = ConnectTunnel(server.port)
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{tunnel.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the portal itself: direct
        crm = server.mount(Bitrix24(plan="unlimited"))
        # Frozen at the machine's now: the SDK compares a token's "expires" with its own
        # clock, so the server's must not be behind it (the test takes far less than an hour).
        crm.clock.freeze()
        domain = f"127.0.0.1:{server.port}"
        app = BitrixAppLocal(
            domain=domain, client_id=crm.tokens.client_id, client_secret=crm.tokens.client_secret
        )
        # The installation's first code, exchanged by the SDK (authorization_code grant).
        issued = app.get_oauth_token(code=crm.issue_code(user_id="1")).oauth_token
        token = BitrixToken(
            domain=domain,
            auth_token=issued.access_token,
            refresh_token=issued.refresh_token,
            bitrix_app=app,
        )
        client = Client(token)
        assert client.crm.lead.add(fields={"TITLE": "app"}).result == 1
        crm.clock.advance(3600)  # the access token's hour is over, on the server's clock
        assert [lead["TITLE"] for lead in client.crm.lead.list().result] == ["app"]
        assert [line.rsplit(" ", 1)[0] for line in tunnel.asked] == [
            "CONNECT oauth.bitrix24.tech:443"
        ] * 2
        assert token.auth_token != issued.access_token
        assert [(c["method"], c["status"]) for c in crm.calls] == [
            ("oauth.token", 200),  # the code's exchange
            ("crm.lead.add", 200),
            ("crm.lead.list", 401),  # expired_token
            ("oauth.token", 200),  # the refresh, through the tunnel
            ("crm.lead.list", 200),  # the SDK's one retry
        ]
        # A one-off token (no refresh token): the SDK gives up with its expired error.
        one_off = crm.issue_app_tokens(base_url=server.url)["access_token"]
        crm.clock.advance(3600)
        bare = Client(BitrixToken(domain=domain, auth_token=one_off, bitrix_app=app))
        with pytest.raises(BitrixAPIExpiredToken):
            _ = bare.crm.lead.list().result
        tunnel.close()
