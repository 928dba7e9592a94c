"""The fake CRMs against dict models: Hypothesis drives creates, updates, reads, pages and
rate-limit windows in any order and checks the portal agrees with the model after every step."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mockserver.crm import AmoCRM
from mockserver.crm import amocrm as amo_module
from mockserver.crm.bitrix24 import Bitrix24, BitrixError

text = st.text(alphabet="abcАБВ 1", min_size=1, max_size=6)


class Bitrix24Machine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.portal = Bitrix24(secret="s", plan="standard")
        self.portal.clock.freeze(self.moment)  # the server's clock, which the test drives
        self.model: dict[int, dict[str, str]] = {}
        self.level = 0.0
        self.level_at: datetime | None = None

    def call(self, method: str, **params: Any) -> Any:
        result, extra = self.portal.call(method, params)
        return result if extra is None else (result, extra)

    @rule(title=text, name=text)
    def add(self, title: str, name: str) -> None:
        new_id = self.call("crm.lead.add", fields={"TITLE": title, "NAME": name})
        assert new_id == len(self.model) + 1
        self.model[new_id] = {"TITLE": title, "NAME": name}

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), name=text)
    def update(self, data: st.DataObject, name: str) -> None:
        lead_id = data.draw(st.sampled_from(sorted(self.model)))
        assert self.call("crm.lead.update", id=lead_id, fields={"NAME": name, "NOPE": 1}) is True
        self.model[lead_id]["NAME"] = name

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def get(self, data: st.DataObject) -> None:
        lead_id = data.draw(st.sampled_from(sorted(self.model)))
        lead = self.call("crm.lead.get", id=str(lead_id))
        assert lead["ID"] == str(lead_id)
        assert {key: lead[key] for key in ("TITLE", "NAME")} == self.model[lead_id]

    @rule(lead_id=st.integers(min_value=1, max_value=500))
    def get_missing(self, lead_id: int) -> None:
        if lead_id in self.model:
            return
        with pytest.raises(BitrixError, match="Not found"):
            self.call("crm.lead.get", id=lead_id)

    @rule(start=st.integers(min_value=0, max_value=120))
    def page(self, start: int) -> None:
        page, extra = self.call("crm.lead.list", start=start)
        ids = sorted(self.model)
        first = start // 50 * 50  # start names the page it falls in (getNavData)
        if first >= len(ids):  # past the last page: the first (CDBResult::NavQuery)
            first = 0
        assert [int(lead["ID"]) for lead in page] == ids[first : first + 50]
        assert extra["total"] == len(ids)
        assert extra.get("next") == (first + 50 if first + 50 < len(ids) else None)

    @rule(
        seconds=st.floats(min_value=0, max_value=30), burst=st.integers(min_value=1, max_value=60)
    )
    def requests_after(self, seconds: float, burst: int) -> None:
        self.moment += timedelta(seconds=seconds)
        self.portal.clock.freeze(self.moment)
        for _ in range(burst):
            if self.level_at is not None:
                elapsed = (self.moment - self.level_at).total_seconds()
                self.level = max(0.0, self.level - elapsed * 2)
            self.level_at = self.moment
            allowed = self.level + 1 <= 50
            if allowed:
                self.level += 1
            assert self.portal._take_token() is allowed

    @invariant()
    def same_records(self) -> None:
        stored = self.portal.records("lead")
        assert [int(lead["ID"]) for lead in stored] == sorted(self.model)


Bitrix24Machine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestBitrix24 = Bitrix24Machine.TestCase


class AmoCRMMachine(RuleBasedStateMachine):
    """The fake amoCRM's leads against a dict: create, update, read, page in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.account = AmoCRM()
        self.model: dict[int, dict[str, Any]] = {}
        self.seq = 0

    def send(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        from mockserver import RecordedRequest

        self.seq += 1
        content = b"" if body is None else json.dumps(body).encode()
        record = RecordedRequest(
            self.seq,
            method,
            "/api/v4" + path,
            query,
            (("Content-Type", "application/json"),),
            content,
            datetime(2026, 1, 1, tzinfo=timezone.utc),
        )
        response = self.account.dispatch(record, path, "http://fake")
        text = response.body.decode() if isinstance(response.body, bytes) else ""
        return response.status, (json.loads(text) if text else None)

    @rule(names=st.lists(text, min_size=1, max_size=3), price=st.integers(0, 10**6))
    def create(self, names: list[str], price: int) -> None:
        status, body = self.send("POST", "/leads", [{"name": n, "price": price} for n in names])
        assert status == 200
        for item in body["_embedded"]["leads"]:
            self.model[item["id"]] = {"name": names[int(item["request_id"])], "price": price}
        assert sorted(self.model) == list(range(1, len(self.model) + 1))

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), price=st.integers(0, 10**6))
    def update(self, data: st.DataObject, price: int) -> None:
        lead_id = data.draw(st.sampled_from(sorted(self.model)))
        status, _ = self.send("PATCH", f"/leads/{lead_id}", {"price": price})
        assert status == 200
        self.model[lead_id]["price"] = price

    @rule(lead_id=st.integers(1, 60))
    def read(self, lead_id: int) -> None:
        status, body = self.send("GET", f"/leads/{lead_id}")
        if lead_id in self.model:
            assert status == 200
            assert {"name": body["name"], "price": body["price"]} == self.model[lead_id]
        else:
            assert (status, body) == (204, None)

    @rule(page=st.integers(1, 5), limit=st.integers(1, 10))
    def page(self, page: int, limit: int) -> None:
        status, body = self.send("GET", "/leads", query=f"page={page}&limit={limit}")
        expected = sorted(self.model)[(page - 1) * limit : page * limit]
        if not expected:
            assert status == 204
            return
        assert [lead["id"] for lead in body["_embedded"]["leads"]] == expected
        assert ("next" in body["_links"]) == (page * limit < len(self.model))


class AmoCRMLimits(RuleBasedStateMachine):
    """The amoCRM windows: 7 a second per integration inside 50 per account, then the block."""

    def __init__(self) -> None:
        super().__init__()
        self.moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.account = amo_module.AmoCRM(block_after=10**9)
        self.account.moment = lambda: self.moment  # type: ignore[method-assign]
        self.sent: dict[str, list[float]] = {"*": []}

    @rule(
        integration=st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"]),
        seconds=st.sampled_from([0, 0, 0, 0.25, 0.5, 1.0, 2.0]),
        burst=st.integers(1, 12),
    )
    def burst_of(self, integration: str, seconds: float, burst: int) -> None:
        self.moment += timedelta(seconds=seconds)
        stamp = self.moment.timestamp()
        for _ in range(burst):
            mine = [t for t in self.sent.setdefault(integration, []) if t > stamp - 1]
            everyone = [t for t in self.sent["*"] if t > stamp - 1]
            allowed = len(mine) < 7 and len(everyone) < 50
            if allowed:
                mine.append(stamp)
                everyone.append(stamp)
            self.sent[integration], self.sent["*"] = mine, everyone
            assert self.account._limited(integration) is (not allowed)


AmoCRMLimits.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestAmoCRMLimits = AmoCRMLimits.TestCase

AmoCRMMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestAmoCRM = AmoCRMMachine.TestCase
