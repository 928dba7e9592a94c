"""Scenario files under pytest-xdist: each file parsed by one worker, the same items, errors,
warnings and reports as without xdist (``scenarios/sharing.py``)."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

# Loaded before any test: a pytester test that first imported them (PyYAML, the models)
# had them dropped from sys.modules at its teardown. Imported again, PyYAML met libyaml's C
# module of the first import, whose nodes got no tag, and the models' classes were no
# longer the ones pickle finds by name: these tests failed, or not, by the order they ran.
import yaml  # noqa: F401

import scenarios.loader  # noqa: F401
from scenarios.sharing import ParsedFile, Share, parse_file

ROOT = Path(__file__).resolve().parent.parent

PING = """\
scenarios:
  - name: ping {n}
    rules: [D2]
    marks: [smoke]
    flow:
      - webhook: {{url: "{{mock.url}}/ping", method: GET, save_to: result}}
    mock:
      stubs:
        - request: {{method: GET, path: /ping}}
          response: {{json: {{pong: true}}}}
    expect:
      variables: {{result.pong: true}}
"""

SLOW = """\
name: slow one
flow:
  - webhook: {url: "{mock.url}/slow", method: GET}
mock:
  stubs:
    - request: {path: /slow}
      response: {status: 200, delay_ms: 1500}
"""

BAD = """\
scenarios:
  - name: x
    flow:
      - webhook: {url: "{mock.url}", method: HEAD}
  - name: y
    flow: [{mesage: hi}]
"""


def _share(directory: Path, worker: int) -> Share:
    share = Share.from_workerinput(
        {"scenario_share": str(directory), "workerid": f"gw{worker}", "workercount": 2}
    )
    assert share is not None
    return share


def _same(one: ParsedFile, other: ParsedFile) -> None:
    assert one.error == other.error
    assert one.entries == other.entries
    assert one.warnings == other.warnings
    for index in range(len(one.entries)):
        mine, theirs = one.scenario(index), other.scenario(index)
        assert mine.scenario == theirs.scenario
        assert (mine.id, mine.source, mine.prefix, mine.params) == (
            theirs.id,
            theirs.source,
            theirs.prefix,
            theirs.params,
        )
        assert mine.document.lines == theirs.document.lines
        assert mine.where("flow", 0) == theirs.where("flow", 0)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "suite"
    folder.mkdir()
    paths = []
    for n in range(16):
        path = folder / f"s{n:02}.scenario.yaml"
        path.write_text(PING.format(n=n), encoding="utf-8")
        paths.append(path)
    for name, text in (("slow", SLOW), ("bad", BAD)):
        path = folder / f"{name}.scenario.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    owner = _share(tmp_path, 0)
    n = 16
    while len({owner.owns(path) for path in paths}) < 2:  # files of both workers' (16 do)
        path = folder / f"s{n:02}.scenario.yaml"
        path.write_text(PING.format(n=n), encoding="utf-8")
        paths.insert(n, path)
        n += 1
    return paths


def test_what_one_worker_parsed_the_other_takes_unchanged(
    tmp_path: Path, files: list[Path]
) -> None:
    directory = tmp_path / "share"
    directory.mkdir()
    first, second = _share(directory, 0), _share(directory, 1)
    for share in (first, second):
        for path in files:
            share.register(path)
    # gw0 collects every file first (gw1 has not started): it parses its own, then the rest.
    by_first = [first.parsed(path) for path in files]
    by_second = [second.parsed(path) for path in files]
    # The second worker parsed nothing: every result came from the first one's log, its
    # scenarios still pickled until asked for.
    assert all(parsed._loaded is None for parsed in by_second if parsed.error is None)
    for path, one, other in zip(files, by_first, by_second, strict=True):
        _same(one, other)
        _same(one, parse_file(path))
    bad = by_second[files.index(files[-1])]
    assert bad.error is not None
    assert "bad.scenario.yaml:4: scenarios[0].flow[0].webhook.method: one of GET" in bad.error
    assert "bad.scenario.yaml:6: scenarios[1].flow[0].mesage: unknown field" in bad.error
    slow = by_second[files.index(files[-2])]
    assert [(w.filename, w.lineno) for w in slow.warnings] == [(str(files[-2]), 6)]
    assert "delay_ms: 1500 holds the answer" in slow.warnings[0].message


def test_each_file_is_parsed_once_its_owner_first(
    tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import scenarios.sharing as sharing

    directory = tmp_path / "share"
    directory.mkdir()
    shares = [_share(directory, 0), _share(directory, 1)]
    for share in shares:
        for path in files:
            share.register(path)
    calls: list[tuple[str, Path]] = []
    who = ""

    def counting(path: Path, data: bytes | None = None) -> ParsedFile:
        calls.append((who, path))
        return parse_file(path, data)

    monkeypatch.setattr(sharing, "parse_file", counting)
    first, second = shares
    own = [path for path in files if first.owns(path)]
    theirs = [path for path in files if not first.owns(path)]
    # gw0 meets a file of gw1's that gw1 has not parsed yet: it parses all of its own
    # first, from the last one back (leaving them for gw1), then that one.
    who = "gw0"
    early = first.parsed(theirs[0])
    assert [path for _, path in calls] == [*reversed(own), theirs[0]]
    # gw1 then collects everything: it parses only its own files that gw0 did not, from
    # the last one back (at its first miss).
    who = "gw1"
    by_second = [second.parsed(path) for path in files]
    assert [path for worker, path in calls if worker == "gw1"] == theirs[:0:-1]
    who = "gw0"
    by_first = [early if path == theirs[0] else first.parsed(path) for path in files]
    assert len(calls) == len(files)  # each parsed once in all
    for one, other in zip(by_first, by_second, strict=True):
        _same(one, other)


def test_a_worker_that_starts_late_meets_the_other_once(
    tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import scenarios.sharing as sharing

    directory = tmp_path / "share"
    directory.mkdir()
    shares = [_share(directory, 0), _share(directory, 1)]
    for share in shares:
        for path in files:
            share.register(path)
    calls: list[Path] = []

    def counting(path: Path, data: bytes | None = None) -> ParsedFile:
        calls.append(path)
        return parse_file(path, data)

    monkeypatch.setattr(sharing, "parse_file", counting)
    # gw0 is a third of the way through when gw1 starts; then they go file for file.
    ahead = len(files) // 3
    queues = [list(files), list(files)]
    for path in queues[0][:ahead]:
        shares[0].parsed(path)
    del queues[0][:ahead]
    while queues[0] or queues[1]:
        for share, queue in zip(shares, queues, strict=True):
            if queue:
                share.parsed(queue.pop(0))
    # gw0 took gw1's files from the first one on; gw1 parsed its own from the last one
    # back: they met once, and each file was parsed once, or twice where they met.
    assert sorted(set(calls)) == sorted(files)
    assert len(calls) <= len(files) + 1


def test_a_file_changed_after_the_other_parsed_it_is_parsed_again(
    tmp_path: Path, files: list[Path]
) -> None:
    directory = tmp_path / "share"
    directory.mkdir()
    first, second = _share(directory, 0), _share(directory, 1)
    path = files[0]
    first.parsed(path)
    path.write_text(PING.format(n="changed"), encoding="utf-8")
    assert [entry.id for entry in second.parsed(path).entries] == ["ping changed"]


def test_an_unreadable_or_unfinished_record_is_not_used(tmp_path: Path, files: list[Path]) -> None:
    directory = tmp_path / "share"
    directory.mkdir()
    first, second = _share(directory, 0), _share(directory, 1)
    good, broken = files[0], files[1]
    first.parsed(good)
    first.parsed(broken)
    log = directory / "gw0.log"
    whole = log.read_bytes()
    # The second record's payload is garbled: the file is parsed afresh, the first is taken.
    size = int.from_bytes(whole[:4], "big")
    second_at = 4 + 16 + size
    garbled = whole[: second_at + 20] + b"\0" * (len(whole) - second_at - 20)
    log.write_bytes(garbled[: second_at + 4 + 16 + 10])  # and cut short, as while being written
    taken = second.parsed(good)
    assert taken._loaded is None  # from the log
    again = second.parsed(broken)
    assert again._loaded is not None  # parsed here
    _same(again, parse_file(broken))


def test_the_log_holds_one_pickled_record_per_file(tmp_path: Path, files: list[Path]) -> None:
    directory = tmp_path / "share"
    directory.mkdir()
    first = _share(directory, 0)
    for path in files[:3]:
        first.parsed(path)
    data = (directory / "gw0.log").read_bytes()
    records = 0
    while data:
        size = int.from_bytes(data[:4], "big")
        shape, entries, _, error, _ = pickle.loads(data[20 : 20 + size])
        assert (shape, error) == (1, None)
        assert entries[0].id.startswith("ping ")
        data = data[20 + size :]
        records += 1
    assert records == 3


def test_a_log_stops_growing_at_its_byte_limit(
    tmp_path: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import scenarios.sharing as sharing

    directory = tmp_path / "share"
    directory.mkdir()
    first, second = _share(directory, 0), _share(directory, 1)
    first.parsed(files[0])
    one_record = (directory / "gw0.log").stat().st_size
    monkeypatch.setattr(sharing, "MAX_LOG_BYTES", int(one_record * 2.5))
    for path in files[1:6]:
        first.parsed(path)
    assert (directory / "gw0.log").stat().st_size <= int(one_record * 2.5)
    taken = [second.parsed(path)._loaded is None for path in files[:6]]
    assert taken == [True, True, False, False, False, False]  # the rest parsed again
    for path in files[:6]:
        _same(second.parsed(path), parse_file(path))


def test_without_xdist_there_is_no_share() -> None:
    assert Share.from_workerinput({}) is None
    assert Share.from_workerinput({"workerid": "gw0", "workercount": 2}) is None
    assert (
        Share.from_workerinput({"scenario_share": "/x", "workerid": "gw0", "workercount": 1})
        is None
    )
    restarted = Share.from_workerinput(
        {"scenario_share": "/x", "workerid": "gw2", "workercount": 2}
    )
    assert restarted is not None
    assert not restarted.owns(Path("a"))
    assert not restarted.owns(Path("b"))


# --- real runs under -n 2 ---------------------------------------------------------------

COUNTING = """\
import os

import scenarios.sharing as sharing

_parse = sharing.parse_file


def _counting(path, data=None):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join(os.environ["PARSED_LOG"], worker), "a", encoding="utf-8") as log:
        log.write(str(path) + "\\n")
    return _parse(path, data)


sharing.parse_file = _counting
"""


@pytest.fixture
def env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    # Run under the project's own -n 2, this process is a worker: what it would hand down
    # to the inner pytest (PYTEST_XDIST_WORKER=gw0 in a -n 0 run) must not be.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    (pytester.path / "tmp").mkdir()
    (pytester.path / "parsed").mkdir()
    monkeypatch.setenv("TMPDIR", str(pytester.path / "tmp"))
    monkeypatch.setenv("PARSED_LOG", str(pytester.path / "parsed"))
    pytester.makeini(
        "[pytest]\nmarkers =\n    smoke: quick ones\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makeconftest(COUNTING)
    for n in range(30):
        pytester.makefile(".scenario.yaml", **{f"s{n:02}": PING.format(n=n)})
    pytester.makefile(".scenario.yaml", slow=SLOW)
    return pytester


def _parsed(env: pytest.Pytester) -> dict[str, list[str]]:
    folder = env.path / "parsed"
    found = {log.name: log.read_text(encoding="utf-8").split() for log in folder.iterdir()}
    for log in folder.iterdir():
        log.unlink()
    return found


def test_under_two_workers_each_file_is_parsed_about_once(env: pytest.Pytester) -> None:
    serial = env.runpytest_subprocess("-p", "no:randomly", "-n", "0")
    serial.assert_outcomes(passed=31)
    assert len(_parsed(env)["main"]) == 31
    parallel = env.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    parallel.assert_outcomes(passed=31)
    parallel.stdout.fnmatch_lines(["*slow.scenario.yaml:6: SlowScenarioWarning*"])
    parsed = _parsed(env)
    assert set(parsed) <= {"gw0", "gw1"}
    total = sum(len(paths) for paths in parsed.values())
    # Without the share each worker parses all 31 (62 in all); with it one parse per file,
    # and a few twice where a worker out of files of its own, taking the other's from the
    # first one on, meets the other parsing them from the last one back.
    assert 31 <= total <= 36
    assert {Path(path).name for paths in parsed.values() for path in paths} == {
        f"s{n:02}.scenario.yaml" for n in range(30)
    } | {"slow.scenario.yaml"}
    assert list((env.path / "tmp").iterdir()) == []  # the run's directory is gone


def test_the_share_can_be_turned_off(env: pytest.Pytester) -> None:
    result = env.runpytest_subprocess("-n", "2", "-o", "scenario_xdist_share=false")
    result.assert_outcomes(passed=31)
    parsed = _parsed(env)
    assert sorted(len(paths) for paths in parsed.values()) == [31, 31]
    assert list((env.path / "tmp").iterdir()) == []


def test_collection_errors_under_two_workers_name_file_and_line(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", bad=BAD)
    serial = env.runpytest_subprocess("-n", "0")
    parallel = env.runpytest_subprocess("-n", "2")
    # Collection stops without xdist; xdist runs the rest, and the run fails either way.
    assert serial.ret == pytest.ExitCode.INTERRUPTED
    assert parallel.ret == pytest.ExitCode.TESTS_FAILED
    for result in (serial, parallel):
        text = result.stdout.str()
        assert "ERROR bad.scenario.yaml" in text
        assert (
            "bad.scenario.yaml:4: scenarios[0].flow[0].webhook.method: one of GET, POST, "
            "JSON POST, PUT, PATCH, DELETE; got 'HEAD'" in text
        )
        assert "bad.scenario.yaml:6: scenarios[1].flow[0].mesage: unknown field" in text
        assert "Traceback" not in text


def test_an_unknown_mark_under_two_workers_names_file_and_line(env: pytest.Pytester) -> None:
    env.makefile(
        ".scenario.yaml",
        marked="scenarios:\n  - name: m\n    marks: [nosuch]\n    flow: [{message: x}]\n",
    )
    result = env.runpytest_subprocess("-n", "2", "--strict-markers", "marked.scenario.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*ERROR marked.scenario.yaml*"])
    result.stdout.fnmatch_lines(["*marked.scenario.yaml:3: scenarios?0?.marks: *nosuch*"])


def test_the_conformance_report_under_two_workers_knows_the_capabilities(
    env: pytest.Pytester,
) -> None:
    result = env.runpytest_subprocess(
        "-n", "2", "--conformance-report=on", "--conformance-json", "out/report.json"
    )
    result.assert_outcomes(passed=31)
    result.stdout.fnmatch_lines(
        ["*capabilities: renders messages and set values; over_limit: truncate*"]
    )
    data = json.loads((env.path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["capabilities"] == {
        "name": "webhook_core",
        "renders": True,
        "over_limit": "truncate",
    }
    assert data["rules"]["D2"] == {"scenarios": 30, "passed": 30, "verdict": "conforms"}
    assert len(data["scenarios"]) == 31


def test_the_html_report_under_two_workers_has_every_scenario(env: pytest.Pytester) -> None:
    result = env.runpytest_subprocess("-n", "2", "--scenario-html", "out/run.html")
    result.assert_outcomes(passed=31)
    result.stdout.fnmatch_lines(["*scenario report (HTML): written to *(31 scenario(s))*"])
    page = (env.path / "out" / "run.html").read_text(encoding="utf-8")
    assert "ping 29" in page
    assert "slow one" in page


def test_shards_under_two_workers_split_the_same_items(env: pytest.Pytester) -> None:
    ids = set()
    for shard in ("1/2", "2/2"):
        result = env.runpytest_subprocess("-n", "2", "--shard", shard, "-v")
        ids |= {line.split(" PASSED ")[1] for line in result.stdout.lines if " PASSED " in line}
    assert len(ids) == 31


# --- reports on xdist's wire (scenarios/wire.py) -------------------------------------------

FAILING = """\
name: failing one
flow:
  - webhook: {url: "{mock.url}/nothing", method: GET, save_to: result}
mock:
  stubs:
    - request: {path: /ping}
      response: {json: {pong: true}}
expect:
  variables: {result.pong: true}
"""

RECORDER = """\
import json
import os

import pytest

PACKED = []


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(config, data):
    report = yield
    if "$scenario_report" in data:
        PACKED.append(report.nodeid)
    return report


def pytest_runtest_logreport(report):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    longrepr = report.longrepr
    row = {
        "nodeid": report.nodeid,
        "when": report.when,
        "outcome": report.outcome,
        "location": repr(report.location),
        "keywords": sorted(report.keywords),
        "user_properties": repr(report.user_properties),
        "sections": repr(report.sections),
        "longrepr": None if longrepr is None else str(longrepr),
        "type": type(report).__name__,
        "from_worker": hasattr(report, "worker_id") and hasattr(report, "testrun_uid"),
    }
    with open(os.environ["REPORT_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(row) + "\\n")


def pytest_unconfigure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        with open(os.environ["REPORT_LOG"] + ".packed", "w", encoding="utf-8") as log:
            log.write(json.dumps(PACKED))
"""


def _reports(path: Path) -> tuple[dict[tuple[str, str], dict[str, object]], list[str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    packed = json.loads(Path(f"{path}.packed").read_text(encoding="utf-8"))
    path.unlink()
    return {(str(row["nodeid"]), str(row["when"])): row for row in rows}, packed


def test_scenario_reports_travel_packed_and_read_back_as_without_xdist(
    env: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.makefile(".scenario.yaml", failing=FAILING)
    env.makepyfile(recorder=RECORDER)
    log = env.path / "reports.jsonl"
    monkeypatch.setenv("REPORT_LOG", str(log))
    serial = env.runpytest_subprocess("-p", "recorder", "-n", "0", "--junitxml=serial.xml")
    serial.assert_outcomes(passed=31, failed=1)
    alone, none_packed = _reports(log)
    parallel = env.runpytest_subprocess("-p", "recorder", "-n", "2", "--junitxml=parallel.xml")
    parallel.assert_outcomes(passed=31, failed=1)
    shipped, packed = _reports(log)
    assert none_packed == []
    # Every report of every scenario came packed, and reads back as it was made.
    assert len(packed) == 3 * 32
    assert set(packed) == {nodeid for nodeid, _ in alone}
    assert set(shipped) == set(alone)
    for key, row in shipped.items():
        assert row.pop("from_worker") is True
        assert alone[key].pop("from_worker") is False
        assert row == alone[key], key
    failed = shipped[("failing.scenario.yaml::failing one", "call")]
    assert failed["outcome"] == "failed"
    assert "result.pong" in str(failed["longrepr"])
    assert "('rules', '')" in str(failed["user_properties"])
    parallel.stdout.fnmatch_lines(["*FAILED failing.scenario.yaml::failing one*"])
    junit = (env.path / "parallel.xml").read_text(encoding="utf-8")
    assert junit.count("<testcase ") == 32
    assert junit.count("<failure ") == 1


def test_a_report_marshal_cannot_write_travels_plain(pytester: pytest.Pytester) -> None:
    from scenarios.plugin import ReportPacking

    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    config = pytester.parseconfigure()
    packing = ReportPacking(pack=True)
    config.pluginmanager.register(packing, "packing-under-test")
    packing.track("s.scenario.yaml::one")

    def report(user_properties: list[tuple[str, object]]) -> pytest.TestReport:
        return pytest.TestReport(
            "s.scenario.yaml::one",
            ("s.scenario.yaml", 0, "scenario: one"),
            {"one": 1},
            "passed",
            None,
            "call",
            user_properties=user_properties,
        )

    plain = report([("rules", "A1"), ("odd", object())])
    data = config.hook.pytest_report_to_serializable(config=config, report=plain)
    assert "$scenario_report" not in data
    assert data["nodeid"] == "s.scenario.yaml::one"

    data = config.hook.pytest_report_to_serializable(
        config=config, report=report([("rules", "A1")])
    )
    assert set(data) == {"$scenario_report"}
    data["worker_id"] = "gw0"
    back = config.hook.pytest_report_from_serializable(config=config, data=data)
    assert isinstance(back, pytest.TestReport)
    assert back.location == ("s.scenario.yaml", 0, "scenario: one")
    assert back.user_properties == [("rules", "A1")]
    assert back.worker_id == "gw0"  # type: ignore[attr-defined]

    other = pytest.TestReport(
        "test_x.py::test", ("test_x.py", 0, "test"), {}, "passed", None, "call"
    )
    data = config.hook.pytest_report_to_serializable(config=config, report=other)
    assert "$scenario_report" not in data  # not a scenario's: pytest's own form
