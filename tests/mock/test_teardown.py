"""Teardown never waits for work that can no longer complete, and a Ctrl-C ends a program at once
(docs/teardown.md): aclFinalize abandons the work still queued (a collective whose other ranks
never come fails at once; a thread synchronising the stream or an event behind that work gets
ACL_ERROR_RT_STREAM_ABORT) and reports it, and the streams and events it stopped are destroyed
without an error afterwards; a Ctrl-C during a thread-rank run exits within seconds with one
KeyboardInterrupt and no teardown noise; a Ctrl-C while the main thread is inside the mock takes
effect when the call returns, as with C code; a failing close() never replaces the exception that
is unwinding."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from mock_helpers import run_python

import aclnn_py
from aclnn_py import Device, DeviceBuffer, Stream, hccl

# A collective whose other ranks never come would wait this long (HCCL_EXEC_TIMEOUT) if awaited.
EXEC_TIMEOUT = "60"

_FINALIZE_WITH_WORK_PENDING = """
import sys, threading, time
import numpy as np
import aclnn_py
from aclnn_py import AclError, Device, DeviceBuffer, Event, Runtime, Stream, hccl
runtime = Runtime()
devices = [Device(d) for d in range(2)]
comms = hccl.init_all([0, 1])
devices[0].use()
stream, waiting = Stream(), Stream()
send = DeviceBuffer.from_numpy(np.ones(8, np.float32))
recv = DeviceBuffer(32)
for _ in range(3):  # rank 1 never calls: the first waits for it, the others are queued behind
    comms[0].all_reduce(send, recv, 8, np.float32, "sum", stream)
event = Event()
event.record(stream)  # behind the collectives: never reached
waiting.wait_event(event)
lib, statuses = aclnn_py.lib, {}
waiters = [threading.Thread(target=lambda: statuses.update(stream=lib.aclrtSynchronizeStream(stream.handle))),
           threading.Thread(target=lambda: statuses.update(event=lib.aclrtSynchronizeEvent(event.handle)))]
for waiter in waiters:
    waiter.start()

def blocked(thread):  # inside the mock's wait for the stream or the event
    frame = sys._current_frames().get(thread.ident)
    while frame is not None and not (frame.f_code.co_filename.endswith("streams.py")
                                     and frame.f_code.co_name in ("synchronize", "wait")):
        frame = frame.f_back
    return frame is not None

while not all(blocked(waiter) for waiter in waiters):
    time.sleep(0.01)
start = time.monotonic()
try:
    runtime.close()
    status = 0
except AclError as error:
    status = error.code
print("aclFinalize", status, round(time.monotonic() - start, 3), flush=True)
for waiter in waiters:
    waiter.join(5)
print("synchronize", statuses["stream"], statuses["event"])
stopped = (event, waiting, stream)  # CANN's aclFinalize leaves them to the program to destroy
for resource in stopped:
    resource.close()
print("closed", all(resource.closed for resource in stopped))
"""


def test_finalize_abandons_work_that_can_no_longer_complete():
    result = run_python(_FINALIZE_WITH_WORK_PENDING,
                        env={"HCCL_EXEC_TIMEOUT": EXEC_TIMEOUT, "ACLNN_MOCK_STRICT": "1"}, timeout=60)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    status, seconds = lines["aclFinalize"].split()
    assert float(seconds) < 3.0, result.stdout + result.stderr  # not HCCL_EXEC_TIMEOUT
    assert int(status) == 148051  # ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED (ACLNN_MOCK_STRICT=1)
    assert lines["synchronize"] == "107023 107023"  # ACL_ERROR_RT_STREAM_ABORT for the threads waiting
    assert lines["closed"] == "True"
    report = result.stderr
    assert "HcclAllReduce (communicator" in report and "rank 0) was running" in report
    assert "3 queued task(s) cancelled (HcclAllReduce" in report and "aclrtRecordEvent)" in report
    assert "aclrtStreamWaitEvent was running" in report
    assert "Traceback" not in report


def test_a_failing_close_does_not_replace_the_exception_unwinding(stream):
    data = np.arange(1 << 12, dtype=np.uint8)
    with pytest.raises(ValueError, match="the original") as info:
        with DeviceBuffer(data.nbytes) as buffer:
            buffer.copy_from_host(data, stream=stream)  # queued: the mock refuses to free it now
            raise ValueError("the original")
    assert not buffer.closed
    if sys.version_info >= (3, 11):
        assert any("aclrtFree" in note and "507004" in note for note in info.value.__notes__)
    stream.synchronize()
    buffer.close()


class _Interrupt(Exception):
    """What this test's SIGINT handler raises."""


def _raise_interrupt(signum: int, frame: object) -> None:
    raise _Interrupt()


def _in_stream_wait(thread: threading.Thread) -> bool:
    """Whether ``thread`` waits inside the mock's Stream.synchronize."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None and not (frame.f_code.co_filename.endswith("streams.py")
                                     and frame.f_code.co_name == "synchronize"):
        frame = frame.f_back
    return frame is not None


def test_ctrl_c_inside_a_mock_call_takes_effect_when_it_returns(device):
    """The main thread waits in aclrtSynchronizeStream (inside the mock) for an all-reduce whose other
    rank another thread launches later; a SIGINT meanwhile runs the handler after the call returned,
    never inside it (there it was printed by cffi and lost, and the call went on)."""
    lib = aclnn_py.lib
    comms = hccl.init_all([0, 1])
    main = threading.current_thread()
    previous = signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        with Stream() as stream, DeviceBuffer.from_numpy(np.ones(4, np.float32)) as data:
            launched = []

            def rank_1() -> None:
                while not _in_stream_wait(main):
                    time.sleep(0.005)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # the handler would have run by now, were it not held
                with Device(1), Stream() as other, DeviceBuffer.from_numpy(np.ones(4, np.float32)) as mine:
                    launched.append(time.monotonic())
                    comms[1].all_reduce(mine, mine, 4, np.float32, "sum", other)
                    other.synchronize()

            comms[0].all_reduce(data, data, 4, np.float32, "sum", stream)
            helper = threading.Thread(target=rank_1)
            helper.start()
            status = []
            with pytest.raises(_Interrupt):
                status.append(lib.aclrtSynchronizeStream(stream.handle))
            raised = time.monotonic()
            helper.join()
            assert status == [] and raised > launched[0]  # raised after the call returned, not inside it
            stream.synchronize()
            assert data.to_numpy(np.float32).tolist() == [2.0] * 4  # the all-reduce was not disturbed
    finally:
        signal.signal(signal.SIGINT, previous)
        for comm in comms:
            comm.close()


_THREAD_RANKS = """
import threading
import numpy as np
from aclnn_py import Context, Device, DeviceBuffer, Runtime, Stream, hccl

def rank_main(comm):
    with Context(comm.device), Stream() as stream:
        send = DeviceBuffer.from_numpy(np.full(256, comm.rank + 1, np.float32))
        recv = DeviceBuffer(1024)
        for i in range(1, 10 ** 9):
            comm.all_reduce(send, recv, 256, np.float32, "sum", stream)
            stream.synchronize()
            if comm.rank == 0 and i == 20:
                print("running", flush=True)

with Runtime():
    devices = [Device(d) for d in range(4)]
    comms = hccl.init_all(range(4))
    threads = [threading.Thread(target=rank_main, args=(c,)) for c in comms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""

_TESTING_RANKS = """
import numpy as np
from aclnn_py import DeviceBuffer, Runtime
from aclnn_py.testing import Ranks

def body(rank):
    send = DeviceBuffer.from_numpy(np.full(256, rank.rank + 1, np.float32))
    recv = DeviceBuffer(1024)
    for i in range(1, 10 ** 9):
        rank.comm.all_reduce(send, recv, 256, np.float32, "sum", rank.stream)
        rank.stream.synchronize()
        if rank.rank == 0 and i == 20:
            print("running", flush=True)

with Runtime(), Ranks(4) as ranks:
    ranks.run(body)
"""

# The main thread spends its time inside the mock: waiting for an event another thread records.
_MAIN_THREAD_IN_THE_MOCK = """
import threading, time
from aclnn_py import Device, Event, Runtime, Stream

with Runtime(), Device(0), Stream() as waiting, Stream() as recording:
    for i in range(1, 10 ** 9):
        with Event() as event:
            waiting.wait_event(event)
            recorder = threading.Timer(0.3, event.record, (recording,))
            recorder.start()
            waiting.synchronize()
            recorder.join()
            recording.synchronize()
        if i == 1:
            print("running", flush=True)
"""


def _interrupted(script: str) -> tuple[int | None, str, float]:
    """Run ``script`` in a child until it prints its first line, then send SIGINT: its exit status,
    its stderr and the seconds it took to exit."""
    env = dict(os.environ, HCCL_EXEC_TIMEOUT=EXEC_TIMEOUT, ACLNN_PY_BACKEND="mock")
    # SIGINT as a terminal delivers it (a shell's background job inherits it ignored)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready and child.stdout.readline() == "running\n", child.stderr.read() if child.poll() else ""
        start = time.monotonic()
        child.send_signal(signal.SIGINT)
        try:
            _, stderr = child.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            _, stderr = child.communicate()
        return child.returncode, stderr, time.monotonic() - start
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("script", [_THREAD_RANKS, _TESTING_RANKS, _MAIN_THREAD_IN_THE_MOCK],
                         ids=["thread-ranks", "testing-Ranks", "main-thread-in-the-mock"])
def test_ctrl_c_ends_the_program_at_once_with_one_keyboard_interrupt(script):
    status, stderr, seconds = _interrupted(script)
    assert status == -signal.SIGINT, stderr  # Python's exit for an unhandled KeyboardInterrupt
    assert seconds < 10.0, stderr  # at once: far from HCCL_EXEC_TIMEOUT (60 s), with room for a loaded machine
    assert stderr.count("Traceback") == 1 and stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    assert "failed" not in stderr and "[aclnn-py mock]" not in stderr, stderr
