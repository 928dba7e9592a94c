"""The JSON Schema of stub files, generated from the stub model, and the command that
writes or checks a checked-in schema (shared with ``scenarios.schema``).

The checked-in copy is ``mockserver/schema/stubs.schema.json`` (a test keeps it
current). Editors use it through ``# yaml-language-server: $schema=…`` (or a
``"$schema"`` key in ``{"stubs": [...]}``), and ``check-jsonschema`` validates stub
files with it. ``python -m mockserver.schema`` prints it, ``--write FILE`` saves it into
a project of your own, ``--update`` regenerates the checked-in copy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from .models import Stub

__all__ = ["STUBS_SCHEMA_PATH", "render", "schema_command", "stub_file_schema"]

STUBS_SCHEMA_PATH = Path(__file__).parent / "schema" / "stubs.schema.json"
SCHEMA_ID = "https://webhook-harness.invalid/schema/stubs.schema.json"


def stub_file_schema() -> dict[str, Any]:
    """The schema of one document of a stub file: a list of stubs, ``{stubs: [...]}``,
    or one stub (a YAML file may hold one stub per document)."""
    generated = TypeAdapter(Stub).json_schema(mode="validation")
    definitions = generated.pop("$defs", {})
    definitions["Stub"] = generated
    stub = {"$ref": "#/$defs/Stub"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "webhook-harness stub file document",
        "description": "A list of stubs, {stubs: [...]}, or one stub.",
        "anyOf": [
            {"type": "array", "items": stub},
            {
                "type": "object",
                "title": "Stubs under a key",
                "properties": {
                    "$schema": {"type": "string", "description": "the schema, for editors"},
                    "stubs": {"type": "array", "items": stub},
                },
                "required": ["stubs"],
                "additionalProperties": False,
            },
            stub,
        ],
        "$defs": definitions,
    }


def render(schema: dict[str, Any]) -> str:
    """A schema as the checked-in file holds it (sorted keys, so diffs stay small)."""
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def schema_command(
    argv: list[str] | None,
    *,
    prog: str,
    description: str,
    text: Callable[[], str],
    path: Path,
) -> int:
    """``python -m …schema``: print the schema; ``--write FILE`` saves it into a project of
    your own and says where (and the line that points an editor at it); ``--check`` fails
    (exit 1) when the package's copy at ``path`` is stale; ``--update`` rewrites that copy
    (for this project's own checkout). Without an option nothing is written: the package's
    copy may be inside ``site-packages``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=f"{description} Without an option, print it.",
        epilog=f"In a project of your own: {prog} --write schemas/{path.name}",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--write",
        "--output",
        "-o",
        dest="output",
        metavar="FILE",
        help="write the schema to FILE ('-': standard output) and say where",
    )
    where.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 if the package's own copy ({path.name}) differs from the models",
    )
    where.add_argument(
        "--update",
        action="store_true",
        help=f"rewrite the package's own copy ({path.name}; for the project's checkout)",
    )
    options = parser.parse_args(argv)
    wanted = text()
    if options.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != wanted:
            print(f"{path} is stale: run {prog} --update", file=sys.stderr)
            return 1
        return 0
    if options.output in (None, "-") and not options.update:
        sys.stdout.write(wanted)
        return 0
    target = path if options.update else Path(options.output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(wanted, encoding="utf-8")
    except OSError as exc:
        print(f"cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    shown = target.resolve()
    print(f"wrote {shown}", file=sys.stderr)
    if not options.update:
        print(
            "point an editor at it with this first line in a YAML file of this folder "
            "(the path is from the YAML file):\n"
            f"# yaml-language-server: $schema={_relative(shown)}",
            file=sys.stderr,
        )
    return 0


def _relative(target: Path) -> str:
    """``target`` as a path from the current folder when it is below it, else absolute."""
    try:
        return target.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return target.as_posix()


def main(argv: list[str] | None = None) -> int:
    return schema_command(
        argv,
        prog="python -m mockserver.schema",
        description="The JSON Schema of stub files (YAML or JSON), generated from the model.",
        text=lambda: render(stub_file_schema()),
        path=STUBS_SCHEMA_PATH,
    )


if __name__ == "__main__":
    sys.exit(main())
