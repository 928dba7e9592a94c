"""Scenario files that cannot be read say where: a byte that is not UTF-8, a character
YAML refuses, a file saved as UTF-16 are each refused with ``file:line``."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.errors import ScenarioFileError
from scenarios.loader import load_scenario_bytes

BASE = b"""scenarios:
  - name: t
    flow:
      - webhook:
          url: "http://127.0.0.1:9/x"
          method: GET
          params:
            - a: x
      - message: VAL
"""


def _problems(data: bytes) -> list[str]:
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_bytes(data, "f.scenario.yaml")
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(b"caf\xe9", "0xe9", id="latin-1"),
        pytest.param(b"\xed\xa0\xbd", "0xed", id="encoded-surrogate"),
        pytest.param(b"\xc0\xaf", "0xc0", id="overlong"),
    ],
)
def test_a_byte_that_is_not_utf8_is_refused_at_its_line(value: bytes, shown: str) -> None:
    [problem] = _problems(BASE.replace(b"VAL", value))
    assert problem.startswith("f.scenario.yaml:9: ")
    assert shown in problem
    assert "UTF-8" in problem
    assert "position" not in problem


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"a\x00b", id="NUL"),
        pytest.param(b"a\xc2\x80b", id="C1-control"),
        pytest.param(b"a\x07b", id="BEL"),
    ],
)
def test_a_character_yaml_refuses_is_refused_at_its_line(value: bytes) -> None:
    [problem] = _problems(BASE.replace(b"VAL", value))
    assert problem.startswith("f.scenario.yaml:9: ")
    assert "position" not in problem
    assert "control characters are not allowed" in problem


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_a_file_saved_as_utf16_or_utf32_says_so(codec: str) -> None:
    [problem] = _problems(BASE.replace(b"VAL", b"x").decode().encode(codec))
    assert problem.startswith("f.scenario.yaml:1: ")
    assert codec.upper() in problem
    assert "save it as UTF-8" in problem


def test_a_utf8_byte_order_mark_is_not_content() -> None:
    [loaded] = load_scenario_bytes(b"\xef\xbb\xbf" + BASE.replace(b"VAL", b"x"), "f")
    assert loaded.scenario.flow[1].message == "x"


def test_a_stub_file_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    from mockserver.errors import StubError
    from mockserver.files import load_stub_file

    file = tmp_path / "stubs.yaml"
    file.write_bytes(b"- request: {path: /a}\n  response: {body: caf\xe9}\n")
    with pytest.raises(StubError) as caught:
        load_stub_file(file)
    [problem] = [str(problem) for problem in caught.value.problems]
    assert problem.startswith(f"{file}:2: byte 0xe9 at column ")
