"""The JSON Schema of scenario files, generated from the models.

The checked-in copy is ``scenarios/schema/scenario.schema.json`` (a test keeps
it current); editors use it through
``# yaml-language-server: $schema=…`` and ``check-jsonschema`` validates files
with it. ``python -m scenarios.schema`` prints it, ``--write FILE`` saves it into a
project of your own, ``--update`` regenerates the checked-in copy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from mockserver.schema import render as render_schema
from mockserver.schema import schema_command

from .model import Scenario

__all__ = ["SCHEMA_PATH", "scenario_schema"]

SCHEMA_PATH = Path(__file__).parent / "schema" / "scenario.schema.json"
SCHEMA_ID = "https://webhook-harness.invalid/schema/scenario.schema.json"


_PARAMETER = {
    "type": "string",
    "pattern": "^\\$\\{\\w+\\}$",
    "description": "a parameter of parametrize: (${name})",
}


def _allow_parameters(node: Any) -> Any:
    """Where a number, a boolean, a fixed word or a text of a given shape (a method, a
    duration, a rule id) is expected, ``${name}`` may stand instead."""
    if isinstance(node, dict):
        node = {key: _allow_parameters(value) for key, value in node.items()}
        if (
            node.get("type") in ("integer", "number", "boolean")
            or "enum" in node
            or "pattern" in node
        ):
            return {"anyOf": [node, _PARAMETER]}
        return node
    if isinstance(node, list):
        return [_allow_parameters(item) for item in node]
    return node


def scenario_schema() -> dict[str, Any]:
    """The schema of one YAML document of a ``*.scenario.yaml`` file.

    A document is a scenario, ``defaults:`` (a partial scenario) for the
    documents after it, or ``{defaults?, scenarios: [...]}``, the one-document
    form that tools reading one document per file (``check-jsonschema``) take.
    """
    generated = TypeAdapter(Scenario).json_schema(mode="validation")
    definitions = generated.pop("$defs")
    definitions["Scenario"] = generated
    entry = {key: value for key, value in generated.items() if key != "required"}
    entry["title"] = "Scenario (fields may come from defaults)"
    definitions["ScenarioEntry"] = entry
    for name in ("Scenario", "ScenarioEntry"):
        definitions[name]["properties"] = {
            "$schema": {"type": "string", "description": "the schema, for editors"},
            **definitions[name]["properties"],
        }
    # defaults: is every field but name, which identifies one scenario (the loader refuses it)
    definitions["Defaults"] = {
        **entry,
        "title": "Defaults: fields every scenario after them starts from (not name)",
        "properties": {k: v for k, v in entry["properties"].items() if k != "name"},
    }
    ref = {"$ref": "#/$defs/ScenarioEntry"}
    defaults = {"$ref": "#/$defs/Defaults"}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "webhook-harness scenario file document",
        "description": "A scenario; defaults: for later documents; or "
        "{defaults, scenarios: [...]} in one document.",
        "anyOf": [
            {"$ref": "#/$defs/Scenario"},
            {
                "type": "object",
                "title": "Defaults for the documents after this one",
                "properties": {"$schema": {"type": "string"}, "defaults": defaults},
                "required": ["defaults"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "title": "A file of scenarios in one document",
                "properties": {
                    "$schema": {"type": "string"},
                    "defaults": defaults,
                    "scenarios": {"type": "array", "items": ref, "minItems": 1},
                },
                "required": ["scenarios"],
                "additionalProperties": False,
            },
        ],
        "$defs": definitions,
    }
    result: dict[str, Any] = _allow_parameters(schema)
    return result


def render() -> str:
    return render_schema(scenario_schema())


def main(argv: list[str] | None = None) -> int:
    """``python -m scenarios.schema``: print the schema; ``--write FILE`` saves it into a
    project of your own; ``--check`` fails when the checked-in copy is stale; ``--update``
    rewrites it."""
    return schema_command(
        argv,
        prog="python -m scenarios.schema",
        description="The JSON Schema of *.scenario.yaml files, generated from the models.",
        text=render,
        path=SCHEMA_PATH,
    )


if __name__ == "__main__":
    sys.exit(main())
