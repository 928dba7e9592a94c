"""``--scenario-html``: one self-contained HTML file of a run, under ``-n 2`` too, every value
escaped, the attempts on a timeline that holds 0 s and 2 h 31 min 35 s; opened in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scenarios.htmlreport import render_report
from scenarios.timeline import Mark, timeline_svg
from tests.browser import Browser, require_browser, screenshot_dir

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

SUITE = f"""\
scenarios:
  - name: 'six attempts, and the schedule is not the one expected {HOSTILE}'
    rules: [E2]
    flow:
      - message: 'hello {HOSTILE}'
      - webhook: {{url: "{{mock.url}}/r", method: GET}}
    mock:
      stubs:
        - request: {{path: /r}}
          responses: [{{status: 500}}]
    expect:
      state: paused
      attempts: [0s, 10s, 35s, 1m35s, 31m35s, {{at: 2h31m35s, ok: true}}]

  - name: an unmatched request
    rules: [C1]
    flow:
      - webhook:
          url: "{{mock.url}}/other?q=<svg onload=alert(1)>"
          method: JSON POST
          params: [{{name: "javascript:alert(1)"}}]
    mock:
      stubs:
        - name: 'the one {HOSTILE}'
          request: {{path: /r, method: POST}}
          response: {{status: 200}}
    expect:
      state: finished

  - name: it passes
    rules: [C1]
    flow:
      - webhook: {{url: "{{mock.url}}/r", method: GET}}
    mock:
      stubs:
        - request: {{path: /r}}
    expect:
      attempts: [0s]

  - name: not today
    marks: [{{skip: the far side is down}}]
    flow: [{{message: x}}]
"""


class _Page(HTMLParser):
    """What a browser would build: elements by tag, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture
def report(scenario_env: pytest.Pytester) -> Path:
    scenario_env.makefile(".scenario.yaml", suite=SUITE)
    result = scenario_env.runpytest_subprocess("-n", "2", "--scenario-html", "out/run.html")
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        ["*scenario report (HTML): written to out/run.html (4 scenario(s))*"]
    )
    return scenario_env.path / "out" / "run.html"


def test_one_file_from_the_controller_under_xdist(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    page = _parse(html)
    sections = [
        attrs
        for tag, attrs in page.tags
        if tag == "section" and "scenario" in (attrs.get("class") or "")
    ]
    assert sorted(str(attrs["data-outcome"]) for attrs in sections) == [
        "failed",
        "failed",
        "passed",
        "skipped",
    ]
    text = "".join(page.text)
    assert "the far side is down" in text
    # The conformance matrix: the rules the run pinned, and the others named once.
    assert "Conformance, rule by rule" in text
    assert re.search(
        r"C1</span></td><td>2</td><td>1</td><td><span class=\"badge DOES-NOT-CONFORM\">", html
    )
    assert "Not run: A1, A2" in text
    # The near-miss table of the unmatched request (six alike, one table).
    assert "Not matched: #1, #2, #3, #4, #5, #6 POST /other" in text
    assert "path" in text
    assert "/other" in text
    # Self-contained: nothing to load, no script, a policy that forbids both.
    assert not [tag for tag, attrs in page.tags if tag in ("script", "link", "img", "iframe")]
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "default-src 'none'" in html


def test_every_value_is_escaped(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    page = _parse(html)
    assert "<script>window" not in html
    assert "<img src=x" not in html
    assert "<svg onload" not in html
    text = "".join(page.text)
    assert HOSTILE in text  # the scenario's name, its message, the stub's label: as text
    assert "<svg onload=alert(1)>" in text
    assert not [attrs for _, attrs in page.tags if any(name.startswith("on") for name in attrs)]


def test_the_timeline_holds_zero_and_two_and_a_half_hours(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    # Sections come in the order the workers finished: find the scenario's own.
    sections = re.findall(r'<section class="scenario .*?</section>', html, re.S)
    (failed,) = [section for section in sections if "six attempts" in section]
    svg = failed[failed.index("<svg") : failed.index("</svg>")]
    actual = re.findall(r'class="attempt actual ([a-z ]+)" data-offset="([\d.]+)"', svg)
    expected = re.findall(r'class="attempt expected ([a-z ]+)" data-offset="([\d.]+)"', svg)
    assert [float(offset) for _, offset in actual] == [0, 5, 35, 95, 1895, 9095]
    assert [float(offset) for _, offset in expected] == [0, 10, 35, 95, 1895, 9095]
    # Attempt 2 came at 5 s, not 10 s, and the last failed where it should have worked.
    wrong = [index for index, (state, _) in enumerate(actual, 1) if "wrong" in state]
    assert wrong == [2, 6]
    assert all("failed" in state for state, _ in actual)
    assert ">0s</text>" in svg
    assert ">2h31m35s</text>" in svg
    assert ">2h</text>" in svg


def test_timeline_positions_fit_and_keep_order() -> None:
    offsets = [0.0, 5.0, 35.0, 95.0, 1895.0, 9095.0]
    svg = timeline_svg(None, [Mark(o, f"{o:g}", "500", ok=False) for o in offsets], title="t")
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert xs == sorted(xs)
    assert len(set(xs)) == len(xs)
    width = float(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    assert xs[0] > 0
    assert xs[-1] < width
    # Logarithmic: the first minute takes a real share of the line, not a sliver.
    assert (xs[2] - xs[0]) > 0.25 * (xs[-1] - xs[0])


def test_timeline_of_nothing_says_so() -> None:
    svg = timeline_svg([Mark(0, "0s", "0s", wrong=True)], [], title="none")
    assert "no attempt was made" in svg
    assert 'class="attempt expected any wrong"' in svg


def test_render_escapes_data_it_is_given() -> None:
    record = {
        "name": "<b>x</b>",
        "where": "a.yaml:1",
        "rules": ["E1"],
        "outcome": 'failed"><script>',
        "flow": [{"kind": "message", "text": "<i>", "where": "a.yaml:3"}],
        "expected": [
            {"at": 0, "text": "0s <u>", "status": None, "ok": None, "error": None, "block": None}
        ],
        "attempts": [],
        "failures": [{"field": "expect.<x>", "message": "'\"&", "details": ["<tr>"]}],
        "requests": [],
        "near_misses": [],
        "problem": None,
    }
    html = render_report({"n<1>": record}, implementation="<impl>")
    page = _parse(html)
    assert not [tag for tag, _ in page.tags if tag in ("b", "i", "u", "x", "script")]
    text = "".join(page.text)
    for value in ("<b>x</b>", "<i>", "<impl>", "expect.<x>", "'\"&", "<tr>", "n<1>"):
        assert value in text, value


def test_a_report_that_cannot_be_written_fails_the_run(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    (scenario_env.path / "blocker").write_text("")
    result = scenario_env.runpytest_subprocess("-o", "scenario_html=blocker/run.html")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*scenario report (HTML): cannot write blocker/run.html*"])


def test_no_option_no_report(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    result = scenario_env.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert "scenario report (HTML)" not in result.stdout.str()
    assert not list(scenario_env.path.rglob("*.html"))


def test_the_report_in_a_browser(report: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    require_browser()
    browser = Browser(screenshot_dir(tmp_path_factory))
    try:
        browser.open(report.as_uri())
        browser.wait(lambda: browser.css("svg.timeline"), "the timelines")
        assert browser.js("return typeof window.__pwned") == "undefined"
        assert HOSTILE in browser.text("h1 ~ table.index")
        browser.screenshot("report")
        first = browser.css("section.failed svg.timeline")[0]
        box = first.rect
        assert box["width"] > 400
        assert box["height"] > 100
        # Every attempt is drawn inside the picture, the last one at 2h31m35s too.
        inside = browser.js(
            """
            const svg = arguments[0], frame = svg.getBoundingClientRect();
            return [...svg.querySelectorAll('.attempt circle')].map(c => {
              const r = c.getBoundingClientRect();
              return r.left >= frame.left && r.right <= frame.right && r.width > 0;
            });""",
            first,
        )
        assert inside
        assert all(inside)
        labels = browser.js(
            "return [...arguments[0].querySelectorAll('text.tick')].map(t => t.textContent)", first
        )
        assert labels[0] == "0s"
        assert "2h" in labels
        browser.element_screenshot("section.failed svg.timeline", "report-timeline")
        browser.js("document.querySelectorAll('section.failed')[1].scrollIntoView()")
        browser.element_screenshot("section.failed .near-miss", "report-near-miss")
    finally:
        browser.close()


def test_durations_on_the_axis_read_as_in_scenario_files() -> None:
    from scenarios.durations import format_duration

    assert format_duration(timedelta(seconds=9095)) == "2h31m35s"


def test_an_error_that_is_not_a_failed_expectation_is_shown() -> None:
    from scenarios.htmlreport import scenario_record
    from scenarios.loader import scenario_from_dict

    (loaded,) = scenario_from_dict({"name": "boom", "flow": [{"message": "x"}]})
    record = scenario_record(
        loaded, result=None, error=RuntimeError("<b>it broke</b>"), server=None
    )
    assert record["problem"] == "RuntimeError: <b>it broke</b>"
    html = render_report({"x::boom": record | {"outcome": "failed"}}, implementation="ref")
    assert "RuntimeError: &lt;b&gt;it broke&lt;/b&gt;" in html
    assert "<b>it broke" not in html
