"""Hostile values against the fake Bitrix24 over real sockets: numbers Python's ``int``
and ``float`` read differently from PHP, references and counters that are not digits,
and a server clock moved backwards or past what a date can hold. Each answer must be
the portal's own error shape (or a plain success), never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM, Bitrix24


@pytest.fixture
async def portal() -> AsyncIterator[tuple[Bitrix24, httpx.AsyncClient, str]]:
    async with MockServer() as server:
        crm = server.mount(
            Bitrix24(
                user_id="7",
                secret="s3cret",
                plan="unlimited",
                userfields={"lead": {"UF_CRM_N": "integer", "UF_CRM_D": "double"}},
            )
        )
        async with httpx.AsyncClient(base_url=server.url) as client:
            yield crm, client, crm.webhook_path


async def call(client: httpx.AsyncClient, path: str, method: str, body: Any) -> httpx.Response:
    return await client.post(f"{path}{method}.json", json=body)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("²", id="superscript-two-isdigit-but-not-int"),
        pytest.param("٣", id="arabic-indic-three"),
        pytest.param("1" * 5000, id="5000-digits"),
        pytest.param("99999999999999999999", id="beyond-int64"),
    ],
)
@pytest.mark.parametrize("field", ["ASSIGNED_BY_ID", "UF_CRM_N"])
async def test_an_integer_field_refuses_what_is_not_an_ascii_int64(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], field: str, value: str
) -> None:
    crm, client, path = portal
    answer = await call(client, path, "crm.lead.add", {"fields": {field: value}})
    assert answer.status_code == 400
    assert answer.json()["error"] == ""
    description = answer.json()["error_description"]
    assert f'Invalid value for the "{field}" field' in description
    assert len(description) < 300  # the value is quoted, not echoed whole
    assert crm.records("lead") == []


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("nan", id="nan"),
        pytest.param("inf", id="inf"),
        pytest.param("-Infinity", id="minus-infinity"),
        pytest.param("1e400", id="overflows-to-inf"),
        pytest.param(1e308, id="a-309-digit-amount"),
    ],
)
@pytest.mark.parametrize("field", ["OPPORTUNITY", "UF_CRM_D"])
async def test_a_money_field_refuses_what_is_not_a_finite_amount(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], field: str, value: object
) -> None:
    crm, client, path = portal
    answer = await call(client, path, "crm.lead.add", {"fields": {field: value}})
    assert answer.status_code == 400
    assert f'Invalid value for the "{field}" field' in answer.json()["error_description"]
    assert crm.records("lead") == []


async def test_a_money_field_keeps_a_large_ordinary_amount(
    portal: tuple[Bitrix24, httpx.AsyncClient, str],
) -> None:
    _, client, path = portal
    added = await call(client, path, "crm.lead.add", {"fields": {"OPPORTUNITY": "123456789012.5"}})
    assert added.status_code == 200
    lead = await call(client, path, "crm.lead.get", {"id": added.json()["result"]})
    assert lead.json()["result"]["OPPORTUNITY"] == "123456789012.50"


@pytest.mark.parametrize("step", ["²", "٣", "1" * 5000])
async def test_a_batch_reference_with_an_odd_index_is_empty_not_a_crash(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], step: str
) -> None:
    _, client, path = portal
    cmd = {
        "first": "crm.lead.list?select[]=ID",
        "second": f"crm.lead.get?id=$result[first][{step}][ID]",
    }
    await call(client, path, "crm.lead.add", {"fields": {"TITLE": "x"}})
    answer = await call(client, path, "batch", {"cmd": cmd})
    assert answer.status_code == 200
    errors = answer.json()["result"]["result_error"]
    assert errors["second"]["error_description"] == "ID is not defined or invalid."


@pytest.mark.parametrize("owner", ["²", "٣"])
async def test_a_timeline_comment_on_an_odd_owner_id_is_owner_not_found(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], owner: str
) -> None:
    _, client, path = portal
    fields = {"ENTITY_ID": owner, "ENTITY_TYPE": "lead", "COMMENT": "hi"}
    answer = await call(client, path, "crm.timeline.comment.add", {"fields": fields})
    assert answer.status_code == 400
    assert answer.json()["error"] == "OWNER_NOT_FOUND"


async def test_a_timeline_comment_list_with_an_odd_start_is_the_first_page(
    portal: tuple[Bitrix24, httpx.AsyncClient, str],
) -> None:
    _, client, path = portal
    answer = await call(client, path, "crm.timeline.comment.list", {"start": "²"})
    assert answer.status_code == 200
    assert answer.json()["result"] == []


async def test_the_rate_limit_survives_the_server_clock_jumping_back() -> None:
    """A jump back must not count as negative time drained: the bucket would fill by
    years' worth of calls and answer 503 until the clock caught up."""
    async with MockServer() as server:
        crm = server.mount(Bitrix24(plan="standard"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            crm.clock.freeze(datetime(2026, 6, 1, tzinfo=timezone.utc))
            assert (await client.post("crm.lead.list.json")).status_code == 200
            crm.clock.freeze(datetime(2026, 5, 1, tzinfo=timezone.utc))
            answers = [(await client.post("crm.lead.list.json")).status_code for _ in range(49)]
            assert answers == [200] * 49  # 50 in all: the bucket's capacity
            assert (await client.post("crm.lead.list.json")).status_code == 503


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"advance": 1e308}, id="advance-1e308"),
        pytest.param({"advance": 1e12}, id="advance-past-year-9999"),
        pytest.param({"at": "9999-12-31T23:59:59+00:00", "advance": 86400}, id="at-9999-plus-day"),
        pytest.param({"at": "0001-01-01T00:00:00+14:00"}, id="at-before-year-1-in-utc"),
    ],
)
@pytest.mark.parametrize("kind", ["bitrix24", "amocrm"])
async def test_a_clock_moved_out_of_range_is_a_400_and_the_profile_still_answers(
    kind: str, body: dict[str, Any]
) -> None:
    async with MockServer() as server:
        server.mount(Bitrix24() if kind == "bitrix24" else AmoCRM())
        async with httpx.AsyncClient(base_url=server.url) as client:
            admin = f"/__admin/crm/{kind}"
            before = (await client.get(f"{admin}/clock")).json()
            moved = await client.post(f"{admin}/clock", json=body)
            assert moved.status_code == 400
            assert moved.headers["content-type"].startswith("application/problem+json")
            assert "year" in moved.json()["detail"]
            after = await client.get(f"{admin}/clock")
            assert after.status_code == 200
            assert after.json()["frozen"] == before["frozen"]
            assert (await client.get(admin)).status_code == 200


async def test_batch_references_cannot_expand_a_small_request_without_bound(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 000 inline copies of a page of leads: an 80 KB request used to build a
    300 MB comment per command (1 GB of memory, seconds of one event-loop step)."""
    from mockserver.crm.bitrix24 import batch

    monkeypatch.setattr(batch, "MAX_EXPANSION", 64 * 1024)
    crm, client, path = portal
    for _ in range(3):
        await call(client, path, "crm.lead.add", {"fields": {"COMMENTS": "y" * 2000}})
    cmd = {
        "a": "crm.lead.list?select[]=*",
        "b": "crm.lead.add?fields[COMMENTS]=" + "$result[a]" * 2000,
        "c": "crm.lead.add?fields[COMMENTS]=$result[a][0][ID] and $result[a][1][ID]",
    }
    answer = await call(client, path, "batch", {"cmd": cmd})
    assert answer.status_code == 200
    result = answer.json()["result"]
    assert (
        "expand to more than 65536 characters" in result["result_error"]["b"]["error_description"]
    )
    assert result["result"]["c"] == 4  # a reference of ordinary size still works
    assert crm.records("lead")[-1]["COMMENTS"] == "1 and 2"


async def test_a_batch_command_past_the_store_limit_is_that_commands_error(
    portal: tuple[Bitrix24, httpx.AsyncClient, str],
) -> None:
    crm, client, path = portal
    crm.store.max_records = 1
    cmd = {"a": "crm.lead.add?fields[TITLE]=one", "b": "crm.lead.add?fields[TITLE]=two"}
    answer = await call(client, path, "batch", {"cmd": cmd})
    assert answer.status_code == 200  # what ran is reported: the first lead is there
    result = answer.json()["result"]
    assert result["result"] == {"a": 1}
    assert result["result_error"]["b"]["error"] == "ERROR_CORE"
    assert "at most 1 records" in result["result_error"]["b"]["error_description"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("zz.y", id="dotted-garbage"),
        pytest.param("a.b.c", id="two-dots"),
        pytest.param(".", id="a-dot"),
    ],
)
async def test_a_garbage_refresh_token_with_a_dot_is_invalid_grant_not_a_plain_404(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], token: str
) -> None:
    crm, client, _ = portal
    answer = await client.get(
        "/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": crm.tokens.client_id,
            "client_secret": crm.tokens.client_secret,
            "refresh_token": token,
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


class Counted:
    """A function that counts its calls (the work a list does, machine-independent)."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.calls = 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.function(*args)


async def _forty_leads(client: httpx.AsyncClient, path: str) -> None:
    cmd = {str(n): f"crm.lead.add?fields[TITLE]=lead {n}" for n in range(40)}
    assert (await call(client, path, "batch", {"cmd": cmd})).status_code == 200


async def test_a_list_ordered_by_thousands_of_unknown_fields_sorts_by_the_known_ones(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """10 000 order keys over 1 000 leads held the event loop for 11 s: a sort each."""
    from mockserver.crm.bitrix24 import records

    _, client, path = portal
    await _forty_leads(client, path)
    counted = Counted(records.sort_key)
    monkeypatch.setattr(records, "sort_key", counted)
    order = {"ID": "DESC", **{f"NO_SUCH_{n}": "ASC" for n in range(2000)}, "id": "ASC"}
    answer = await call(client, path, "crm.lead.list", {"order": order, "select": ["ID"]})
    assert [lead["ID"] for lead in answer.json()["result"][:3]] == ["40", "39", "38"]
    assert counted.calls <= 2 * 40  # one known key (ID, once), not 2 001 sorts


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"!@ID": list(range(1000, 6000))}, 40, id="not-in-5000-ids"),
        pytest.param({"@ID": [str(n) for n in range(3, 5000)]}, 38, id="in-5000-ids"),
        pytest.param({f"!NO_SUCH_{n}": "x" for n in range(2000)}, 40, id="2000-unknown-not"),
        pytest.param(
            {"%TITLE": "lead", **{f"NO_SUCH_{n}": "" for n in range(2000)}}, 40, id="empty"
        ),
        pytest.param({"!NO_SUCH": "", "%TITLE": "lead"}, 0, id="unknown-never-passes"),
    ],
)
async def test_a_filter_with_thousands_of_values_or_keys_is_worked_out_once(
    portal: tuple[Bitrix24, httpx.AsyncClient, str],
    monkeypatch: pytest.MonkeyPatch,
    filters: dict[str, Any],
    expected: int,
) -> None:
    """A 10 000-value ``!ID`` over 1 000 leads took 8 s: each value turned to text for
    each record."""
    from mockserver.crm.bitrix24 import filters as module

    _, client, path = portal
    await _forty_leads(client, path)
    counted = Counted(module.text)
    monkeypatch.setattr(module, "text", counted)
    answer = await call(client, path, "crm.lead.list", {"filter": filters, "select": ["ID"]})
    assert answer.json()["total"] == expected
    assert counted.calls <= 6000 + 3 * 40 * 2


async def test_custom_fields_and_their_list_items_are_bounded(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mockserver.crm.bitrix24 import extras

    monkeypatch.setattr(extras, "MAX_USERFIELDS", 4)  # the fixture made 2 on leads
    monkeypatch.setattr(extras, "MAX_LIST_ITEMS", 3)
    crm, client, path = portal
    many = {"FIELD_NAME": "MANY", "USER_TYPE_ID": "enumeration", "LIST": ["a", "b", "c", "d"]}
    refused = await call(client, path, "crm.lead.userfield.add", {"fields": many})
    assert refused.status_code == 400
    assert "at most 3 LIST items" in refused.json()["error_description"]
    for name in ("THIRD", "FOURTH", "FIFTH"):
        fields = {"FIELD_NAME": name, "USER_TYPE_ID": "string"}
        answer = await call(client, path, "crm.lead.userfield.add", {"fields": fields})
        last = answer
    assert last.status_code == 400
    assert last.json()["error"] == "ERROR_CORE"
    assert "at most 4 custom fields" in last.json()["error_description"]
    assert len(crm.userfields("lead")) == 4


async def test_a_multipart_part_in_an_unknown_charset_is_read_as_utf8_not_a_500(
    portal: tuple[Bitrix24, httpx.AsyncClient, str],
) -> None:
    crm, client, path = portal
    body = (
        b"--x\r\n"
        b'Content-Disposition: form-data; name="fields[TITLE]"\r\n'
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\n"
        b"\xd0\x9b\xd0\xb8\xd0\xb4\r\n--x--\r\n"
    )
    answer = await client.post(
        f"{path}crm.lead.add.json",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert answer.status_code == 200
    assert crm.records("lead")[0]["TITLE"] == "Лид"


# "1_000" is PHP's (int) 1, so it names record 1 (tests/test_crm_probe3_bitrix24_ids.py).
@pytest.mark.parametrize("given", ["٣", "²"])
async def test_an_id_python_reads_but_php_does_not_is_not_an_id(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], given: str
) -> None:
    _, client, path = portal
    for _ in range(3):
        await call(client, path, "crm.lead.add", {"fields": {}})
    answer = await call(client, path, "crm.lead.get", {"id": given})
    assert answer.status_code == 400
    assert answer.json()["error_description"] == "ID is not defined or invalid."


@pytest.mark.parametrize(
    ("method", "fields"),
    [
        pytest.param("crm.lead.add", {"PHONE": [{"VALUE": "1", "VALUE_TYPE": "X" * 100_000}]}),
        pytest.param("crm.lead.userfield.add", {"FIELD_NAME": "x y" * 50_000}),
        pytest.param("crm.lead.userfield.add", {"FIELD_NAME": "T", "USER_TYPE_ID": "z" * 10**5}),
    ],
)
async def test_an_error_quotes_a_huge_value_short(
    portal: tuple[Bitrix24, httpx.AsyncClient, str], method: str, fields: dict[str, Any]
) -> None:
    _, client, path = portal
    answer = await call(client, path, method, {"fields": fields})
    assert answer.status_code == 400
    assert len(answer.json()["error_description"]) < 400
