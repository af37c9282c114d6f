"""CANN's programs against include/ and the mock: include chains, link lines, runtime additions.

* tests/c/quant_matmul_all_reduce_doc_style.cpp includes only the headers of the
  QuantMatmulAllReduceV4 doc sample and uses the runtime API, HCCL (2 ranks on
  threads), aclnnTransMatmulWeight and aclnnQuantMatmulAllReduceV4; it builds
  as C++11 and C++17 with -Werror, links with CANN's classic and split library
  names and checks its output values itself;
* the split libraries export exactly the functions of their headers;
* aclrtGetMemInfo (C program tests/c/mem_info.c and the raw Python layer);
* aclnnTransMatmulWeight's positive workspace, checked at execute;
* the cann loader over a directory holding only split library names.

Where the mock is built, and the rules a build directory follows: tests/mock/test_mock_build.py.
"""
from __future__ import annotations

import gc
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from mock_helpers import C_DIR, ROOT, require_tool, run_program, run_python

import aclnn_py
from aclnn_py import DeviceBuffer, ffi
from aclnn_py.semantics import catalogue
from aclnn_py.semantics.headers import LIBRARY_HEADERS, SPLIT_LIBRARIES, SPLIT_OPERATOR_LIBRARIES, load
from aclnn_py.check import recent_message

CLASSIC = ["-lascendcl", "-lnnopbase", "-lopapi", "-lhccl"]
#: ops-transformer's example build line (split operator packages next to the classic runtime names).
OPS_EXAMPLE = ["-lopapi_math", "-lopapi_transformer", "-lopapi_nn", "-lascendcl", "-lnnopbase", "-lhccl",
               "-lhccl_fwk"]
#: Only split names: no libascendcl, no libopapi.
SPLIT = ["-lacl_rt", "-lnnopbase", "-lopapi_transformer", "-lopapi_math", "-lopapi_nn", "-lhcomm", "-lhccl",
         "-lhccl_fwk"]
DEVICE_MEMORY = 64 << 30


def build(source: Path, out: Path, libdir: Path, std: str, libraries: list[str]) -> Path:
    compiler = require_tool("g++" if source.suffix == ".cpp" else "gcc")
    command = [compiler, f"-std={std}", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(ROOT / "include"),
               str(source), "-o", str(out), f"-L{libdir}", *libraries, "-lpthread"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, " ".join(command) + "\n" + result.stderr
    return out


# -- the doc-style C++ program ------------------------------------------------
@pytest.mark.parametrize("std,libraries,soc", [("c++11", CLASSIC, "Ascend910B4"),
                                               ("c++17", OPS_EXAMPLE, "Ascend950PR"),
                                               ("c++17", SPLIT, "Ascend910B4")],
                         ids=["c++11-classic-A2", "c++17-ops-example-950", "c++17-split-A2"])
def test_doc_style_program(tmp_path, mock_libdir, std, libraries, soc):
    program = build(C_DIR / "quant_matmul_all_reduce_doc_style.cpp", tmp_path / "doc_style", mock_libdir, std, libraries)
    result = run_program(program, mock_libdir, {"ACLNN_MOCK_SOC": soc, "ACLNN_MOCK_STRICT": "1",
                                                "HCCL_EXEC_TIMEOUT": "30", "HCCL_CONNECT_TIMEOUT": "30"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ALL OK" in result.stdout
    for rank, weight in ((0, "ND"), (1, "NZ")):
        assert f"rank {rank} ({weight} weight" in result.stdout and "1024 values, 0 wrong" in result.stdout
    assert f"{DEVICE_MEMORY} of {DEVICE_MEMORY} bytes free" in result.stdout
    assert "leaked" not in result.stderr


def test_doc_style_program_uses_only_the_doc_sample_headers():
    includes = [line for line in (C_DIR / "quant_matmul_all_reduce_doc_style.cpp").read_text().splitlines() if line.startswith("#include")]
    assert includes == ["#include <iostream>", "#include <vector>", "#include <thread>", '#include "hccl/hccl.h"',
                        '#include "aclnn/opdev/fp16_t.h"', '#include "aclnnop/aclnn_trans_matmul_weight.h"',
                        '#include "aclnnop/aclnn_quant_matmul_all_reduce_v4.h"']


# -- split libraries ------------------------------------------------------------
def _exported(path: Path) -> set[str]:
    nm = require_tool("nm")
    out = subprocess.run([nm, "-D", "--defined-only", str(path)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.split()[1:2] == ["T"]}


def test_split_libraries_export_exactly_their_headers(mock_libdir):
    decls = load()
    expected: dict[str, set[str]] = {"hccl_fwk": set()}
    for library, headers in LIBRARY_HEADERS.items():
        for header in headers:
            if SPLIT_LIBRARIES[header] != library:
                names = {f.name for f in decls.functions.values() if f.header == header}
                expected.setdefault(SPLIT_LIBRARIES[header], set()).update(names)
    for op, entry in catalogue.all_rules().items():  # the operators: the split library their rules name
        two_phase = catalogue.project_signature(op).two_phase
        expected.setdefault(entry.library, set()).update({op, f"{op}GetWorkspaceSize"} if two_phase else {op})
    expected.setdefault("opapi_cv", set())
    assert set(expected) == {"acl_rt", "hcomm", "hccl_fwk", "opapi_transformer", "opapi_math", "opapi_nn",
                             "opapi_cv"}
    assert {"aclrtMalloc", "aclInit", "aclrtGetMemInfo"} <= expected["acl_rt"]
    assert {"HcclCommInitAll", "HcclBarrier", "HcclGetCommName"} <= expected["hcomm"]
    assert "HcclAllReduce" not in expected["hcomm"]
    assert expected["opapi_math"] == {"aclnnCalculateMatmulWeightSize", "aclnnCalculateMatmulWeightSizeV2",
                                      "aclnnTransMatmulWeightGetWorkspaceSize", "aclnnTransMatmulWeight",
                                      "aclnnCastGetWorkspaceSize", "aclnnCast", "aclnnPermuteGetWorkspaceSize",
                                      "aclnnPermute", "aclnnNpuFormatCastGetWorkspaceSize", "aclnnNpuFormatCast",
                                      "aclnnNpuFormatCastCalculateSizeAndFormat"}
    assert expected["opapi_nn"] == {"aclnnTransQuantParamV2GetWorkspaceSize", "aclnnTransQuantParamV2",
                                    "aclnnMmGetWorkspaceSize", "aclnnMm", "aclnnMatmulGetWorkspaceSize", "aclnnMatmul",
                                    "aclnnWeightQuantBatchMatmulV2GetWorkspaceSize", "aclnnWeightQuantBatchMatmulV2",
                                    "aclnnDynamicQuantGetWorkspaceSize", "aclnnDynamicQuant"}
    for split, names in expected.items():
        assert _exported(mock_libdir / f"lib{split}.so") == names, split
    # the classic names keep exporting everything of their headers; libopapi every operator
    for library in LIBRARY_HEADERS:
        assert {f.name for f in decls.library_functions(library)} <= _exported(mock_libdir / f"lib{library}.so")
    operators = {name for split in SPLIT_OPERATOR_LIBRARIES for name in expected[split]}
    assert {name for name in _exported(mock_libdir / "libopapi.so") if name.startswith("aclnn")} == operators


def test_every_header_has_a_split_library():
    headers = [h for hs in LIBRARY_HEADERS.values() for h in hs]
    assert sorted(SPLIT_LIBRARIES) == sorted(headers), "add each header of LIBRARY_HEADERS to SPLIT_LIBRARIES"


@pytest.mark.parametrize("libraries", [["-lascendcl"], ["-lacl_rt"]], ids=["classic", "split"])
def test_mem_info_c(tmp_path, mock_libdir, libraries):
    program = build(C_DIR / "mem_info.c", tmp_path / "mem_info", mock_libdir, "c99", libraries)
    result = run_program(program, mock_libdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"total={DEVICE_MEMORY}\n" in result.stdout and "mem_info ok" in result.stdout


def test_hccl_c_program_links_with_split_names(tmp_path, mock_libdir):
    program = build(C_DIR / "hccl_allreduce.c", tmp_path / "hccl_split", mock_libdir, "c99",
                    ["-lacl_rt", "-lhcomm", "-lhccl", "-lhccl_fwk"])
    result = subprocess.run([str(program), "run", "2"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(mock_libdir),
                                 "HCCL_EXEC_TIMEOUT": "20"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ranks=2 failures=0" in result.stdout


def test_cann_loader_over_split_names_only(tmp_path, mock_libdir):
    """ACLNN_PY_BACKEND=cann on a directory with CANN 9.x's split names (symbolic links to the mock's)."""
    for name in ("acl_rt", "nnopbase", "hcomm", "hccl", "hccl_fwk", "opapi_transformer", "opapi_math", "opapi_nn"):
        (tmp_path / f"lib{name}.so").symlink_to(mock_libdir / f"lib{name}.so")
    code = """
import aclnn_py
from aclnn_py._loader import library
lib = aclnn_py.lib
assert lib.aclInit(aclnn_py.ffi.NULL) == 0 and lib.aclrtSetDevice(0) == 0
free, total = aclnn_py.ffi.new("size_t *"), aclnn_py.ffi.new("size_t *")
assert lib.aclrtGetMemInfo(lib.ACL_HBM_MEM, free, total) == 0
size = aclnn_py.ffi.new("uint64_t *")
with aclnn_py.IntArray([64, 64]) as shape:
    assert lib.aclnnCalculateMatmulWeightSizeV2(shape.handle, lib.ACL_INT8, size) == 0
paths = {k: sorted(p.name for p in v) for k, v in library().paths.items()}
print(library().backend, free[0], total[0], size[0], lib.HcclGetCommConfigCapability(), paths)
"""
    result = run_python(code, {"ACLNN_PY_BACKEND": "cann", "ACLNN_PY_LIB_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"cann {DEVICE_MEMORY} {DEVICE_MEMORY} 4096 12 ")  # capability: Atlas A2
    assert "'ascendcl': ['libacl_rt.so']" in result.stdout
    assert "'opapi': ['libopapi_math.so', 'libopapi_nn.so', 'libopapi_transformer.so']" in result.stdout


def test_cann_loader_prefers_the_split_library_of_the_header(tmp_path, mock_libdir):
    for name in ("ascendcl", "acl_rt", "nnopbase", "hccl", "opapi", "opapi_transformer"):
        (tmp_path / f"lib{name}.so").symlink_to(mock_libdir / f"lib{name}.so")
    code = f"""
import aclnn_py
lib = aclnn_py.lib
address = lambda fn: int(aclnn_py.ffi.cast("uintptr_t", fn))
split = aclnn_py.ffi.dlopen({str(tmp_path / "libopapi_transformer.so")!r})
classic = aclnn_py.ffi.dlopen({str(tmp_path / "libopapi.so")!r})
got = address(lib.aclnnGroupedMatmulV5)
print(got == address(split.aclnnGroupedMatmulV5), got == address(classic.aclnnGroupedMatmulV5))
"""
    assert catalogue.rules("aclnnGroupedMatmulV5").library == "opapi_transformer"
    result = run_python(code, {"ACLNN_PY_BACKEND": "cann", "ACLNN_PY_LIB_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


# -- aclrtGetMemInfo through the raw Python layer ---------------------------------
def _mem_info(attr: int) -> tuple[int, int, int]:
    free, total = ffi.new("size_t *", 7), ffi.new("size_t *", 7)
    status = aclnn_py.lib.aclrtGetMemInfo(attr, free, total)
    return status, free[0], total[0]


def test_mem_info_follows_allocations(device):
    lib = aclnn_py.lib
    gc.collect()
    status, free, total = _mem_info(lib.ACL_HBM_MEM)
    assert status == 0 and total == DEVICE_MEMORY and 0 < free <= total
    with DeviceBuffer(12345) as buf:
        assert _mem_info(lib.ACL_HBM_MEM) == (0, free - 12345, total)
        assert _mem_info(lib.ACL_MEM_P2P_HUGE) == (0, free - 12345, total)
        assert _mem_info(lib.ACL_DDR_MEM_HUGE) == (0, 0, 0)
        assert buf.nbytes == 12345
    assert _mem_info(lib.ACL_HBM_MEM_NORMAL) == (0, free, total)
    out = ffi.new("void **")
    assert lib.aclrtMalloc(out, free + 1, lib.ACL_MEM_MALLOC_HUGE_FIRST) == lib.ACL_ERROR_RT_MEMORY_ALLOCATION
    assert "do not fit on device 0" in recent_message()


def test_mem_info_errors(device):
    lib = aclnn_py.lib
    for attr in (18, 1 << 20, 0xFFFFFFFF):  # cffi sees the enum as unsigned (all its values are >= 0)
        assert _mem_info(attr) == (lib.ACL_ERROR_INVALID_PARAM, 7, 7)
        assert f"attr {attr} is not an aclrtMemAttr" in recent_message()
    assert lib.aclrtGetMemInfo(lib.ACL_HBM_MEM, ffi.NULL, ffi.new("size_t *")) == lib.ACL_ERROR_INVALID_PARAM
    assert "free is NULL" in recent_message()
    assert lib.aclrtGetMemInfo(lib.ACL_HBM_MEM, ffi.new("size_t *"), ffi.NULL) == lib.ACL_ERROR_INVALID_PARAM
    seen: list[tuple[int, int, int]] = []
    worker = threading.Thread(target=lambda: seen.append(_mem_info(lib.ACL_HBM_MEM)))  # no device on that thread
    worker.start()
    worker.join()
    assert seen == [(lib.ACL_ERROR_RT_CONTEXT_NULL, 7, 7)]


def test_mem_info_before_acl_init():
    code = """
import aclnn_py
free, total = aclnn_py.ffi.new("size_t *"), aclnn_py.ffi.new("size_t *")
print(aclnn_py.lib.aclrtGetMemInfo(aclnn_py.lib.ACL_HBM_MEM, free, total))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "100001"


# -- aclnnTransMatmulWeight's workspace --------------------------------------------
@pytest.mark.parametrize("shape,dtype,nz_bytes", [((64, 64), "int8", 4096), ((40, 50), "int8", 48 * 64),
                                                  ((20, 24), "float16", 32 * 32 * 2), ((1, 1), "int8", 16 * 32)])
def test_trans_matmul_weight_workspace_is_positive_and_checked(stream, shape, dtype, nz_bytes):
    from aclnn_py.ops._trans_matmul_weight import nz_weight_tensor

    lib = aclnn_py.lib
    expected = max(512, -(-nz_bytes // 512) * 512)
    data = np.ones(shape, np.int8 if dtype == "int8" else np.float16)
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    for attempt in ("small", "null", "freed", "ok"):
        tensor = nz_weight_tensor(data, dtype, stream)
        stream.synchronize()  # its data is copied on the stream
        assert lib.aclnnTransMatmulWeightGetWorkspaceSize(tensor.handle, size, executor) == 0
        assert size[0] == expected
        if attempt == "small":
            with DeviceBuffer(expected) as ws:
                assert lib.aclnnTransMatmulWeight(ws.ptr, expected - 1, executor[0], stream.handle) == 161002
                assert f"smaller than the {expected} bytes" in recent_message()
        elif attempt == "null":
            assert lib.aclnnTransMatmulWeight(ffi.NULL, expected, executor[0], stream.handle) == 161001
        elif attempt == "freed":
            ws = DeviceBuffer(expected)
            pointer = ws.ptr
            ws.close()
            assert lib.aclnnTransMatmulWeight(pointer, expected, executor[0], stream.handle) == 161002
            assert "use after free" in recent_message()
        else:
            with DeviceBuffer(expected - 1) as short:  # the workspace itself must hold the size it claims
                assert lib.aclnnTransMatmulWeight(short.ptr, expected, executor[0], stream.handle) == 161002
            with DeviceBuffer(expected) as ws:
                assert lib.aclnnTransMatmulWeight(ws.ptr, expected, executor[0], stream.handle) == 0
                stream.synchronize()
            tensor.refresh()
            assert tensor.is_nz
        if attempt != "ok":  # a rejected execute leaves the executor alive
            assert lib.aclDestroyAclOpExecutor(executor[0]) == 0
        tensor.close()
