"""What the Pythonic layer costs over raw cffi calls, measured on a null runtime.

The null runtime is built from include/: every exported function returns
success at once (pointer-returning ones a fixed dummy address; aclrtGetSocName
"Ascend910B4"), so the timings are the Python side only. Three comparisons:

* one-shot call: create four tensors, the two-phase aclnnQuantMatmulAllReduceV4
  call (GetWorkspaceSize + execute), destroy the tensors -- raw cffi calls vs
  ``Tensor`` objects and ``quant_matmul_all_reduce_v4`` (argument rules, the
  launch, what it holds released when the stream has passed the work);
* execute: phase 2 of one repeatable executor -- the raw call vs
  ``QuantMatmulAllReduceV4Plan.execute``;
* generic vs hand-written: the same one-shot call through the function made
  from the header (``aclnn_py.ops.call``) and through the hand-written one, on
  existing tensors: aclnnQuantMatmulAllReduceV4 (the generic function converts
  every argument by its C type; the hand-written one checks its rules against
  its memo) and aclnnTransQuantParamV2 (both check the pure layer's rules).

Every loop synchronises the stream after each block of ``--block`` iterations,
inside the timing (what the Pythonic layer releases there is part of its
cost); each variant runs ``--rounds`` times, interleaved with the others, and
its best round counts.

    python benchmarks/overhead.py [--iterations N] [--block B] [--rounds R]
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
    from aclnn_py.semantics import catalogue
    from aclnn_py.semantics.headers import LIBRARY_HEADERS, Function, include_dir, load

    index = catalogue.project_index()
    operators = [Function(proto.name, "opapi", proto.restype, proto.declaration, path.name)
                 for path, _, reading in index.readings() for proto in reading.functions.values()]
    headers = "\n".join([f'#include "{h}"' for hs in LIBRARY_HEADERS.values() for h in hs]
                        + [f'#include "aclnnop/{path.name}"' for path, _, _ in index.readings()])
    for library in LIBRARY_HEADERS:
        bodies = []
        for fn in load().library_functions(library) + (operators if library == "opapi" else []):
            if fn.returns_status or fn.restype == "uint32_t":
                result = "0"
            elif fn.name == "aclrtGetSocName":
                result = '"Ascend910B4"'
            elif fn.restype.startswith("const char") or "*" not in fn.restype:  # NULL text, a 0 number
                result = "0"
            else:
                result = f"({fn.restype})null_object"
            bodies.append(fn.declaration.rstrip(";") + f" {{ return {result}; }}")
        source = directory / f"null_{library}.c"
        source.write_text(f"{headers}\nstatic char null_object[64];\n" + "\n".join(bodies) + "\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-w", f"-I{include_dir()}", str(source),
                        "-o", str(directory / f"lib{library}.so")], check=True)


def measure(iterations: int, block: int, rounds: int) -> None:
    import numpy as np

    import aclnn_py
    from aclnn_py import DeviceBuffer, Tensor, ffi
    from aclnn_py.ops import QuantMatmulAllReduceV4Plan, call, quant_matmul_all_reduce_v4, trans_quant_param_v2

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

        # one repeatable executor each: raw phase 1, and a plan over the same tensors
        x1, x2 = Tensor(buf, (m, k), np.int8), Tensor(buf, (k, n), np.int8)
        scale, out = Tensor(buf, (n,), "bfloat16"), Tensor(buf, (m, n), "bfloat16")
        size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
        assert lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
            x1.handle, x2.handle, ffi.NULL, ffi.NULL, ffi.NULL, scale.handle, ffi.NULL, ffi.NULL, b"group", b"sum",
            0, 1, 0, 0, out.handle, size, executor) == 0
        assert lib.aclSetAclOpExecutorRepeatable(executor[0]) == 0
        workspace = stream.workspace(size[0])
        plan = QuantMatmulAllReduceV4Plan(x1, x2, scale, group="group", out=out, rank_size=1)

        phase2, workspace_size, handle, stream_handle = (lib.aclnnQuantMatmulAllReduceV4, size[0], executor[0],
                                                         stream.handle)

        def raw_execute() -> None:
            phase2(workspace, workspace_size, handle, stream_handle)

        def plan_execute() -> None:
            plan.execute(stream)

        packed, scales = Tensor(buf, (n,), "uint64"), Tensor(buf, (n,), "float32")

        def qmmar_generic() -> None:
            call("aclnnQuantMatmulAllReduceV4", x1, x2, x2_scale=scale, group="group", reduce_op="sum", comm_turn=0,
                 stream_mode=1, group_size=0, comm_quant_mode=0, output=out, stream=stream)

        def qmmar_hand_written() -> None:
            quant_matmul_all_reduce_v4(x1, x2, scale, group="group", stream=stream, out=out, rank_size=1)

        def trans_generic() -> None:
            call("aclnnTransQuantParamV2", scales, None, out=packed, stream=stream)

        def trans_hand_written() -> None:
            trans_quant_param_v2(scales, None, out=packed, stream=stream)

        variants = {"raw one-shot": raw, "Pythonic one-shot": pythonic,
                    "raw execute": raw_execute, "plan execute": plan_execute,
                    "QMMAR generic": qmmar_generic, "QMMAR hand-written": qmmar_hand_written,
                    "TQP generic": trans_generic, "TQP hand-written": trans_hand_written}
        best = dict.fromkeys(variants, float("inf"))
        blocks = max(iterations // block, 1)
        for _ in range(rounds):
            for name, fn in variants.items():
                fn()
                stream.synchronize()
                start = time.perf_counter()
                for _ in range(blocks):
                    for _ in range(block):
                        fn()
                    stream.synchronize()
                best[name] = min(best[name], (time.perf_counter() - start) / (blocks * block))
        plan.close()
        lib.aclDestroyAclOpExecutor(executor[0])
        for t in (x1, x2, scale, out, packed, scales):
            t.close()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"null runtime, {cores} cores available; best of {rounds} rounds of {blocks * block} iterations, "
          f"the stream synchronised every {block}")
    for name, seconds in best.items():
        print(f"  {name:20s} {seconds * 1e6:8.3f} us")
    one_shot = best["Pythonic one-shot"] / best["raw one-shot"]
    repeat = best["plan execute"] / best["raw execute"]
    print(f"one-shot call (4 tensors + GetWorkspaceSize + execute + destroy), Pythonic / raw = {one_shot:.2f}x")
    print(f"execute of a repeatable executor, plan / raw = {repeat:.2f}x")
    for op in ("QMMAR", "TQP"):
        ratio = best[f"{op} generic"] / best[f"{op} hand-written"]
        print(f"{op} one-shot on existing tensors, generic (ops.call) / hand-written = {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--block", type=int, default=100, help="iterations between stream synchronisations")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.iterations, args.block, args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        build_null_runtime(Path(tmp))
        env = dict(os.environ, ACLNN_PY_BACKEND="cann", ACLNN_PY_LIB_DIR=tmp)
        subprocess.run([sys.executable, __file__, "--child", "--iterations", str(args.iterations), "--block",
                        str(args.block), "--rounds", str(args.rounds)], env=env, check=True)


if __name__ == "__main__":
    main()
