"""What the Pythonic layer costs over raw cffi calls, measured on a null runtime.

The null runtime is built from include/: every exported function returns
success at once (pointer-returning ones a fixed dummy address; aclrtGetSocName
"Ascend910B4"), so the timings are the Python side only. The sequence per
iteration: create four tensors, the two-phase aclnnQuantMatmulAllReduceV4 call
(GetWorkspaceSize + execute), destroy the tensors.

    python benchmarks/overhead.py [--iterations N]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_null_runtime(directory: Path) -> None:
    from aclnn_py.spec.headers import LIBRARY_HEADERS, include_dir, load

    headers = "\n".join(f'#include "{h}"' for hs in LIBRARY_HEADERS.values() for h in hs)
    for library in LIBRARY_HEADERS:
        bodies = []
        for fn in load().library_functions(library):
            if fn.returns_status or fn.restype == "uint32_t":
                result = "0"
            elif fn.name == "aclrtGetSocName":
                result = '"Ascend910B4"'
            elif fn.restype.startswith("const char"):
                result = "0"
            else:
                result = f"({fn.restype})null_object"
            bodies.append(fn.declaration.rstrip(";") + f" {{ return {result}; }}")
        source = directory / f"null_{library}.c"
        source.write_text(f"{headers}\nstatic char null_object[64];\n" + "\n".join(bodies) + "\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-w", f"-I{include_dir()}", str(source),
                        "-o", str(directory / f"lib{library}.so")], check=True)


def measure(iterations: int) -> None:
    import numpy as np

    import aclnn_py
    from aclnn_py import DeviceBuffer, Tensor, ffi
    from aclnn_py.ops import quant_matmul_all_reduce_v4

    lib = aclnn_py.lib
    assert aclnn_py.backend() == "cann", "the child must run on the null runtime"
    m, k, n = 32, 64, 128
    with aclnn_py.Runtime(), aclnn_py.Device(0), aclnn_py.Stream() as stream:
        buf = DeviceBuffer(1 << 20)

        def raw() -> None:
            specs = [((m, k), lib.ACL_INT8), ((k, n), lib.ACL_INT8), ((n,), lib.ACL_BF16), ((m, n), lib.ACL_BF16)]
            handles = []
            for shape, dtype in specs:
                dims = ffi.new("int64_t[]", shape)
                strides = ffi.new("int64_t[]", [shape[1], 1] if len(shape) == 2 else [1])
                handles.append(lib.aclCreateTensor(dims, len(shape), dtype, strides, 0, lib.ACL_FORMAT_ND,
                                                   dims, len(shape), buf.ptr))
            size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
            x1, x2, scale, out = handles
            lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(x1, x2, ffi.NULL, ffi.NULL, ffi.NULL, scale, ffi.NULL,
                                                            ffi.NULL, b"group", b"sum", 0, 1, 0, 0, out, size, executor)
            lib.aclnnQuantMatmulAllReduceV4(ffi.NULL, size[0], executor[0], stream.handle)
            for h in handles:
                lib.aclDestroyTensor(h)

        def pythonic() -> None:
            x1 = Tensor(buf, (m, k), np.int8)
            x2 = Tensor(buf, (k, n), np.int8)
            scale = Tensor(buf, (n,), "bfloat16")
            out = Tensor(buf, (m, n), "bfloat16")
            quant_matmul_all_reduce_v4(x1, x2, scale, group="group", stream=stream, out=out, rank_size=1)
            for t in (x1, x2, scale, out):
                t.close()

        timings = {}
        for name, fn in (("raw cffi", raw), ("Pythonic", pythonic)):
            fn()
            start = time.perf_counter()
            for _ in range(iterations):
                fn()
            timings[name] = (time.perf_counter() - start) / iterations
    for name, seconds in timings.items():
        print(f"{name:9s} {seconds * 1e6:8.1f} us per sequence")
    print(f"Pythonic / raw = {timings['Pythonic'] / timings['raw cffi']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.iterations)
        return
    with tempfile.TemporaryDirectory() as tmp:
        build_null_runtime(Path(tmp))
        env = dict(os.environ, ACLNN_PY_BACKEND="cann", ACLNN_PY_LIB_DIR=tmp)
        subprocess.run([sys.executable, __file__, "--child", "--iterations", str(args.iterations)], env=env, check=True)


if __name__ == "__main__":
    main()
