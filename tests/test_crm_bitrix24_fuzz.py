"""Bad input never makes the fake Bitrix24 answer 500: Hypothesis throws bodies at the
methods added for the full life cycle, batch references, OAuth and events."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer
from mockserver.crm import Bitrix24

from .strategies import fuzz_examples

KEYS = [
    "fields",
    "id",
    "filter",
    "select",
    "order",
    "start",
    "cmd",
    "halt",
    "type",
    "values",
    "entity_type",
    "FIELD_NAME",
    "USER_TYPE_ID",
    "LIST",
    "MULTIPLE",
    "MANDATORY",
    "ENTITY_ID",
    "ENTITY_TYPE",
    "COMMENT",
    "OPPORTUNITY",
    "PHONE",
    "VALUE",
    "VALUE_TYPE",
    "UF_CRM_X",
    "event",
    "handler",
    "auth_type",
    "grant_type",
    "client_id",
    "client_secret",
    "refresh_token",
    "code",
    ">ID",
    "@ID",
    "%TITLE",
    "0",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        ["$result[a]", "$result[a][0][ID]", "$result_total[a]", "UF_CRM_X", "X", "-1", "50"]
    )
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=20,
)
METHODS = [
    "crm.lead.delete",
    "crm.company.add",
    "crm.company.list",
    "crm.lead.userfield.add",
    "crm.deal.userfield.update",
    "crm.contact.userfield.get",
    "crm.timeline.comment.add",
    "crm.timeline.comment.list",
    "crm.duplicate.findbycomm",
    "batch",
]
commands = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.tuples(
        st.sampled_from(["crm.lead.add", "crm.lead.list", "crm.lead.get", "batch", "nope"]),
        st.sampled_from(
            [
                "",
                "fields[TITLE]=$result[a]",
                "id=$result[a]",
                "filter[>ID]=$result[a][49][ID]",
                "fields[PHONE][0][VALUE]=$result[b][0]",
                "start=$result_next[a]",
                "id=$result[a][[",
            ]
        ),
    ).map(lambda pair: f"{pair[0]}?{pair[1]}"),
    max_size=3,
)


@pytest.fixture(scope="module")
def far_side() -> Iterator[tuple[MockServer, str, str]]:
    with MockServer() as server:
        portal = server.mount(
            Bitrix24(secret="f", plan="unlimited", client_id="c", client_secret="s")
        )
        portal.call("crm.lead.add", {"fields": {"TITLE": "seed"}})
        token = str(portal.issue_app_tokens()["access_token"])
        yield server, server.url + portal.webhook_path, token


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500 or response.status_code == 507, response.text
    payload = response.json()
    assert ("result" in payload) != ("error" in payload) or "access_token" in payload


@settings(
    max_examples=fuzz_examples(200), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(method=st.sampled_from(METHODS), body=json_values)
def test_new_methods_never_answer_500(
    far_side: tuple[MockServer, str, str], http: httpx.Client, method: str, body: object
) -> None:
    _, webhook, _ = far_side
    _check(
        http.post(
            webhook + method, content=json.dumps(body), headers={"Content-Type": "application/json"}
        )
    )


@settings(
    max_examples=fuzz_examples(150), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cmd=commands, halt=st.booleans())
def test_batch_references_never_answer_500(
    far_side: tuple[MockServer, str, str], http: httpx.Client, cmd: dict[str, str], halt: bool
) -> None:
    _, webhook, _ = far_side
    response = http.post(webhook + "batch", json={"cmd": cmd, "halt": int(halt)})
    _check(response)
    assert response.status_code == 200
    answer = response.json()["result"]
    assert set(answer) == {"result", "result_error", "result_total", "result_next", "result_time"}


@settings(
    max_examples=fuzz_examples(100), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.dictionaries(
        st.sampled_from(KEYS),
        st.text(max_size=6) | st.sampled_from(["c", "s", "refresh_token"]),
        max_size=5,
    ),
    event=json_values,
)
def test_oauth_and_events_never_answer_500(
    far_side: tuple[MockServer, str, str],
    http: httpx.Client,
    query: dict[str, str],
    event: object,
) -> None:
    server, _, token = far_side
    _check(http.get(f"{server.url}/oauth/token/", params=query))
    body = event if isinstance(event, dict) else {"event": event}
    _check(http.post(f"{server.url}/rest/event.bind", json={**body, "auth": token}))


_ITEM_NAMES = st.sampled_from(
    ["title", "stageId", "id", ">=opportunity", "@id", "%title", "fm", "ufCrm_X", "logic", "0"]
)
_item_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_ITEM_NAMES | st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(
    max_examples=fuzz_examples(200), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    op=st.sampled_from(["add", "get", "list", "update", "delete", "fields"]),
    entity_type=st.sampled_from([1, 2, 3, 4, 7, "1", "x", None]),
    body=st.dictionaries(
        st.sampled_from(
            ["fields", "id", "select", "filter", "order", "start", "useOriginalUfNames"]
        ),
        _item_values,
        max_size=4,
    ),
)
def test_item_methods_never_answer_500(
    far_side: tuple[MockServer, str, str],
    http: httpx.Client,
    op: str,
    entity_type: object,
    body: dict[str, object],
) -> None:
    """``crm.item.*`` (eleventh probe) with any shape of its parameters."""
    _, webhook, _ = far_side
    _check(
        http.post(
            f"{webhook}crm.item.{op}",
            content=json.dumps({"entityTypeId": entity_type, **body}),
            headers={"Content-Type": "application/json"},
        )
    )
