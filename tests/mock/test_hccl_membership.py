"""Who joins a communicator (issue 9, items 12 and 13): two rank threads on one device or one rank
id joined twice fail every rank at once with HCCL_E_PARA naming the device / rank and both
callers; ranks of different processes may use the same device id; a communicator left alive is
in aclFinalize's leak report (an error under ACLNN_MOCK_STRICT=1). Through Python and C.

The rendezvous cases run in a child process with the suite's HCCL timeouts (20 s) and a shorter
subprocess timeout: a mock that waited for HCCL_CONNECT_TIMEOUT instead of failing fails the test.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

from mock_helpers import C_DIR, ROOT, build_cpp, run_program, run_python

from aclnn_py.semantics.headers import load

K = load().constants
FAST = 15.0  # seconds: well below HCCL_CONNECT_TIMEOUT (20 s in the suite), far above the real cost
TIMEOUTS = {"HCCL_CONNECT_TIMEOUT": "20", "HCCL_EXEC_TIMEOUT": "20"}

JOIN = textwrap.dedent("""
    import json, os, sys, threading
    import aclnn_py
    from aclnn_py import Device, HcclError, Runtime, hccl

    joiners = json.loads(sys.argv[1])  # [[rank, device], ...] of one 2-rank communicator
    rt = Runtime()
    root = hccl.get_root_info()
    results = {}

    def join(i, rank, device):
        with Device(device):
            try:
                hccl.init_root_info(2, root, rank).close()
                results[i] = ["ok", ""]
            except HcclError as exc:
                results[i] = [exc.code, exc.message]

    threads = [threading.Thread(target=join, args=(i, r, d)) for i, (r, d) in enumerate(joiners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"pid": os.getpid(), "results": [results[i] for i in range(len(joiners))]}))
    rt.close()
""")


def join(joiners) -> dict:
    result = run_python(JOIN.replace("sys.argv[1]", repr(json.dumps(joiners))), env=TIMEOUTS, timeout=FAST)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_rank_threads_on_one_device_fail_at_once():
    out = join([[0, 0], [1, 0]])
    pid = out["pid"]
    for code, message in out["results"]:
        assert code == K["HCCL_E_PARA"], message
        assert "device 0 serves two ranks of communicator" in message and f"in process {pid}" in message
        assert "rank 0 and rank 1" in message or "rank 1 and rank 0" in message


def test_a_rank_id_joined_twice_fails_at_once():
    out = join([[0, 0], [0, 1]])
    pid = out["pid"]
    for code, message in out["results"]:
        assert code == K["HCCL_E_PARA"], message
        assert "rank 0 joined communicator" in message and "twice" in message
        assert f"process {pid} device 0" in message and f"process {pid} device 1" in message


def test_a_rank_id_joined_after_the_communicator_formed():
    code = textwrap.dedent("""
        import threading
        from aclnn_py import Device, HcclError, Runtime, hccl
        rt = Runtime()
        root = hccl.get_root_info()
        comms = {}

        def join(rank, device):
            with Device(device):
                comms[rank] = hccl.init_root_info(2, root, rank)

        threads = [threading.Thread(target=join, args=(r, r)) for r in (0, 1)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        with Device(2):
            try:
                hccl.init_root_info(2, root, 1)
            except HcclError as exc:
                print("REJECTED", exc.code, exc.message)
        for c in comms.values():
            c.close()
        rt.close()
    """)
    result = run_python(code, env=TIMEOUTS, timeout=FAST)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith(f"REJECTED {K['HCCL_E_PARA']} "), result.stdout
    assert "after it was formed: rank 1 was already taken by process" in line and "device 1" in line


def test_ranks_of_different_processes_may_share_a_device_id(tmp_path):
    """Each process may see its own physical device as device 0 (ASCEND_RT_VISIBLE_DEVICES)."""
    script = tmp_path / "rank.py"
    script.write_text(textwrap.dedent("""
        import sys
        import numpy as np
        from aclnn_py import DeviceBuffer, Runtime, Stream, hccl
        with Runtime():
            with hccl.init_from_env(device=0) as comm, Stream() as stream:
                buf = DeviceBuffer.from_numpy(np.full(4, comm.rank + 1, np.float32))
                comm.all_reduce(buf, buf, 4, np.float32, "sum", stream)
                stream.synchronize()
                # one write per line: the ranks share the pipe
                sys.stdout.write(f"SUM {comm.rank} {buf.to_numpy(np.float32).tolist()}\\n")
                sys.stdout.flush()
                buf.close()
    """))
    env = dict(os.environ, **TIMEOUTS)
    result = subprocess.run([sys.executable, "-m", "aclnn_py.launch", "-n", "2", str(script)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # the ranks' lines may interleave in the launcher's output: find them anywhere
    assert sorted(re.findall(r"SUM (\d) \[3\.0, 3\.0, 3\.0, 3\.0\]", result.stdout)) == ["0", "1"], result.stdout


LEAK = textwrap.dedent("""
    import aclnn_py
    from aclnn_py import Device, hccl
    rt = aclnn_py.Runtime()
    devices = [Device(0), Device(1)]
    comms = hccl.init_all([0, 1])
    comms[0].close()
    kept = comms[1]  # left alive
    for d in devices:
        d.close()
    try:
        rt.close()
        print("FINALIZED")
    except aclnn_py.AclError as exc:
        print("FAILED", exc.code, exc.message)
""")


def test_a_communicator_left_alive_is_in_the_leak_report():
    relaxed = run_python(LEAK, timeout=60)
    assert "FINALIZED" in relaxed.stdout, relaxed.stderr
    assert "leaked HcclComm" in relaxed.stderr and "rank 1 of 2 on device 1" in relaxed.stderr
    assert "rank 0 of 2" not in relaxed.stderr
    strict = run_python(LEAK, env={"ACLNN_MOCK_STRICT": "1"}, timeout=60)
    assert f"FAILED {K['ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED']} " in strict.stdout, strict.stdout + strict.stderr
    assert "HcclComm" in strict.stdout and "release it with HcclCommDestroy" in strict.stdout


def test_c_program(tmp_path, mock_libdir):
    program = build_cpp([C_DIR / "hccl_membership.c"], tmp_path / "hccl_membership", mock_libdir)
    result = run_program(program, mock_libdir, env={**TIMEOUTS, "ACLNN_MOCK_STRICT": "1"}, timeout=FAST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hccl membership ok" in result.stdout
