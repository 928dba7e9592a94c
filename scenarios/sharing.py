"""Scenario files parsed once per run under pytest-xdist, not once per worker.

xdist has every worker collect every file, then hands out item indices, so
with ``-n 2`` each of 2 000 files would be read, validated and turned into
models twice. Instead the controller makes one directory for the run (owner
only, removed at the end) and names it in each worker's ``workerinput``. A
worker parses first the files whose path hashes to it, and leaves each one's
result there; for a file of the other's it takes the result it finds, and
when there is none yet and none of its own left to parse, parses the file
itself and leaves that result instead. Nothing waits on a clock.

A result is keyed by the file's path and its bytes, and is what one parse of
those bytes gives: the items, their marks, the warnings and a collection
error's text are the same whichever worker parsed the file (or both). A
worker takes from the directory only what collection needs of each scenario
(:class:`Entry`); the scenarios themselves stay pickled until one of them
runs. Without xdist (or with ``scenario_xdist_share = false``) a file is
simply parsed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from mockserver.validation import dotted_path

from .errors import ScenarioFileError

if TYPE_CHECKING:
    from .loader import LoadedScenario

__all__ = ["Entry", "ParsedFile", "Share", "SlowWarning", "parse_file"]

#: The ``workerinput`` key naming the run's directory.
WORKERINPUT_KEY: Final = "scenario_share"
#: Bumped when what is left in the directory changes shape.
_FORMAT: Final = 1
#: A worker's log stops growing here (about 100 000 small files' worth); the files it
#: parses after that, the others parse too.
MAX_LOG_BYTES: Final = 256 * 1024 * 1024

#: An attempt that may wait this long on the real clock is worth a warning.
SLOW_ATTEMPT_SECONDS: Final = 1.0


@dataclass(frozen=True)
class Entry:
    """What collection needs of one scenario: its item's name, rules, marks and line."""

    id: str
    rules: tuple[str, ...]
    marks: tuple[Any, ...]
    #: The line of its ``name:``.
    line: int
    #: ``file:line`` and field of its ``marks:`` (for an unknown mark under --strict-markers).
    marks_where: str
    marks_field: str


@dataclass(frozen=True)
class SlowWarning:
    """A warning collection gives for a scenario file, as data."""

    message: str
    filename: str
    lineno: int


class ParsedFile:
    """One scenario file as collection sees it: its entries and warnings, or its error;
    the scenarios themselves are unpickled on first use when another worker parsed it."""

    def __init__(
        self,
        entries: tuple[Entry, ...] = (),
        warnings: tuple[SlowWarning, ...] = (),
        *,
        error: str | None = None,
        loaded: list[LoadedScenario] | None = None,
        pickled: bytes | None = None,
    ) -> None:
        self.entries = entries
        self.warnings = warnings
        self.error = error
        self._loaded = loaded
        self._pickled = pickled

    def scenario(self, index: int) -> LoadedScenario:
        """The ``index``-th scenario of the file (unpickled once, when first asked)."""
        if self._loaded is None:
            if self._pickled is None:
                raise LookupError("a parsed file without its scenarios")
            self._loaded, self._pickled = pickle.loads(self._pickled), None
        return self._loaded[index]


def parse_file(path: Path, data: bytes | None = None) -> ParsedFile:
    """Parse one scenario file (its ``data`` if already read); a file with problems gives
    a :class:`ParsedFile` whose ``error`` lists them all."""
    from .loader import load_scenario_bytes, load_scenario_file

    try:
        loaded = load_scenario_file(path) if data is None else load_scenario_bytes(data, str(path))
    except ScenarioFileError as exc:
        return ParsedFile(error=str(exc))
    entries = tuple(_entry(one) for one in loaded)
    warnings = tuple(warning for one in loaded for warning in slow_warnings(one))
    return ParsedFile(entries, warnings, loaded=loaded)


def _entry(loaded: LoadedScenario) -> Entry:
    scenario = loaded.scenario
    marks = tuple(scenario.marks)
    return Entry(
        id=loaded.id,
        rules=tuple(scenario.rules),
        marks=marks,
        line=loaded.line_of("name"),
        marks_where=loaded.where("marks") if marks else "",
        marks_field=dotted_path((*loaded.prefix, "marks")) if marks else "",
    )


_Where = tuple[str | int, ...]  # a place under a scenario's ``mock:``


def slow_warnings(loaded: LoadedScenario) -> list[SlowWarning]:
    """A warning, with the stub's line, for each answer held by the far side that makes an
    attempt wait on the real clock: the frozen clock moves between attempts, not inside one."""
    from .durations import format_duration

    scenario = loaded.scenario
    limit = scenario.time_limit.total_seconds()
    held: list[tuple[float, str, _Where]] = []  # seconds, why, where under mock
    for index, stub in enumerate(scenario.mock.stubs):
        for answer in stub.answers:
            at: _Where = ("stubs", index)
            if answer.fault is not None and answer.fault.type == "no_response":
                held.append((answer.fault.seconds, "a no_response fault", at))
            elif answer.delay_ms:
                held.append((answer.delay_ms / 1000, f"delay_ms: {answer.delay_ms}", at))
    for name in ("bitrix24", "amocrm"):
        spec = getattr(scenario.mock.crm, name)
        for index, fault in enumerate(spec.faults if spec is not None else ()):
            if fault.kind == "commit_then_hang":
                held.append(
                    (limit, f"{name}'s commit_then_hang fault", ("crm", name, "faults", index))
                )
    warned: set[_Where] = set()
    found = []
    for seconds, why, where in held:
        wait = min(seconds, limit)
        if wait < SLOW_ATTEMPT_SECONDS or where in warned:
            continue
        warned.add(where)
        found.append(
            SlowWarning(
                f"scenario {loaded.id!r}: {why} holds the answer, so each attempt that meets "
                f"it waits {format_duration(timedelta(seconds=wait))} of real time (the time "
                f"limit is {format_duration(scenario.time_limit)}; the frozen clock does not "
                "shorten an HTTP exchange). A short time_limit, such as 300ms, keeps the run "
                "fast.",
                str(loaded.source),
                loaded.line_of("mock", *where),
            )
        )
    return found


class Share:
    """One worker's side of the run's directory of parsed files.

    Each worker appends its results to a log of its own (``gw0.log``): one write
    per file, each record its length, the file's key and the pickled result
    (a file per result would cost a file system's create and rename, more than
    the parse on some disks). A worker reads the others' logs from where it
    stopped, when it misses a file.
    """

    def __init__(self, directory: Path, *, index: int, count: int, worker: str) -> None:
        self.directory = directory
        self.index = index
        self.count = count
        self.worker = worker
        #: Scenario files met by collection, in order, not yet looked at by parsing ahead.
        self._pending: list[Path] = []
        #: This worker's own parses made ahead of their file's turn, by key.
        self._ahead: dict[bytes, ParsedFile] = {}
        #: The others' results read so far (still pickled), by key.
        self._theirs: dict[bytes, bytes] = {}
        #: The keys of the others' results already taken from ``_theirs``.
        self._taken: set[bytes] = set()
        self._logs: dict[str, tuple[BinaryIO, bytearray]] = {}  # name: file, unread tail
        self._log: int | None = None
        self._written = 0

    @classmethod
    def from_workerinput(cls, workerinput: dict[str, Any]) -> Share | None:
        """The worker's share, if the controller made a directory for the run."""
        directory = workerinput.get(WORKERINPUT_KEY)
        worker = str(workerinput.get("workerid", ""))
        count = workerinput.get("workercount")
        if not directory or not worker or not isinstance(count, int) or count < 2:
            return None
        number = worker.removeprefix("gw")
        # A worker started again after a crash (gw2 of 2) owns nothing and takes or parses.
        index = int(number) if number.isdigit() else count
        return cls(Path(directory), index=index, count=count, worker=worker)

    def owns(self, path: Path) -> bool:
        return zlib.crc32(str(path).encode("utf-8", "surrogateescape")) % self.count == self.index

    def register(self, path: Path) -> None:
        """Collection met this file; its turn to be collected comes later."""
        self._pending.append(path)

    def parsed(self, path: Path) -> ParsedFile:
        """The file as parsed by this worker or another one, whichever came first."""
        from .loader import read_scenario_bytes

        try:
            data = read_scenario_bytes(path)
        except (OSError, ScenarioFileError):
            return parse_file(path)  # says why, as a collection error
        key = _key(path, data)
        found = self._found(key)
        if found is None:
            self._parse_ahead()  # this file too, if it is one of this worker's
            found = self._found(key)
        if found is not None:
            return found
        parsed = parse_file(path, data)
        self._leave(key, parsed)
        return parsed

    def close(self) -> None:
        for file, _ in self._logs.values():
            file.close()
        self._logs.clear()
        if self._log is not None:
            os.close(self._log)
            self._log = None
        self._theirs.clear()
        self._taken.clear()
        self._ahead.clear()

    def _found(self, key: bytes) -> ParsedFile | None:
        mine = self._ahead.pop(key, None)
        if mine is not None:
            return mine
        if key not in self._theirs:
            self._read_logs()
        record = self._theirs.pop(key, None)
        if record is None:
            return None
        self._taken.add(key)
        return _unpack(record)

    def _parse_ahead(self) -> None:
        """Parse this worker's own files not yet collected, leaving each for the others
        (unless another worker, out of files of its own, has parsed it meanwhile).

        From the last one back: a worker that has run out of files of its own parses
        this one's as its collection meets them, from the first one on, so the two meet
        once, instead of parsing the same files side by side all the way. (Hence also on
        a miss of a file of its own: a worker that starts late finds the other taking its
        files from the first one on.)
        """
        from .loader import read_scenario_bytes

        while self._pending:
            path = self._pending.pop()
            if not self.owns(path):
                continue
            self._read_logs()
            try:
                data = read_scenario_bytes(path)
                key = _key(path, data)
                if key in self._ahead or key in self._theirs or key in self._taken:
                    continue
                parsed = parse_file(path, data)
            except Exception:  # its own turn reports it, on its own node
                continue
            self._leave(key, parsed)
            self._ahead[key] = parsed

    def _read_logs(self) -> None:
        """Read what the other workers appended since the last look."""
        try:
            names = [
                entry.name
                for entry in os.scandir(self.directory)
                if entry.name.endswith(".log") and entry.name != f"{self.worker}.log"
            ]
        except OSError:
            return
        for name in names:
            if name not in self._logs:
                try:
                    self._logs[name] = ((self.directory / name).open("rb"), bytearray())
                except OSError:
                    continue
            file, tail = self._logs[name]
            tail += file.read()
            used = 0
            while len(tail) - used >= _HEADER.size:
                size, key = _HEADER.unpack_from(tail, used)
                end = used + _HEADER.size + size
                if end > len(tail):
                    break  # being written: the rest comes with the next look
                self._theirs[key] = bytes(tail[used + _HEADER.size : end])
                used = end
            del tail[:used]

    def _leave(self, key: bytes, parsed: ParsedFile) -> None:
        """Append ``parsed`` to this worker's log, for the others (one write, whole)."""
        try:
            scenarios = None if parsed.error is not None else pickle.dumps(parsed._loaded, 5)
            record = pickle.dumps(
                (_FORMAT, parsed.entries, parsed.warnings, parsed.error, scenarios), 5
            )
        except Exception:  # something that does not pickle: each worker parses it
            return
        if self._written + _HEADER.size + len(record) > MAX_LOG_BYTES:
            return
        try:
            if self._log is None:
                self._log = os.open(
                    self.directory / f"{self.worker}.log",
                    os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                    0o600,
                )
            self._written += os.write(self._log, _HEADER.pack(len(record), key) + record)
        except OSError:
            pass  # the others parse it themselves


#: A record's length and its file's key.
_HEADER: Final = struct.Struct(">I16s")


def _unpack(record: bytes) -> ParsedFile | None:
    try:
        shape, entries, warnings, error, scenarios = pickle.loads(record)
    except Exception:  # anything unreadable: the file is parsed here instead
        return None
    if shape != _FORMAT:
        return None
    return ParsedFile(entries, warnings, error=error, pickled=scenarios)


def _key(path: Path, data: bytes) -> bytes:
    digest = hashlib.blake2b(data, digest_size=16, person=b"scenarios-share")
    digest.update(b"\0" + str(path).encode("utf-8", "surrogateescape"))
    return digest.digest()
