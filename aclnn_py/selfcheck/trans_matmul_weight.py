"""CalculateMatmulWeightSize(V2) and TransMatmulWeight.

After TransMatmulWeight the tensor must be FRACTAL_NZ with the storage shape of
:func:`aclnn_py.semantics.nz.nz_storage_shape` and every element at its FRACTAL_NZ position
(read back through that layout; the padding is not compared: CANN does not say what it
holds); the sizes are compared with :func:`aclnn_py.semantics.nz.matmul_weight_size`.
"""
from __future__ import annotations

from functools import partial

import ml_dtypes
import numpy as np

from ..ops import calculate_matmul_weight_size, nz_weight_tensor, trans_matmul_weight
from ..semantics import nz
from .framework import CheckFailed, Comparison, Host, Mode, exact, rng_for

__all__ = ["modes"]

SIZE_CASES = [((64, 128), "int8"), ((33, 17), "int8"), ((5, 40, 70), "int8"), ((2, 3, 31, 33), "int8"),
              ((64, 128), "float16"), ((33, 17), "bfloat16"), ((100, 7), "float32"), ((64, 96), "int4"),
              ((48, 80), "float8_e4m3fn")]
V1_CASES = [(64, 128), (33, 17), (3, 40, 70)]


def _weight_sizes(v2: bool, host: Host) -> list[Comparison]:
    cases = SIZE_CASES if v2 else [(shape, None) for shape in V1_CASES]
    if host.profile == "950" and not v2:  # the V1 rule takes 2-D shapes on Ascend 950
        cases = [(shape, None) for shape in V1_CASES if len(shape) == 2]

    def body(_rank) -> list[int]:
        return [calculate_matmul_weight_size(shape, dtype) for shape, dtype in cases]

    got = np.array(host.ranks.run(body)[0], np.int64)
    expected = np.array([nz.matmul_weight_size(shape, dtype or "float16") for shape, dtype in cases], np.int64)
    return [exact(f"sizes of {[shape for shape, _ in cases]}", got, expected)]


def _trans_weight(dtype: str, shape: tuple[int, ...], host: Host) -> list[Comparison]:
    rng = rng_for(f"trans_matmul_weight/{dtype}")
    if dtype == "int8":
        weight = rng.integers(-128, 128, shape).astype(np.int8)
    else:
        weight = rng.standard_normal(shape).astype({"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}[dtype])

    def body(rank) -> tuple:
        with trans_matmul_weight(nz_weight_tensor(weight, stream=rank.stream), rank.stream) as tensor:
            rank.stream.synchronize()
            return tensor.is_nz, tensor.desc.storage_shape, tensor.to_numpy()

    is_nz, storage, values = host.ranks.run(body)[0]
    expected = nz.nz_storage_shape(weight.shape, dtype)
    if not is_nz or tuple(storage) != tuple(expected):
        raise CheckFailed(f"after TransMatmulWeight the tensor is {'FRACTAL_NZ' if is_nz else 'not FRACTAL_NZ'} "
                          f"with storage shape {list(storage)}; expected FRACTAL_NZ {list(expected)}")
    return [exact("elements read at their FRACTAL_NZ positions", np.asarray(values).view(np.uint8),
                  weight.view(np.uint8))]


def modes() -> list[Mode]:
    weights = [("int8", (64, 96)), ("int8", (2, 33, 70)), ("float16", (40, 48)), ("bfloat16", (17, 33))]
    return ([Mode("trans_matmul_weight/calculate-size-v2", partial(_weight_sizes, True)),
             Mode("trans_matmul_weight/calculate-size", partial(_weight_sizes, False))]
            + [Mode(f"trans_matmul_weight/{dtype}-{'x'.join(map(str, shape))}",
                    partial(_trans_weight, dtype, shape)) for dtype, shape in weights])
