"""aclnnMatmulAllReduce (V1, V2, V3) and aclnnWeightQuantMatmulAllReduce (V1, V2): matmul + AllReduce-sum
over an HCCL group, without quantization or with a weight-only quantized x2.

The unquantized entry points of the QuantMatmulAllReduce operator family
(:mod:`aclnn_py.ops._quant_matmul_all_reduce`: the same implementation, arguments and plans):

* :func:`matmul_all_reduce` (FLOAT16/BFLOAT16 x1, x2, ``bias``),
  :func:`matmul_all_reduce_v2` (+ the residual ``x3``),
  :func:`matmul_all_reduce_v3` (+ ``comm_mode``): output = AllReduce(x1 @ x2 + bias + x3), of
  x1's dtype;
* :func:`weight_quant_matmul_all_reduce` (+ ``weight_quant_matmul_all_reduce_v2`` with
  ``comm_mode``): an INT8 or INT4 x2 (Ascend 950: also FLOAT8_E4M3FN, HIFLOAT8) dequantized
  as (x2 + ``antiquant_offset``) * ``antiquant_scale`` per tensor ([1]), per channel ([n] or
  [1, n]) or per group of ``antiquant_group_size`` rows of k ([ceil(k / group), n]);
* :class:`MatmulAllReducePlan`, :class:`MatmulAllReduceV2Plan`, :class:`MatmulAllReduceV3Plan`,
  :class:`WeightQuantMatmulAllReducePlan`, :class:`WeightQuantMatmulAllReduceV2Plan`: phase 1
  once, :meth:`execute` many times.

Each takes Tensors or NumPy arrays, allocates the output (x1's dtype and shape with x2's n)
when ``out`` is None, checks the arguments with the operator's rules for its SoC
(:mod:`aclnn_py.semantics.quant_matmul_all_reduce.unquantized_rules`) and returns the output
(queued work). ``group`` is an :class:`aclnn_py.hccl.Communicator` or a communicator name;
every rank of the group makes the same call on its own device and stream, and all ranks get the
same output. x2 is (k, n), or a transposed view of an (n, k) tensor; the weight-only entry points
also take an INT8 FRACTAL_NZ x2 from :func:`~aclnn_py.ops.trans_matmul_weight` on Atlas A2.
"""
from __future__ import annotations

from typing import Any

from ..runtime import Stream
from ..semantics.quant_matmul_all_reduce import rules
from ..tensor import Tensor
from ._quant_matmul_all_reduce import _QuantMatmulAllReducePlan

__all__ = ["MatmulAllReducePlan", "MatmulAllReduceV2Plan", "MatmulAllReduceV3Plan", "WeightQuantMatmulAllReducePlan",
           "WeightQuantMatmulAllReduceV2Plan", "matmul_all_reduce", "matmul_all_reduce_v2", "matmul_all_reduce_v3",
           "weight_quant_matmul_all_reduce", "weight_quant_matmul_all_reduce_v2"]


class MatmulAllReducePlan(_QuantMatmulAllReducePlan):
    """The plan of aclnnMatmulAllReduce; arguments of :func:`matmul_all_reduce`."""

    signature = rules.MATMUL


class MatmulAllReduceV2Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnMatmulAllReduceV2; arguments of :func:`matmul_all_reduce_v2`."""

    signature = rules.MATMUL_V2


class MatmulAllReduceV3Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnMatmulAllReduceV3; arguments of :func:`matmul_all_reduce_v3`."""

    signature = rules.MATMUL_V3


class WeightQuantMatmulAllReducePlan(_QuantMatmulAllReducePlan):
    """The plan of aclnnWeightQuantMatmulAllReduce; arguments of :func:`weight_quant_matmul_all_reduce`."""

    signature = rules.WEIGHT_QUANT


class WeightQuantMatmulAllReduceV2Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnWeightQuantMatmulAllReduceV2; arguments of :func:`weight_quant_matmul_all_reduce_v2`."""

    signature = rules.WEIGHT_QUANT_V2


@MatmulAllReducePlan.arguments_of
def matmul_all_reduce(x1: Any, x2: Any, *, group: Any, stream: Stream, bias: Any = None,
                      out: Tensor | None = None, reduce_op: str = "sum", comm_turn: int = 0, stream_mode: int = 1,
                      rank_size: int | None = None) -> Tensor:
    """Run aclnnMatmulAllReduce: AllReduce(x1 @ x2 + bias) over ``group``.

    x1 (m, k) or (b, s, k), x2 (k, n) (or a transposed view), bias (n,) or None: FLOAT16 or
    BFLOAT16, all of one dtype, which the output has. k may be 0 (the output is then the
    AllReduce of bias); an empty output computes nothing. Ranks: Atlas A2 1, 2, 4 or 8;
    Ascend 950 1 to 64 (powers of two); Atlas A3 has none (361001).
    """
    return MatmulAllReducePlan._once(locals())


@MatmulAllReduceV2Plan.arguments_of
def matmul_all_reduce_v2(x1: Any, x2: Any, *, group: Any, stream: Stream, bias: Any = None, x3: Any = None,
                         out: Tensor | None = None, reduce_op: str = "sum", comm_turn: int = 0, stream_mode: int = 1,
                         rank_size: int | None = None) -> Tensor:
    """Run aclnnMatmulAllReduceV2: :func:`matmul_all_reduce` plus ``x3`` (the output's dtype and
    shape, or None), added on every rank before the AllReduce: AllReduce(x1 @ x2 + bias + x3)."""
    return MatmulAllReduceV2Plan._once(locals())


@MatmulAllReduceV3Plan.arguments_of
def matmul_all_reduce_v3(x1: Any, x2: Any, *, group: Any, stream: Stream, bias: Any = None, x3: Any = None,
                         comm_mode: str | None = "ai_cpu", out: Tensor | None = None, reduce_op: str = "sum",
                         comm_turn: int = 0, stream_mode: int = 1, rank_size: int | None = None) -> Tensor:
    """Run aclnnMatmulAllReduceV3: :func:`matmul_all_reduce_v2` plus ``comm_mode``, the
    communication engine: ``"ai_cpu"`` (the default) or None on Atlas A2, ``"ai_cpu"`` or ``"ccu"``
    on Ascend 950 (None is refused there). The engine does not change the result."""
    return MatmulAllReduceV3Plan._once(locals())


@WeightQuantMatmulAllReducePlan.arguments_of
def weight_quant_matmul_all_reduce(x1: Any, x2: Any, antiquant_scale: Any, *, group: Any, stream: Stream,
                                   bias: Any = None, antiquant_offset: Any = None, x3: Any = None,
                                   antiquant_group_size: int = 0, out: Tensor | None = None, reduce_op: str = "sum",
                                   comm_turn: int = 0, stream_mode: int = 1, rank_size: int | None = None,
                                   x2_dtype: Any = None) -> Tensor:
    """Run aclnnWeightQuantMatmulAllReduce: AllReduce(x1 @ ((x2 + antiquant_offset) * antiquant_scale)
    + bias + x3) over ``group``.

    x1 FLOAT16 or BFLOAT16; antiquant_scale, antiquant_offset (or None), bias, x3 and the output of
    x1's dtype. x2 INT8 or INT4 (``ml_dtypes.int4`` arrays), on Ascend 950 also FLOAT8_E4M3FN or
    HIFLOAT8 (uint8 codes: ``x2_dtype="hifloat8"``; per channel, no offset). antiquant_scale: [1]
    (per tensor), [n] or [1, n] (per channel) with ``antiquant_group_size`` 0; [ceil(k / g), n] per
    group of g = ``antiquant_group_size`` rows of k (a multiple of 32 in [32, k - 1]; on Ascend
    950 k and n multiples of 32 for INT8, 64 for INT4). A transposed x2 takes a transposed
    per-group scale. k, n at most 65535; the output may not be empty, k may be 0.
    """
    return WeightQuantMatmulAllReducePlan._once(locals())


@WeightQuantMatmulAllReduceV2Plan.arguments_of
def weight_quant_matmul_all_reduce_v2(x1: Any, x2: Any, antiquant_scale: Any, *, group: Any, stream: Stream,
                                      bias: Any = None, antiquant_offset: Any = None, x3: Any = None,
                                      antiquant_group_size: int = 0, comm_mode: str | None = "ai_cpu",
                                      out: Tensor | None = None, reduce_op: str = "sum", comm_turn: int = 0,
                                      stream_mode: int = 1, rank_size: int | None = None,
                                      x2_dtype: Any = None) -> Tensor:
    """Run aclnnWeightQuantMatmulAllReduceV2: :func:`weight_quant_matmul_all_reduce` plus ``comm_mode``
    (``"ai_cpu"`` or None on Atlas A2, ``"ai_cpu"`` or ``"ccu"`` on Ascend 950)."""
    return WeightQuantMatmulAllReduceV2Plan._once(locals())
