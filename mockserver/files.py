"""Stub files (YAML or JSON): read them, check every stub, report every problem at once."""

from __future__ import annotations

import functools
import os
import select
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import Problem, StubError
from .models import Stub
from .validation import dotted_path
from .written import stub_texts
from .yamlfile import (
    Document,
    load_documents,
    load_json_document,
    not_utf8,
    problems_from_validation,
)

__all__ = ["MAX_STUB_FILE_BYTES", "load_stub_file", "load_stub_files", "stubs_from_document"]

#: The longest stub file read (as the admin API's longest body): 10 000 stubs take a
#: few MiB; a file past this (or a device that never ends) is refused unread.
MAX_STUB_FILE_BYTES = 64 * 1024 * 1024


def stubs_from_document(
    document: Document, data: Any, prefix: tuple[str | int, ...]
) -> tuple[list[Stub], list[Problem]]:
    """Validate a list of stub dicts found at ``prefix`` in ``document``."""
    stubs: list[Stub] = []
    problems: list[Problem] = []
    items = data if isinstance(data, list) else [data]
    for index, item in enumerate(items):
        where = (*prefix, index) if isinstance(data, list) else prefix
        if not isinstance(item, dict):
            problems.append(
                Problem(
                    document.where(where),
                    dotted_path(where),
                    f"a stub is a mapping, got {type(item).__name__}",
                )
            )
            continue
        try:
            stub = Stub.model_validate(stub_texts(item))
        except ValidationError as exc:
            problems += problems_from_validation(exc, document, where, Stub)
            continue
        stubs.append(stub.located(functools.partial(document.where, where)))
    return stubs, problems


def load_stub_file(path: str | Path) -> list[Stub]:
    """The stubs of one file: a list of stubs, ``{stubs: [...]}``, or one stub per YAML document.

    Raises :class:`StubError` listing every problem with ``file:line`` and the field.
    """
    file = Path(path)
    try:
        data = _read_bounded(file)
    except OSError as exc:
        raise StubError([Problem(str(file), "", f"cannot read: {exc}")], source=str(file)) from exc
    if len(data) > MAX_STUB_FILE_BYTES:
        problem = Problem(
            str(file),
            "",
            f"more than {MAX_STUB_FILE_BYTES:,} bytes; a stub file is far smaller "
            "(split it into several)",
        )
        raise StubError([problem], source=str(file))
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark is not content
    except UnicodeDecodeError as exc:
        raise StubError([not_utf8(data, exc, str(file))], source=str(file)) from None
    if file.suffix.lower() == ".json":
        documents, problems = load_json_document(text, str(file))
    else:
        documents, problems = load_documents(text, str(file))
    stubs: list[Stub] = []
    for document in documents:
        data = document.data
        prefix: tuple[str | int, ...] = ()
        if isinstance(data, dict) and set(data) <= {"stubs", "$schema"} and "stubs" in data:
            data, prefix = data["stubs"], ("stubs",)
        found, trouble = stubs_from_document(document, data, prefix)
        stubs += found
        problems += trouble
    if not documents and not problems:
        problems.append(Problem(f"{file}:1", "", "the file holds no stubs"))
    if problems:
        problems.sort(key=_line)
        raise StubError(problems, source=str(file))
    return stubs


def _read_bounded(file: Path) -> bytes:
    """The file's bytes, :data:`MAX_STUB_FILE_BYTES` and one more at most."""
    with file.open("rb", buffering=0) as handle:
        if not stat.S_ISFIFO(os.fstat(handle.fileno()).st_mode):
            return handle.read(MAX_STUB_FILE_BYTES + 1) or b""
        return _read_pipe(handle.fileno())


#: How long a read of a pipe waits before it looks at the signals that came meanwhile.
_PIPE_WAKE = 0.2


def _read_pipe(fd: int) -> bytes:
    """A pipe's bytes (``--stubs <(make-stubs)``), waiting in steps: a signal that comes just
    before a blocking read is taken by Python's handler only once that read returns, and a
    pipe's writer may not write for a long time (Ctrl-C while starting then hung)."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_STUB_FILE_BYTES:
        ready, _, _ = select.select([fd], [], [], _PIPE_WAKE)
        if not ready:
            continue  # between two waits, Python runs the handler of any signal that came
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _line(problem: Problem) -> int:
    _, _, line = problem.where.rpartition(":")
    return int(line) if line.isdigit() else 0


STUB_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def load_stub_files(paths: Iterable[str | Path]) -> list[Stub]:
    """The stubs of several files, or of the stub files in directories (``*.yaml``,
    ``*.yml``, ``*.json``, below them too, in name order); every problem of every file
    is reported together."""
    stubs: list[Stub] = []
    problems: list[Problem] = []
    files: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(
            item
            for item in path.rglob("*")
            if item.suffix.lower() in STUB_FILE_SUFFIXES and item.is_file()
        )
        if not found:
            problems.append(Problem(str(path), "", "no stub files (*.yaml, *.yml, *.json) here"))
        files += found
    for file in files:
        try:
            stubs += load_stub_file(file)
        except StubError as exc:
            problems += exc.problems
    if problems:
        raise StubError(problems)
    return stubs
