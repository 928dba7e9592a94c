"""pytest fixtures for the mock server (registered through the ``pytest11`` entry point).

- ``mockserver``: a server for this test, strict by default: at teardown an
  unmatched request, an exhausted ``fail`` sequence or a stub that never
  answered fails the test with the whole story. One server runs per worker
  (pytest-xdist safe: a free port each) and is reset between tests.
- ``mockserver_factory``: more servers, ``mockserver_factory(stubs, **options)``,
  each started, checked and stopped with the test.

Leniency: ``--mockserver-lenient`` or ``mockserver_strict = false`` in the ini
file, or ``@pytest.mark.mockserver_lenient`` on a test.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from .errors import VerificationError

if TYPE_CHECKING:
    from .models import Stub
    from .server import MockServer

__all__ = ["mockserver", "mockserver_factory"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver")
    group.addoption(
        "--mockserver-lenient",
        action="store_true",
        default=None,
        help="do not fail tests for unmatched requests or unused stubs",
    )
    parser.addini(
        "mockserver_strict",
        type="bool",
        default=True,
        help="fail a test whose mock server saw an unmatched request or an unused stub",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockserver_lenient: this test's mock servers are not checked strictly"
    )
    # Read once, at the start: a value that is no truth value stops the run here, naming
    # the setting, instead of an error with pytest's traceback at every test's fixture.
    try:
        config.getini("mockserver_strict")
    except (ValueError, pytest.UsageError):
        written = config.inicfg.get("mockserver_strict", "")
        raise pytest.UsageError(
            f"ini option mockserver_strict: expected true or false (also 1/0, yes/no, "
            f"on/off); got {str(written)!r}"
        ) from None


#: The mock servers a test uses, for its failure report; and whether its call failed.
_SERVERS = pytest.StashKey[list["MockServer"]]()
_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test that failed on its own gets its mock servers' story as a section of its
    failure report, instead of a second failure (an ERROR at teardown) beside it."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True
        for server in item.stash.get(_SERVERS, []):
            try:
                server.check()
            except VerificationError as exc:
                report.sections.append((_named(server), exc.report))
    return report


def _strict(request: pytest.FixtureRequest) -> bool:
    if request.node.get_closest_marker("mockserver_lenient") is not None:
        return False
    if request.config.getoption("--mockserver-lenient"):
        return False
    return bool(request.config.getini("mockserver_strict"))


def _check(server: MockServer) -> None:
    """The strict verdict, reported as the story alone (no traceback of the plugin)."""
    try:
        server.check()
    except VerificationError as exc:
        report = exc.report
    else:
        return
    # Outside the except block: the story once, not again as the "context" of the failure.
    pytest.fail(f"{_named(server)}: {report}", pytrace=False)


def _named(server: MockServer) -> str:
    """How a report names a server; one the test stopped has no URL (``url`` raises,
    which in a report hook was a pytest INTERNALERROR that ended the whole run)."""
    return f"mock server at {server.url}" if server.running else "mock server (stopped)"


class _Shared:
    """The worker's one server, started again when a test stopped it."""

    def __init__(self) -> None:
        self.server: MockServer | None = None

    def running(self) -> MockServer:
        from .server import MockServer

        if self.server is None or not self.server.running:
            if self.server is not None:
                self.server.stop_thread()
            self.server = MockServer().start_in_thread()
        return self.server


@pytest.fixture(scope="session")
def _mockserver_session() -> Iterator[_Shared]:
    shared = _Shared()
    try:
        yield shared
    finally:
        if shared.server is not None:
            shared.server.stop_thread()


@pytest.fixture
def mockserver(
    _mockserver_session: _Shared, request: pytest.FixtureRequest
) -> Iterator[MockServer]:
    """This test's mock server (reset before the test, checked after it when strict)."""
    server = _mockserver_session.running()
    server.reset()
    request.node.stash.setdefault(_SERVERS, []).append(server)
    yield server
    try:
        if not server.running:
            # Shared by the worker's tests: the next test gets a new one, this one is told.
            pytest.fail(
                "mockserver: this test stopped the mock server the `mockserver` fixture "
                "shares between tests (the next test gets a new one); for a server a "
                "test stops, use mockserver_factory()",
                pytrace=False,
            )
        if _strict(request) and not request.node.stash.get(_CALL_FAILED, False):
            _check(server)
    finally:
        server.reset()


@pytest.fixture
def mockserver_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., MockServer]]:
    """Make more mock servers: ``mockserver_factory(stubs=(), **MockServer options)``."""
    made: list[MockServer] = []

    from .server import MockServer

    def make(stubs: Iterable[Stub | Mapping[str, Any]] = (), **options: Any) -> MockServer:
        server = MockServer(stubs, **options).start_in_thread()
        made.append(server)
        request.node.stash.setdefault(_SERVERS, []).append(server)
        return server

    yield make
    try:
        if _strict(request) and not request.node.stash.get(_CALL_FAILED, False):
            for server in made:
                _check(server)
    finally:
        for server in made:
            server.stop_thread()
