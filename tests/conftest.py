"""What both runtime tiers share: the runtime, device and stream of a test come from the testing
kit (aclnn_py.testing: the session's runtime; device 0 and a stream torn down after the test,
which fails if it leaves aclnn-py resources open); a collective that never completes fails within
20 s, not CANN's default (HCCL's own variables).

The objects that exist once the tests are collected (modules, test items, pytest's own) are
frozen out of Python's garbage collector: the leak check and the SoC switch collect garbage
often, and each full collection then scans what the tests made since, not pytest's whole heap
(about 50 ms a collection in the binding tier's process before).

Tests marked ``long`` (a child pytest session, a fuzz campaign, a soak) are queued first, so that
the two pytest-xdist workers finish together instead of one running a long test alone at the end."""
from __future__ import annotations

import gc
import os

import pytest

os.environ.setdefault("HCCL_EXEC_TIMEOUT", "20")
os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "20")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "long: a test of several seconds, queued before the others")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: long ones first


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()  # garbage of the collection goes first: nothing frozen is ever collected
    gc.freeze()


@pytest.fixture(scope="session")
def runtime(aclnn_runtime):
    return aclnn_runtime


@pytest.fixture
def device(aclnn_device):
    return aclnn_device


@pytest.fixture
def stream(aclnn_stream):
    return aclnn_stream


@pytest.fixture
def comms_factory(runtime):
    """``make(n)``: the n ranks of a new HCCL communicator (HcclCommInitAll over devices 0..n-1;
    skipped with fewer devices), destroyed after the test."""
    from aclnn_py import hccl
    from aclnn_py.runtime import device_count

    made: list = []

    def make(n: int):
        if n > device_count():
            pytest.skip(f"{n} ranks need {n} devices; this host has {device_count()}")
        comms = hccl.init_all(list(range(n)))
        made.extend(comms)
        return comms

    yield make
    for c in made:
        c.close()
