"""The mock's operator catalogue and its extension point (ACLNN_MOCK_OPERATORS).

``extension_example/`` is a downstream project's extension package: one operator,
aclnnAxpyCustom (header, rules and golden, NumPy execution). The mock builds it into
libcust_opapi.so; it is called from Python through the binding's generic operator
functions and from a C program linking ``-lcust_opapi``. An operator no catalogue holds is
absent: SymbolNotFoundError in Python, an undefined reference when a C program links it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mock_helpers import C_DIR, ROOT, build_cpp, require_tool, run_program, run_python

EXAMPLE = Path(__file__).resolve().parent / "extension_example"
VARIABLE = "ACLNN_MOCK_OPERATORS"


def _libdir(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mock_runtime", "libdir"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env}, cwd=ROOT)


@pytest.fixture(scope="module")
def extension_libdir() -> Path:
    """The mock built with the example extension (its own build directory: another fingerprint)."""
    result = _libdir({VARIABLE: str(EXAMPLE)})
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def _exported(path: Path) -> set[str]:
    out = subprocess.run([require_tool("nm"), "-D", "--defined-only", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.split()[1:2] == ["T"]}


def test_the_extension_library_exports_exactly_its_operators(extension_libdir, mock_libdir):
    assert extension_libdir != mock_libdir  # the extension is part of the build's fingerprint
    assert {n for n in _exported(extension_libdir / "libcust_opapi.so") if n.startswith("aclnn")} == {
        "aclnnAxpyCustomGetWorkspaceSize", "aclnnAxpyCustom"}
    assert "aclnnAxpyCustom" not in _exported(extension_libdir / "libopapi.so")
    assert (extension_libdir / "include" / "aclnn_axpy_custom.h").read_bytes() == \
        (EXAMPLE / "include" / "aclnn_axpy_custom.h").read_bytes()
    assert not (mock_libdir / "libcust_opapi.so").exists()


def test_a_generic_call_of_the_extension_operator_from_python(extension_libdir):
    code = """
import inspect, json
import numpy as np
from aclnn_py import Device, Runtime, Stream, Tensor, ops
from aclnn_py.errors import AclnnParamError
rng = np.random.default_rng(3)
x = rng.integers(-8, 8, (4, 5)).astype(np.float32)
y = rng.integers(-8, 8, (4, 5)).astype(np.float32)
with Runtime(), Device(0), Stream() as stream:
    with Tensor.empty((4, 5), "float32") as out:
        got = ops.axpy_custom(x, y, 1.5, out, stream=stream)
        stream.synchronize()
        result = got.to_numpy()
        plan = ops.plan("aclnnAxpyCustom", x, y, np.float32(-2), out, stream=stream)
        plan.execute(stream)
        stream.synchronize()
        again = out.to_numpy()
        plan.close()
        try:
            ops.call("aclnnAxpyCustom", x, y[:3], 1.0, out, stream=stream)
        except AclnnParamError as exc:
            refused = [exc.code, exc.message]
print(json.dumps({"result": result.tolist(), "again": again.tolist(), "refused": refused,
                  "signature": str(inspect.signature(ops.axpy_custom))}))
"""
    result = run_python(code, {VARIABLE: str(EXAMPLE), "ACLNN_PY_BACKEND": "mock"})
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    import numpy as np

    rng = np.random.default_rng(3)
    x = rng.integers(-8, 8, (4, 5)).astype(np.float32)
    y = rng.integers(-8, 8, (4, 5)).astype(np.float32)
    # small integers times 1.5 and -2: every value exact in float32
    assert found["result"] == (1.5 * x + y).tolist()
    assert found["again"] == (-2 * x + y).tolist()
    assert found["refused"] == [161002, "y (FLOAT [3, 5]) must have x's dtype and shape (FLOAT [4, 5])"]
    assert found["signature"] == ("(x: 'Tensor | ArrayLike', y: 'Tensor | ArrayLike', alpha: 'Scalar | number', "
                                  "out: 'Tensor', *, stream: 'Stream')")


def test_the_extension_operator_from_a_c_program(tmp_path, extension_libdir):
    program = build_cpp([C_DIR / "axpy_custom.c"], tmp_path / "axpy_custom", extension_libdir,
                        f"-I{extension_libdir / 'include'}", "-lcust_opapi")
    result = run_program(program, extension_libdir)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "out 1 3 5 7 9 11"  # 2 * [0..5] + 1
    assert lines[1] == "case shape status 161002 message y (FLOAT [5]) must have x's dtype and shape (FLOAT [6])"
    assert lines[-1] == "done"


def test_an_extension_must_be_named_by_an_absolute_path(tmp_path):
    result = _libdir({VARIABLE: "tests/mock/extension_example"})
    assert result.returncode != 0
    assert "ACLNN_MOCK_OPERATORS: 'tests/mock/extension_example' is not an absolute path" in result.stderr
    result = _libdir({VARIABLE: str(tmp_path)})
    assert result.returncode != 0 and "is not a Python package (no __init__.py)" in result.stderr


@pytest.mark.parametrize("spoil", ["package", "__init__.py", "include"])
def test_an_extension_others_can_change_is_refused(tmp_path, spoil):
    copy = tmp_path / "extension_example"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = {"package": copy, "__init__.py": copy / "__init__.py", "include": copy / "include"}[spoil]
    target.chmod(target.stat().st_mode | 0o002)
    result = _libdir({VARIABLE: str(copy)})
    assert result.returncode != 0
    assert f"refusing the extension {copy}: {target} is writable by group or others" in result.stderr


def test_the_fingerprint_covers_the_extension_headers(tmp_path, monkeypatch):
    from mock_runtime import _build

    copy = tmp_path / "extension_example"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv(VARIABLE, str(copy))
    before = _build._fingerprint()
    header = copy / "include" / "aclnn_axpy_custom.h"
    header.write_text(header.read_text().replace("aclTensor *out,", "aclTensor *outRef,"))
    assert _build._fingerprint() != before
    monkeypatch.delenv(VARIABLE)
    assert _build._fingerprint() != before


ABSENT_HEADER = """#ifndef ABSENT_H
#define ABSENT_H
#include "aclnn/aclnn_base.h"
#ifdef __cplusplus
extern "C" {
#endif
aclnnStatus aclnnAbsentOpGetWorkspaceSize(const aclTensor *x, aclTensor *out, uint64_t *workspaceSize,
                                          aclOpExecutor **executor);
aclnnStatus aclnnAbsentOp(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);
#ifdef __cplusplus
}
#endif
#endif
"""


def test_an_operator_the_catalogue_lacks_is_absent(tmp_path, mock_libdir):
    """Declared by a header (ACLNN_PY_INCLUDE) but implemented by no catalogue: Python raises
    SymbolNotFoundError naming it; a C program using it does not link."""
    (tmp_path / "aclnn_absent_op.h").write_text(ABSENT_HEADER)
    code = """
import numpy as np
from aclnn_py import Device, Runtime, Stream, Tensor, ops
from aclnn_py.errors import SymbolNotFoundError
with Runtime(), Device(0), Stream() as stream, Tensor.empty((2,), "float32") as out:
    try:
        ops.absent_op(np.zeros(2, np.float32), out, stream=stream)
    except SymbolNotFoundError as exc:
        print("refused:", exc)
"""
    result = run_python(code, {"ACLNN_PY_INCLUDE": str(tmp_path), "ACLNN_PY_BACKEND": "mock"})
    assert result.returncode == 0, result.stderr
    assert "refused: aclnnAbsentOpGetWorkspaceSize is not exported by" in result.stdout
    source = tmp_path / "absent.c"
    source.write_text('#include "aclnn_absent_op.h"\nint main(void) { uint64_t size = 0; aclOpExecutor *ex = 0;\n'
                      '    return (int)aclnnAbsentOpGetWorkspaceSize(0, 0, &size, &ex); }\n')
    with pytest.raises(Exception, match="undefined reference to `aclnnAbsentOpGetWorkspaceSize'"):
        build_cpp([source], tmp_path / "absent", mock_libdir, f"-I{tmp_path}")
