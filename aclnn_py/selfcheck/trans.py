"""Weight and scale helpers: CalculateMatmulWeightSize(V2), TransMatmulWeight, TransQuantParamV2.

After TransMatmulWeight the tensor must be FRACTAL_NZ with the storage shape of
:func:`aclnn_py.spec.nz.nz_storage_shape` and every element at its FRACTAL_NZ position
(read back through that layout; the padding is not compared: CANN does not say what it
holds), TransQuantParamV2's words are compared with
:func:`aclnn_py.spec.quant_params.trans_quant_param`, the sizes with
:func:`aclnn_py.spec.nz.matmul_weight_size`.
"""
from __future__ import annotations

from functools import partial

import ml_dtypes
import numpy as np

from ..ops.trans import calculate_matmul_weight_size, nz_weight_tensor, trans_matmul_weight, trans_quant_param_v2
from ..spec import nz
from ..spec.quant_params import trans_quant_param
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
    rng = rng_for(f"trans/matmul-weight/{dtype}")
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


def _trans_quant_param(host: Host) -> list[Comparison]:
    rng = rng_for("trans/quant-param-v2")
    scale = rng.uniform(1e-4, 10, 96).astype(np.float32)
    offset = np.round(rng.uniform(-300, 300, 96)).astype(np.float32)
    scale_2d = rng.uniform(1e-3, 1, (3, 40)).astype(np.float32)
    offset_2d = np.round(rng.uniform(-20, 20, (3, 40))).astype(np.float32)
    cases = [("scale (96,)", (scale, None), "uint64"), ("scale and offset (96,)", (scale, offset), "uint64"),
             ("scale (96,) broadcast offset (1,)", (scale, offset[:1]), "int64"),
             ("2-D scale and offset", (scale_2d, offset_2d), "uint64")]

    def body(rank) -> list[np.ndarray]:
        results = []
        for _, (s, o), out_dtype in cases:
            with trans_quant_param_v2(s, o, stream=rank.stream, out_dtype=out_dtype) as out:
                rank.stream.synchronize()
                results.append(out.to_numpy())
        return results

    got = host.ranks.run(body)[0]
    return [exact(what, result.view(np.uint64), trans_quant_param(s, o))
            for (what, (s, o), _), result in zip(cases, got)]


def modes() -> list[Mode]:
    weights = [("int8", (64, 96)), ("int8", (2, 33, 70)), ("float16", (40, 48)), ("bfloat16", (17, 33))]
    return ([Mode("trans/calculate-matmul-weight-size-v2", partial(_weight_sizes, True)),
             Mode("trans/calculate-matmul-weight-size", partial(_weight_sizes, False))]
            + [Mode(f"trans/trans-matmul-weight/{dtype}-{'x'.join(map(str, shape))}",
                    partial(_trans_weight, dtype, shape)) for dtype, shape in weights]
            + [Mode("trans/trans-quant-param-v2", _trans_quant_param)])
