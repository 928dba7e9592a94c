"""The conformance report's lines: whole runs list every rule, partial runs only theirs."""

from __future__ import annotations

from scenarios.summary import RULES, conformance_data, conformance_summary


def rows(lines: list[str]) -> dict[str, str]:
    return {line.split()[0]: line for line in lines if line[:2] in RULES}


def test_a_whole_run_lists_every_rule_and_counts_them_all() -> None:
    results = {f"s{i}": ([rule], "passed") for i, rule in enumerate(RULES)}
    results["bad"] = (["C4"], "failed")
    lines = conformance_summary(results, "webhook_core (reference)")
    assert list(rows(lines)) == list(RULES)
    assert rows(lines)["C4"].split()[1:] == ["2", "1", "DOES", "NOT", "CONFORM"]
    assert rows(lines)["A1"].endswith("conforms")
    assert lines[-1] == f"{len(RULES) - 1} of {len(RULES)} rules conform"


def test_a_partial_run_lists_only_the_rules_it_ran_and_names_the_rest() -> None:
    results = {"promo": (["D2", "E1"], "failed"), "dots": (["A2"], "passed")}
    lines = conformance_summary(results, "webhook_core (reference)")
    assert list(rows(lines)) == ["A2", "D2", "E1"]
    assert not any("not run" in line for line in lines[:-1])
    last = lines[-1]
    assert last.startswith(
        f"1 of {len(RULES)} rules conform (3 run; {len(RULES) - 3} not run: A1, A3,"
    )
    assert "D2" not in last.split("not run:")[1]


def test_skipped_and_xfailed_outcomes_have_their_own_verdicts() -> None:
    results = {"a": (["F1"], "skipped"), "b": (["F2"], "xfailed"), "c": (["F2"], "passed")}
    table = rows(conformance_summary(results, "process 'node sender.js'"))
    assert table["F1"].endswith("skipped")
    assert table["F2"].endswith("conforms")


def test_a_run_whose_scenarios_pin_no_rule_says_so_without_a_table() -> None:
    lines = conformance_summary({"mine": ([], "passed")}, "webhook_core (reference)")
    assert lines[:2] == ["implementation: webhook_core (reference)", "scenarios: 1 passed"]
    assert rows(lines) == {}
    assert lines[-1] == "no scenario of this run pins a rule"


def test_with_rule_selected_the_other_rules_of_its_scenarios_are_not_judged() -> None:
    results = {"retries": (["E2", "D1"], "passed"), "pause": (["E2", "F3"], "passed")}
    lines = conformance_summary(results, "webhook_core (reference)", selected={"E2"})
    assert list(rows(lines)) == ["E2"]
    assert "not judged (only the scenarios of E2 ran): D1, F3" in lines[-3]
    assert lines[-1].startswith(
        f"1 of {len(RULES)} rules conform (1 run; 2 not judged; {len(RULES) - 3} not run: A1,"
    )
    data = conformance_data(results, "webhook_core (reference)", selected={"E2"})
    assert data["conforming"] == 1
    assert data["not_judged"] == ["D1", "F3"]
    assert data["rules"]["D1"] == {"scenarios": 1, "passed": 1, "verdict": "not judged"}


def test_a_failing_rule_outside_the_selection_is_not_judged_either() -> None:
    results = {"a": (["E2", "D1"], "failed")}
    table = rows(conformance_summary(results, "x", selected={"E2"}))
    assert table["E2"].endswith("DOES NOT CONFORM")
    assert "D1" not in table
