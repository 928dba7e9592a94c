"""Stub files with hostile content: each error is one line naming ``file:line`` and the
field, saying what was expected, never a message that is wrong about what was written."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver import StubError
from mockserver.files import load_stub_file


@pytest.mark.parametrize(
    ("name", "written"),
    [
        pytest.param("stubs.yaml", "- priority: " + "9" * 5000 + "\n", id="yaml"),
        pytest.param("stubs.json", '[{"priority": ' + "9" * 5000 + "}]", id="json"),
    ],
)
def test_an_integer_too_long_to_read_is_not_called_quoted_text(
    tmp_path: Path, name: str, written: str
) -> None:
    # Python reads at most 4300 digits, so such a number stays text: it was not quoted,
    # and the message said "not text (write 999…(5000 digits) without quotes)".
    path = tmp_path / name
    path.write_text(written, encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert (problem.where, problem.field) == (f"{path}:1", "[0].priority")
    assert problem.message.startswith("a whole number of at most 4000 digits, not 5,000; got")
    assert "quotes" not in problem.message
    assert len(problem.message) < 300


def test_text_that_reads_as_a_long_number_is_not_repeated_in_the_hint(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(f"- priority: '{'1' * 100}'\n", encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.message.startswith("a whole number, not text (write it without quotes); got")
    assert problem.message.count("1" * 100) == 1
