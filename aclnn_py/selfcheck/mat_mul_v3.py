"""Mm and Matmul modes: every input dtype, cubeMathType's FLOAT32 roundings (KEEP_DTYPE, HF32,
USE_FP16), a FLOAT32 out of FLOAT16 inputs, transposed views, the FRACTAL_NZ weight of
TransMatmulWeight (Mm) and broadcast batches and vectors (Matmul).

Inputs are random positive values (no cancellation: the relative errors measure the roundings);
each output is compared with the golden of :mod:`aclnn_py.semantics.mat_mul_v3` under CANN's
precision standard of its dtype (FLOAT16's where HF32 or USE_FP16 round FLOAT32 operands, as the
golden does and the hardware may in another order).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import ml_dtypes
import numpy as np

from ..ops import current_profile, mm, matmul, nz_weight_tensor, trans_matmul_weight
from ..semantics import dtypes
from ..semantics.descriptors import TensorDesc
from ..semantics.mat_mul_v3 import golden, rules
from ..semantics.precision import compare
from ..tensor import Tensor
from .framework import Comparison, Host, Mode, close_after, rng_for

__all__ = ["modes"]

HOST = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32}


@dataclass(frozen=True)
class Case:
    op: str  # "mm" or "matmul"
    dtype: str
    self_shape: tuple[int, ...]
    mat2_shape: tuple[int, ...]
    out_dtype: str
    cube: int = 0
    layout: str = "nd"  # "nd", "transposed" (both inputs as transposed views), "nz" (mat2 FRACTAL_NZ)

    @property
    def name(self) -> str:
        dims = "x".join(map(str, self.self_shape + self.mat2_shape[-1:])) if self.op == "mm" else \
            f"{'x'.join(map(str, self.self_shape))}-by-{'x'.join(map(str, self.mat2_shape))}"
        cube = "" if self.cube == 0 else f"-cube{self.cube}"
        out = "" if self.out_dtype == self.dtype else f"->{self.out_dtype}"
        layout = "" if self.layout == "nd" else f"-{self.layout}"
        return f"{self.op}/{self.dtype}{out}-{dims}{cube}{layout}"


CASES = [Case("mm", "float16", (64, 96), (96, 32), "float16"),
         Case("mm", "bfloat16", (64, 96), (96, 32), "bfloat16"),
         Case("mm", "float16", (40, 64), (64, 24), "float32"),
         Case("mm", "float32", (32, 80), (80, 48), "float32"),
         Case("mm", "float32", (32, 80), (80, 48), "float32", cube=1),
         Case("mm", "float32", (32, 80), (80, 48), "float16", cube=2),
         Case("mm", "float16", (48, 64), (64, 40), "float16", layout="transposed"),
         Case("mm", "float16", (16, 64), (64, 48), "float16", cube=1, layout="nz"),
         Case("matmul", "float16", (2, 1, 24, 32), (3, 32, 16), "float16"),
         Case("matmul", "bfloat16", (4, 24, 32), (32,), "bfloat16"),
         Case("matmul", "float32", (96,), (96,), "float32", cube=3)]


def _inputs(case: Case) -> tuple[np.ndarray, np.ndarray]:
    rng = rng_for(case.name)
    return tuple(rng.uniform(0.5, 1.0, shape).astype(HOST[case.dtype])  # type: ignore[return-value]
                 for shape in (case.self_shape, case.mat2_shape))


def _golden(case: Case, a: np.ndarray, b: np.ndarray, profile: str) -> np.ndarray:
    descs = [TensorDesc.contiguous(x.shape, int(dtypes.from_name(case.dtype))) for x in (a, b)]
    out = TensorDesc.contiguous(rules.result_shape(a.shape, b.shape), int(dtypes.from_name(case.out_dtype)))
    check = rules.check_mm if case.op == "mm" else rules.check_matmul
    return golden.compute(check(*descs, out, case.cube, profile), a, b)


def _run(case: Case, host: Host) -> list[Comparison]:
    a, b = _inputs(case)
    function = mm if case.op == "mm" else matmul

    def body(rank) -> np.ndarray:
        stream, made = rank.stream, []
        try:
            if case.layout == "transposed":  # the values stored transposed, passed as views
                made += [Tensor.from_numpy(np.ascontiguousarray(x.T), stream=stream) for x in (a, b)]
                self, mat2 = made[0].T, made[1].T
                made += [self, mat2]
            elif case.layout == "nz":
                mat2 = trans_matmul_weight(nz_weight_tensor(b, stream=stream), stream)
                made.append(mat2)
                self = a
            else:
                self, mat2 = a, b
            out = Tensor.empty(rules.result_shape(a.shape, b.shape), case.out_dtype)
            made.append(out)
            function(self, mat2, out=out, cube_math_type=case.cube, stream=stream)
            stream.synchronize()
            return out.to_numpy()
        finally:
            close_after(stream, made)

    got = host.ranks.run(body)[0]
    want = _golden(case, a, b, current_profile() or host.profile or "A2")
    standard = "float16" if case.dtype == "float32" and case.cube in (1, 2, 3) else case.out_dtype
    return [Comparison("out", compare(got, want, standard))]


def modes() -> list[Mode]:
    return [Mode(case.name, partial(_run, case)) for case in CASES]
