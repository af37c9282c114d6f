"""``aclnn-py`` is safe to script (child processes on the mock): JSON on stdout is the only thing
there, ``--version``, ``info --json`` and its aligned text, a reader that stops early (broken
pipe) and Ctrl-C end it quietly with the conventional status."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import aclnn_py


def env() -> dict[str, str]:
    environment = {**os.environ, "ACLNN_PY_BACKEND": "mock"}
    environment.pop("ACLNN_MOCK_STRICT", None)
    return environment


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m aclnn_py args`` on the mock."""
    return subprocess.run([sys.executable, "-m", "aclnn_py", *args], capture_output=True, text=True, env=env(),
                          timeout=timeout)


def test_selfcheck_json_on_stdout_is_the_json_alone():
    result = cli("selfcheck", "--only", "runtime/memory-copies", "--json", "-")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"] == {"pass": 1, "fail": 0, "error": 0, "skip": 0}
    assert [entry["mode"] for entry in document["results"]] == ["runtime/memory-copies"]
    # the report a person reads went to stderr
    assert "aclnn-py selfcheck: backend mock" in result.stderr
    assert "max rel err / limit" in result.stderr and "1 passed, 0 failed" in result.stderr


def test_version_and_info_as_json_and_as_aligned_text():
    program = textwrap.dedent("""
        from aclnn_py.__main__ import main
        try:
            main(["--version"])
        except SystemExit as exit_:
            print("exit", exit_.code)
        print("---")
        main(["info", "--json"])
        print("---")
        main(["info"])
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env(), timeout=120)
    assert result.returncode == 0, result.stderr
    version, as_json, as_text = result.stdout.split("---\n")
    assert version == f"aclnn-py {aclnn_py.__version__}\nexit 0\n"
    fields = json.loads(as_json)
    assert fields["aclnn_py"] == aclnn_py.__version__ and fields["backend"] == "mock"
    assert fields["requested_backend"] == "mock" and fields["soc"] == "Ascend910B4" and fields["device_count"] == 8
    assert fields["acl_api"] == "1.17.0"
    assert sorted(fields["libraries"]) == ["libascendcl", "libhccl", "libnnopbase", "libopapi"]
    assert all(os.path.isfile(path) for paths in fields["libraries"].values() for path in paths)
    lines = as_text.rstrip("\n").split("\n")
    column = len("libascendcl") + 2  # the longest label and two spaces
    labels = [line[:column].rstrip() for line in lines]
    assert labels == ["aclnn-py", "headers", "requested", "backend", "libascendcl", "libnnopbase", "libhccl",
                      "libopapi", "ACL API", "CANN", "SoC", "devices"]
    assert all(line[column - 2:column] == "  " and line[column] != " " for line in lines), as_text
    values = dict(zip(labels, (line[column:] for line in lines)))
    assert values["devices"] == "8" and values["SoC"] == "Ascend910B4" and values["ACL API"] == "1.17.0"
    assert values["libascendcl"] == ", ".join(fields["libraries"]["libascendcl"])


def test_a_reader_that_stops_early_ends_it_quietly():
    """``aclnn-py selfcheck --list | head``: the reader is gone before the listing is written."""
    child = subprocess.Popen([sys.executable, "-m", "aclnn_py", "selfcheck", "--list"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env())
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141  # 128 + SIGPIPE
    assert stderr == ""


def test_ctrl_c_ends_it_by_sigint_without_a_traceback():
    """Interrupted while a mode runs: one line, then the process dies of SIGINT after cleaning up
    (the shell shows status 130)."""
    program = textwrap.dedent("""
        import sys, time
        import aclnn_py.selfcheck.runner as runner

        def stuck(mode, host):
            print("running", mode.name, flush=True)
            time.sleep(60)

        runner._attempt = stuck
        from aclnn_py.__main__ import main
        sys.exit(main(["selfcheck", "--only", "runtime/events"]))
    """)
    # SIGINT as a terminal delivers it: a shell's background job (CI run with &) inherits it ignored,
    # and Python then never raises KeyboardInterrupt
    child = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env(), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in child.stdout:
        if line.startswith("running runtime/events"):
            break
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGINT, (child.returncode, stderr)
    assert stderr.strip().endswith("aclnn-py: interrupted"), stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
