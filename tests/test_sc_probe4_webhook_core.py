"""``webhook-try``'s files: a YAML tag on a mapping or list was ignored (``!!python/object/
apply:os.system [x]`` read as the list ``[x]``, ``!!set {a, b}`` as ``{a: null, b: null}``),
and a tag no safe reader has on a value was read as its text; each is a problem at its
line now, in one line and exit code 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from webhook_core.cli import main

ACTION = 'url: "http://127.0.0.1:9/x"\nmethod: POST\nparams:\n  - v: "{v}"\n'


@pytest.mark.parametrize(
    ("written", "tag"),
    [
        pytest.param(
            'v: !!python/object/apply:os.system ["echo x"]',
            "!!python/object/apply:os.system",
            id="python-apply",
        ),
        pytest.param("v: !!python/name:os.system x", "!!python/name:os.system", id="python-name"),
        pytest.param("v: !!set {a, b}", "!!set", id="set"),
        pytest.param("v: !foo [1]", "!foo", id="local-tag-on-a-list"),
        pytest.param("v: !foo x", "!foo", id="local-tag-on-a-value"),
    ],
)
def test_a_tagged_value_is_refused_at_its_line(tmp_path: Path, written: str, tag: str) -> None:
    action, variables = tmp_path / "a.yaml", tmp_path / "v.yaml"
    action.write_text(ACTION, encoding="utf-8")
    variables.write_text(f"n: 1\n{written}\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main([str(action), "--vars", str(variables), "--dry-run"], stdout=out, stderr=err)
    assert code == 2
    assert out.getvalue() == ""
    assert err.getvalue() == (
        f"webhook-try: {variables}:2: v: got 'the tag {tag}', expected a value without a "
        "YAML tag (a tag would change what it is; remove it)\n"
    )


def test_plain_and_str_tagged_values_still_read(tmp_path: Path) -> None:
    action, variables = tmp_path / "a.yaml", tmp_path / "v.yaml"
    action.write_text(ACTION, encoding="utf-8")
    variables.write_text("v: !!str 010\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main([str(action), "--vars", str(variables), "--dry-run"], stdout=out, stderr=err)
    assert (code, err.getvalue()) == (0, "")
    assert "v=010" in out.getvalue()
