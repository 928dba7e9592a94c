"""amocrm-api (Krukov/amocrm_api, ``amocrm.v2``), unchanged, against the fake amoCRM.

This client has no base-URL setting: it always calls ``https://{subdomain}.amocrm.ru``
(the API and ``/oauth2/access_token``). It is pointed at the fake the way any HTTPS
client is pointed at a test double, with environment settings ``requests`` honours and
nothing in the client changed: ``HTTPS_PROXY`` names a CONNECT proxy (here
:class:`Tunnel`, curl's ``--connect-to`` in a few lines) that takes every tunnel to the
mock server, which serves HTTPS with a certificate for ``example.amocrm.ru`` from a
throwaway CA that ``REQUESTS_CA_BUNDLE`` names. The fake then finds the account by the
``Host`` header.

The round: the code traded for tokens, leads and contacts with custom fields created,
read back, updated, more than 50 paged through, filtered, searched, linked, tagged,
noted; the access token's expiry read from the JWT (the client does so) on the frozen
clock and refreshed; 204 as ``NotFound``, 400 as ``ValidationError``, 401 as
``UnAuthorizedException``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import trustme
from amocrm.v2 import (
    Company,
    Contact,
    Event,
    Lead,
    Tag,
    custom_field,
    exceptions,
    filters,
    tokens,
)
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class Tunnel:
    """A CONNECT proxy on 127.0.0.1 that sends every tunnel to ``target``, whatever host
    the client asked for (which it records in ``hosts``)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.hosts: list[str] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        words = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(words) != 3 or words[0] != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        self.hosts.append(words[1])
        upstream = socket.create_connection(self.target)
        with self._lock:
            self._open += [conn, upstream]
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=self._pipe, args=(upstream, conn), daemon=True).start()
        self._pipe(conn, upstream)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for end in self._open:
                end.close()


class BotLead(Lead):
    """A lead with the account's fields, as the client's users declare them."""

    source = custom_field.SelectCustomField("Источник")
    comment = custom_field.TextCustomField("Комментарий")
    budget = custom_field.NumericCustomField("Бюджет клиента")


class Person(Contact):
    phone = custom_field.ContactPhoneField("Телефон", enum_code="MOB")


@pytest.fixture
def account(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[AmoCRM, Tunnel, Any]]:
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("example.amocrm.ru").configure_cert(context)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with (
        freeze_time(START, real_asyncio=True) as clock,
        MockServer(ssl_context=context) as server,
    ):
        fake = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        tunnel = Tunnel(("127.0.0.1", server.port))
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{tunnel.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
        app = fake.add_integration("krukov", redirect_uri="https://bot.example/amo")
        # The library's one token manager; a fresh store per test (it keeps the first).
        monkeypatch.setattr(tokens.default_token_manager, "_storage", None)
        tokens.default_token_manager(
            client_id=app.client_id,
            client_secret=app.client_secret,
            subdomain="example",
            redirect_url=app.redirect_uri,
            storage=tokens.MemoryTokensStorage(),
        )
        tokens.default_token_manager.init(code=fake.authorization_code(app.client_id))
        try:
            yield fake, tunnel, clock
        finally:
            tunnel.close()


def test_create_read_update_with_custom_fields(account: tuple[AmoCRM, Tunnel, Any]) -> None:
    fake, tunnel, _ = account
    assert set(tunnel.hosts) == {"example.amocrm.ru:443"}  # the client's own address
    person = Person(first_name="Ivan", last_name="Petrov")
    person.phone = "+79990001122"
    person.save()
    lead = BotLead(name="From the bot", price=1500)
    lead.source = "chatbot"
    lead.comment = "call after 18:00"
    lead.budget = 700
    lead.save()
    lead.contacts.append(Contact.objects.get(person.id), main=True)
    lead.tags.append("chatbot")
    lead.save()
    shown = BotLead.objects.get(lead.id)
    assert (shown.name, shown.price, shown.comment, shown.budget) == (
        "From the bot",
        1500,
        "call after 18:00",
        700,
    )
    assert (shown.source.id, shown.source.value) == (2001, "chatbot")
    assert (shown.status.id, shown.status.name, shown.pipeline.id) == (11, "Первичный контакт", 1)
    assert shown.created_at == START.replace(tzinfo=None)
    assert [tag.name for tag in shown.tags] == ["chatbot"]
    assert [(tag.id, tag.name) for tag in Tag.leads.all()] == [(1, "chatbot")]  # tags-api
    firm = Company(name="Qwerty LLC")
    firm.save()
    linked = Contact.objects.get(person.id)
    linked.company = firm  # links through /contacts/{id}/link
    assert Contact.objects.get(person.id).company.name == "Qwerty LLC"
    assert [contact.id for contact in shown.contacts] == [person.id]
    assert Person.objects.get(person.id).phone == "+79990001122"
    assert fake.records("contacts")[0]["_embedded"]["leads"][0]["id"] == lead.id

    shown.comment = "called back"
    shown.status = "Переговоры"  # by name, through the pipeline's statuses
    shown.save()
    again = BotLead.objects.get(lead.id)
    assert (again.comment, again.status.id, again.source.value, again.budget) == (
        "called back",
        12,
        "chatbot",  # an update that names one field leaves the others
        700,
    )


def test_pages_filters_and_search(account: tuple[AmoCRM, Tunnel, Any]) -> None:
    fake, _, clock = account
    for number in range(60):
        Lead(name=f"lead {number}", price=number).save()
    clock.tick(timedelta(hours=1))
    Lead(name="late", price=5000).save()
    assert [lead.id for lead in Lead.objects.all()] == list(range(1, 62))
    page = Lead.objects._interaction.get_list(2, limit=50, filters=())
    assert [item["id"] for item in page] == list(range(51, 62))
    ranged = Lead.objects.filter(filters=[filters.RangeFilter("price")(10, 12)])
    assert [lead.name for lead in ranged] == ["lead 10", "lead 11", "lead 12"]
    ids = Lead.objects.filter(
        filters=[filters.SingleListFilter("id")([3, 5])], order={"id": "desc"}
    )
    assert [lead.id for lead in ids] == [5, 3]
    since = START + timedelta(minutes=30)
    fresh = Lead.objects.filter(
        filters=[filters.DateRangeFilter("created_at")(since, since + timedelta(hours=1))]
    )
    assert [lead.name for lead in fresh] == ["late"]
    assert [lead.name for lead in Lead.objects.filter(query="late")] == ["late"]
    assert list(Lead.objects.filter(query="nobody")) == []  # 204: nothing found
    newest = Lead.objects._interaction.get_list(
        1, limit=1, filters=(), order={"created_at": "desc"}
    )
    assert [item["name"] for item in newest] == ["late"]
    assert len(fake.records("leads")) == 61


def test_notes_and_tasks(account: tuple[AmoCRM, Tunnel, Any]) -> None:
    _, _, _ = account
    lead = Lead(name="needs a call")
    lead.save()
    note = lead.notes(text="called back")
    note.save()
    assert [(n.note_type, n.text) for n in lead.notes.objects.all()] == [("common", "called back")]
    due = int((START + timedelta(hours=3)).timestamp())
    made = Lead.objects._interaction.request(
        "post",
        "tasks",
        data=[{"text": "Call", "complete_till": due, "entity_id": lead.id, "entity_type": "leads"}],
    )
    assert made[1] == 200
    assert [task.text for task in lead.tasks] == ["Call"]
    assert Lead.objects.get(lead.id).closest_task_at == datetime.utcfromtimestamp(due)
    feed = Event.objects.filter(filters=[filters.SingleFilter("entity")("lead")])
    assert [(event.type, event.value_after) for event in feed] == [
        ("common_note_added", note.id),  # the client reads the note's id out of value_after
        ("lead_added", None),
    ]


def test_the_expired_access_token_is_refreshed_from_its_exp(
    account: tuple[AmoCRM, Tunnel, Any],
) -> None:
    """The client reads ``exp`` from the JWT (``jwt.decode``, no signature check) and
    refreshes before the call once it has passed, on the frozen clock."""
    fake, _, clock = account
    store = tokens.default_token_manager._storage
    assert store is not None
    first = store.get_access_token()
    Lead(name="before").save()
    clock.tick(timedelta(days=1))
    assert fake.integration_of(first) is None  # past its exp on the server's clock too
    Lead(name="after").save()
    assert store.get_access_token() != first
    assert [call["method"] for call in fake.calls][-2:] == [
        "POST /oauth2/access_token",
        "POST /leads",
    ]
    assert [lead["name"] for lead in fake.records("leads")] == ["before", "after"]


def test_error_shapes(account: tuple[AmoCRM, Tunnel, Any]) -> None:
    fake, _, _ = account
    with pytest.raises(exceptions.NotFound):
        Lead.objects.get(999)  # 204
    with pytest.raises(exceptions.ValidationError) as refused:
        Lead.objects.create({"name": "x", "price": "a lot"})
    (body,) = refused.value.args
    assert (body["status"], body["title"]) == (400, "Bad Request")
    assert body["validation-errors"][0]["errors"][0]["path"] == "price"
    store = tokens.default_token_manager._storage
    assert store is not None
    fake.oauth.secret = "rotated"  # every token signed before is void, exp or not
    with pytest.raises(exceptions.UnAuthorizedException):
        Lead.objects.get(1)
    assert fake.records("leads") == []
