"""The fake Bitrix24 against a dict model: Hypothesis drives creates, updates, reads, pages and
rate-limit windows in any order and checks the portal agrees with the model after every step."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mockserver.crm import bitrix24 as module
from mockserver.crm.bitrix24 import Bitrix24, BitrixError

text = st.text(alphabet="abcАБВ 1", min_size=1, max_size=6)


class Bitrix24Machine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.original_now = module.now
        module.now = lambda: self.moment
        self.portal = Bitrix24(secret="s", plan="standard")
        self.model: dict[int, dict[str, str]] = {}
        self.level = 0.0
        self.level_at: datetime | None = None

    def teardown(self) -> None:
        module.now = self.original_now

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
        assert [int(lead["ID"]) for lead in page] == ids[start : start + 50]
        assert extra["total"] == len(ids)
        assert extra.get("next") == (start + 50 if start + 50 < len(ids) else None)

    @rule(
        seconds=st.floats(min_value=0, max_value=30), burst=st.integers(min_value=1, max_value=60)
    )
    def requests_after(self, seconds: float, burst: int) -> None:
        self.moment += timedelta(seconds=seconds)
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
