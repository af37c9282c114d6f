"""The pytest plugin of aclnn-py (entry point ``pytest11`` named ``aclnn_py``).

Fixtures (nothing happens unless a test asks for one; ``-p no:aclnn_py``
disables the plugin):

* ``aclnn_runtime`` (session): :class:`aclnn_py.Runtime`, finalised at the end of
  the session. On the mock it initialises with ``ACLNN_MOCK_STRICT=1`` unless the
  variable is set, so the final ``aclFinalize`` fails listing whatever the mock
  still holds (also handles made through the raw C API).
* ``aclnn_device``: device 0 (``aclrtSetDevice``), reset after the test.
* ``aclnn_stream``: a stream on ``aclnn_device``, synchronised and destroyed after.
* ``aclnn_ranks``: a factory, ``aclnn_ranks(n)`` -> :class:`aclnn_py.testing.Ranks`
  (n thread ranks, each with a context, a stream and its communicator rank),
  closed after the test; skips the test when the host has fewer devices.
* ``aclnn_leak_check``: after the test and its function-scoped fixtures, every
  aclnn-py resource the test created and left open fails it, named with where it
  was created (:class:`aclnn_py.testing.LeakCheck`), and is then closed, so a leak
  is reported once, in the test that made it. The three fixtures above use it. A
  test that already failed is not blamed (what it left is closed all the same);
  the marker ``aclnn_no_leak_check`` exempts a test; ``--aclnn-leak-check`` (or the
  ini option ``aclnn_leak_check = true``) applies it to every test.
* ``aclnn_program``: build and run C/C++ programs against ``include/`` and the
  mock (:mod:`aclnn_py.testing.programs`); skips without a compiler.
* ``aclnn_mock_libdir`` (session): the mock's library directory.

Marker ``@pytest.mark.aclnn_soc("Ascend950PR")``: the test runs with the mock
re-initialised under that SoC and the previous one restored after it; on
hardware it runs when the chip has the same product profile, else it is
skipped with the reason. A SoC of no known profile (a typo) is an error at the
test's setup naming the known ones.

On the mock, what is still open at the session's end (left by a test no leak check
watched, or made through the raw C API) makes the final ``aclFinalize`` fail; that
error is reported with the last test's teardown and says it is not that test's.
Reference: docs/testing-kit.md.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

_REPORTS = pytest.StashKey[dict]()
_ACTIVE_CHECKS: list[Any] = []  # LeakChecks of the running test
_STRICT = "ACLNN_MOCK_STRICT"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aclnn_py", "aclnn-py testing kit")
    group.addoption("--aclnn-leak-check", action="store_true", default=False,
                    help="check every test for aclnn-py resources it leaves open")
    parser.addini("aclnn_leak_check", type="bool", default=False,
                  help="check every test for aclnn-py resources it leaves open")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aclnn_soc(name): run the test with the mock runtime under SoC "
                                       "`name` (ACLNN_MOCK_SOC); on hardware, only on a chip of that profile")
    config.addinivalue_line("markers", "aclnn_no_leak_check: do not check the test for aclnn-py resources "
                                       "it leaves open")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    item.stash.setdefault(_REPORTS, {})[call.when] = outcome.get_result()


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef, request: pytest.FixtureRequest) -> Iterator[None]:
    """What a broader-scoped fixture creates while a test is checked belongs to that fixture."""
    if not _ACTIVE_CHECKS or fixturedef.scope == "function":
        yield
        return
    with _ACTIVE_CHECKS[-1].paused():
        yield


def _strict_mock_init(init: Callable[[], Any]) -> Any:
    """``init()`` (an aclInit) with ACLNN_MOCK_STRICT=1 on the mock unless the variable is set."""
    import aclnn_py

    if aclnn_py.backend() != "mock" or _STRICT in os.environ:
        return init()
    os.environ[_STRICT] = "1"
    try:
        return init()
    finally:
        del os.environ[_STRICT]


@pytest.fixture(scope="session")
def aclnn_runtime() -> Iterator[Any]:
    import aclnn_py

    runtime = _strict_mock_init(aclnn_py.Runtime)
    yield runtime
    try:
        runtime.close()
    except aclnn_py.AclError as exc:  # reported with the last test's teardown: say whose it is
        pytest.fail(f"aclFinalize at the end of the test session: {exc}\n(not this test's doing: every test the "
                    "leak check watched had its leaks reported and released; what is listed here was left open by "
                    "a test it did not watch -- marked aclnn_no_leak_check, or using none of the kit's fixtures "
                    "(--aclnn-leak-check watches every test) -- or made through the raw C API)", pytrace=False)


@pytest.fixture
def aclnn_leak_check(request: pytest.FixtureRequest) -> Iterator[Any]:
    from .leaks import LeakCheck

    if request.node.get_closest_marker("aclnn_no_leak_check"):
        yield None
        return
    check = LeakCheck().start()
    _ACTIVE_CHECKS.append(check)
    try:
        yield check
    finally:
        _ACTIVE_CHECKS.remove(check)
        check.stop()
    owners = _broader_fixture_values(request)
    call = request.node.stash.get(_REPORTS, {}).get("call")
    # Not run, or failed already (its traceback holds its objects): not blamed for them.
    leaks = [] if call is None or call.failed else check.leaks(owners=owners)
    check.release(owners=owners)  # reported once, here: nothing of this test reaches the session's aclFinalize
    if leaks:
        lines = "\n  ".join(str(leak) for leak in leaks)
        pytest.fail(f"{request.node.nodeid} left {len(leaks)} aclnn-py resource(s) open "
                    f"(close them, or use `with`):\n  {lines}", pytrace=False)


def _broader_fixture_values(request: pytest.FixtureRequest) -> list[Any]:
    """The values of the test's class/module/package/session fixtures (what they hold is theirs).

    Read from the item's fixture closure (``_fixtureinfo``, which pytest plugins commonly
    use); when a pytest version lacks it, nothing is excused."""
    info = getattr(request.node, "_fixtureinfo", None)
    values = []
    for definitions in getattr(info, "name2fixturedefs", {}).values():
        definition = definitions[-1] if definitions else None  # the one in effect for this test
        cached = getattr(definition, "cached_result", None)
        if definition is not None and definition.scope != "function" and cached is not None and cached[2] is None:
            values.append(cached[0])
    return values


@pytest.fixture
def aclnn_device(aclnn_runtime: Any, aclnn_leak_check: Any) -> Iterator[Any]:
    import aclnn_py

    device = aclnn_py.Device(0)
    yield device
    device.close()


@pytest.fixture
def aclnn_stream(aclnn_device: Any) -> Iterator[Any]:
    import aclnn_py

    stream = aclnn_py.Stream()
    yield stream
    stream.close()


@pytest.fixture
def aclnn_ranks(aclnn_runtime: Any, aclnn_leak_check: Any) -> Iterator[Callable[..., Any]]:
    from .ranks import Ranks

    made: list[Ranks] = []

    def make(n: int, devices: list[int] | None = None, *, timeout: float = 300.0) -> Ranks:
        count = aclnn_runtime.device_count
        needed = n if devices is None else max(devices, default=-1) + 1
        if needed > count:
            pytest.skip(f"{n} ranks need {needed} devices; this host has {count}")
        ranks = Ranks(n, devices, timeout=timeout)
        made.append(ranks)
        return ranks

    yield make
    for ranks in reversed(made):
        ranks.close()


class Programs:
    """``aclnn_program``: build and run C/C++ programs in the test's temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def build(self, *sources: str | Path, name: str = "program", **options: Any) -> Path:
        """:func:`aclnn_py.testing.build_program` into the test's directory."""
        from .programs import CompilerNotFound, build_program

        try:
            return build_program(sources, self.directory / name, **options)
        except CompilerNotFound as exc:
            pytest.skip(f"no C/C++ compiler: {exc}")

    def run(self, program: str | Path, *args: str, **options: Any):
        """:func:`aclnn_py.testing.run_program` (LD_LIBRARY_PATH = the mock's libraries)."""
        from .programs import run_program

        return run_program(program, *args, **options)

    def compile_and_run(self, source: str, *args: str, language: str = "c++", **options: Any):
        """Build ``source`` text and run it; returns the CompletedProcess."""
        path = self.directory / ("program.cpp" if language == "c++" else "program.c")
        path.write_text(source)
        build = {key: options.pop(key) for key in ("flags", "libdir", "libraries", "strict_warnings")
                 if key in options}
        program = self.build(path, name=path.stem, **build)
        return self.run(program, *args, **options)


@pytest.fixture
def aclnn_program(tmp_path: Path) -> Programs:
    return Programs(tmp_path)


@pytest.fixture(scope="session")
def aclnn_mock_libdir() -> Path:
    from .programs import mock_libdir

    return mock_libdir()


@pytest.fixture(autouse=True)
def _aclnn_marks(request: pytest.FixtureRequest) -> Iterator[None]:
    """The ``aclnn_soc`` marker and ``--aclnn-leak-check``; nothing for other tests."""
    marker = request.node.get_closest_marker("aclnn_soc")
    check_all = request.config.getoption("--aclnn-leak-check") or request.config.getini("aclnn_leak_check")
    if marker is None and not check_all:
        yield
        return
    switched, previous = False, None
    if marker is not None:
        if len(marker.args) != 1 or not isinstance(marker.args[0], str):
            raise pytest.UsageError(f"{request.node.nodeid}: use @pytest.mark.aclnn_soc('<SoC name>')")
        name = marker.args[0]
        _known_soc(name)
        request.getfixturevalue("aclnn_runtime")
        from . import soc

        reason = soc.unavailable(name)
        if reason is not None:
            pytest.skip(reason)
        if _backend() == "mock":
            previous = os.environ.get(soc.VARIABLE)
            _strict_mock_init(lambda: soc.switch(name))
            switched = True
    if check_all:
        request.getfixturevalue("aclnn_leak_check")
    yield
    if switched:
        _strict_mock_init(lambda: soc.switch(previous))


def _known_soc(name: str) -> None:
    """An error (at the test's setup) for a SoC no product profile knows: a typo must not skip the test."""
    from ..semantics import soc as socs

    if socs.profile_of(name) is None:
        known = ", ".join(f"{prefix}* (profile {profile})" for prefix, profile in socs.PROFILES.items())
        pytest.fail(f"@pytest.mark.aclnn_soc({name!r}): unknown SoC; the known ones are {known}, "
                    "e.g. Ascend910B4 or Ascend950PR", pytrace=False)


def _backend() -> str:
    import aclnn_py

    return aclnn_py.backend()
