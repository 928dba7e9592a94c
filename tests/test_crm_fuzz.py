"""Bad input never makes a fake CRM answer 500 or crash: Hypothesis throws bodies at them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver import MockServer
from mockserver.crm import AmoCRM, Bitrix24

from .strategies import fuzz_examples

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "fields",
                    "id",
                    "filter",
                    "select",
                    "order",
                    "start",
                    "cmd",
                    "halt",
                    "name",
                    "price",
                    "custom_fields_values",
                    "values",
                    "value",
                    "field_id",
                    "field_code",
                    "enum_code",
                    "_embedded",
                    "contacts",
                    "TITLE",
                    "PHONE",
                    "EMAIL",
                    "VALUE",
                    "DELETE",
                    "ID",
                    "0",
                    "request_id",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def far_side() -> Iterator[tuple[str, str, str]]:
    with MockServer() as server:
        portal = server.mount(Bitrix24(secret="f", plan="unlimited"))
        amo = server.mount(AmoCRM(per_integration=10**9, per_account=10**9))
        token = amo.issue_token("fuzz")
        yield server.url + portal.webhook_path, f"{server.url}/amocrm/example/api/v4", token


BITRIX_METHODS = [
    "crm.lead.add",
    "crm.lead.get",
    "crm.lead.list",
    "crm.lead.update",
    "crm.contact.add",
    "crm.deal.update",
    "crm.lead.fields",
    "batch",
]
AMO_PATHS = [
    ("POST", "/leads"),
    ("PATCH", "/leads"),
    ("POST", "/leads/complex"),
    ("POST", "/contacts"),
    ("GET", "/leads"),
    ("PATCH", "/leads/1"),
    ("GET", "/leads/x"),
]


@settings(
    max_examples=fuzz_examples(150), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(BITRIX_METHODS),
    body=json_values,
    raw=st.binary(max_size=40),
    as_json=st.booleans(),
)
def test_bitrix24_never_answers_500(
    far_side: tuple[str, str, str],
    http: httpx.Client,
    method: str,
    body: object,
    raw: bytes,
    as_json: bool,
) -> None:
    webhook, _, _ = far_side
    if as_json:
        response = http.post(
            webhook + method, content=json.dumps(body), headers={"Content-Type": "application/json"}
        )
    else:
        response = http.post(
            webhook + method,
            content=raw,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code < 500, response.text
    payload = response.json()
    assert ("result" in payload) != ("error" in payload)


@settings(
    max_examples=fuzz_examples(150), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(AMO_PATHS), body=json_values)
def test_amocrm_never_answers_500(
    far_side: tuple[str, str, str], http: httpx.Client, route: tuple[str, str], body: object
) -> None:
    _, api, token = far_side
    method, path = route
    response = http.request(
        method,
        api + path,
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
