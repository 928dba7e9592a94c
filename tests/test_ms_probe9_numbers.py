"""Numbers no float holds in stubs (a ninth probe): ``1e999`` in a stub file or the admin
API is refused naming the field, shown as written (never as ``inf``), and a file's
``NaN`` is placed on its line."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mockserver import MockServer
from mockserver.errors import StubError
from mockserver.files import load_stub_file


def _problems(path: Path) -> str:
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    return str(caught.value)


JSON_FILE_CASES = [
    pytest.param(
        {"request": {"path": "/a"}, "response": {"json": {"n": "X"}}},
        "[0].response.json: 1e999 at n is beyond a float's range",
        id="response-json",
    ),
    pytest.param(
        {"request": {"path": "/a", "json": {"n": ["X"]}}},
        "[0].request.json: 1e999 at n[0] is beyond a float's range",
        id="request-json",
    ),
    pytest.param(
        {"request": {"path": "/a", "json_subset": {"n": "X"}}},
        "[0].request.json_subset: 1e999 at n is beyond a float's range",
        id="request-json-subset",
    ),
    pytest.param(
        {"request": {"path": "/a", "json_paths": {"$.n": {"equal": "X"}}}},
        "[0].request.json_paths.$.n.equal: 1e999 is beyond a float's range",
        id="json-paths-equal",
    ),
    pytest.param(
        {"request": {"path": "/a"}, "response": {"fault": {"type": "no_response", "seconds": "X"}}},
        "[0].response.fault.seconds: a number within a float's range (about 1.8e308 at most); "
        "got 1e999",
        id="fault-seconds",
    ),
    pytest.param(
        {"request": {"path": "/a"}, "response": {"delay_ms": "X"}},
        "[0].response.delay_ms: a whole number, written without a fraction or an exponent; "
        "got 1e999",
        id="delay-ms",
    ),
]


@pytest.mark.parametrize(("stub", "expected"), JSON_FILE_CASES)
def test_a_json_stub_file_refuses_1e999_as_written(
    tmp_path: Path, stub: dict[str, object], expected: str
) -> None:
    path = tmp_path / "stubs.json"
    path.write_text(json.dumps([stub]).replace('"X"', "1e999"), encoding="utf-8")
    message = _problems(path)
    assert f"{path}:1: {expected}" in message
    assert "inf" not in message.replace("Infinity", "")


def test_a_yaml_stub_file_refuses_a_number_beyond_a_float_in_a_json_value(
    tmp_path: Path,
) -> None:
    # It was taken as the text "2.5e+999" and answered as a string: a number became text.
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "- request: {path: /a}\n"
        "  response:\n"
        "    json: {price: 2.5e+999}\n"
        "    headers: {X-Price: 2.5e+999}\n",  # a text field takes it as written
        encoding="utf-8",
    )
    message = _problems(path)
    assert f"{path}:3: [0].response.json: 2.5e+999 at price is beyond a float's range" in message
    assert "X-Price" not in message


def test_a_yaml_number_beyond_a_float_is_not_told_to_lose_its_quotes(tmp_path: Path) -> None:
    # "a number, not text (write 2.5e+999 without quotes)": it had none.
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "- request: {path: /a}\n  response: {fault: {type: no_response, seconds: 2.5e+999}}\n",
        encoding="utf-8",
    )
    message = _problems(path)
    assert "without quotes" not in message
    assert (
        f"{path}:2: [0].response.fault.seconds: a number within a float's range "
        "(about 1.8e308 at most); got 2.5e+999"
    ) in message


def test_a_header_value_of_digits_beyond_a_float_is_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "- request: {path: /a, headers: {X-N: 2.5e+999}}\n  response: {headers: {X-N: 2.5e+999}}\n",
        encoding="utf-8",
    )
    (stub,) = load_stub_file(path)
    assert stub.response is not None
    assert stub.response.headers == {"X-N": "2.5e+999"}
    assert type(stub.response.headers["X-N"]) is str


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_json_stub_files_nan_is_placed_on_its_line(tmp_path: Path, constant: str) -> None:
    path = tmp_path / "stubs.json"
    path.write_text(
        '[{"request": {"path": "/NaN \\"Infinity\\""},\n'
        f' "response": {{"json": {{"n": {constant}}}}}}}]\n',
        encoding="utf-8",
    )
    assert f"{path}:2: JSON syntax: {constant} is not a JSON value" in _problems(path)


@pytest.mark.parametrize(
    ("field", "body", "message"),
    [
        pytest.param(
            "response.delay_ms",
            '{"request": {"path": "/a"}, "response": {"delay_ms": 1e-999}}',
            "a whole number, written without a fraction or an exponent; got 1e-999",
            id="underflow-shown-as-written",
        ),
        pytest.param(
            "response.json.n",
            '{"request": {"path": "/a"}, "response": {"json": {"n": 1e999}}}',
            "'1e999', a number too large for a float",
            id="overflow",
        ),
        pytest.param(
            "request.json_paths.$.n.equal",
            '{"request": {"json_paths": {"$.n": {"equal": -1E+999}}}}',
            "'-1E+999', a number too large for a float",
            id="overflow-in-a-matcher",
        ),
    ],
)
def test_the_admin_api_names_the_field_and_shows_the_number_as_written(
    field: str, body: str, message: str
) -> None:
    with MockServer() as server:
        answer = httpx.post(
            server.url + "/__admin/stubs",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert server.stubs == []
    assert answer.status_code == 400
    assert {"field": field, "message": message} in answer.json()["errors"]
