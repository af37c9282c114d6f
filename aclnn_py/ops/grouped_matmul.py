"""aclnnGroupedMatmulV5: grouped (mixture-of-experts) matrix multiplication.

The raw pair is ``aclnn_py.lib.aclnnGroupedMatmulV5GetWorkspaceSize`` /
``aclnn_py.lib.aclnnGroupedMatmulV5``. :func:`grouped_matmul_v5` is the
Pythonic call: tensor-list arguments as lists of :class:`Tensor` or host
arrays (arrays are copied to the device), output shapes from the scenario,
the same argument rules as the mock (``aclnn_py.rules.grouped_matmul``)
checked before C is called, and the output tensors returned. The work is
queued on ``stream``; synchronise before reading the outputs.

The feature set follows the SoC (``aclrtGetSocName``): on an Ascend 950,
A8W4 ("S8S4": INT8 x, ``ml_dtypes.int4`` or INT32-packed weight (E, K, N),
FLOAT bias (E, N), UINT64 scale, FLOAT per-token scale, optional FLOAT offset
(E, 1, N), groupListType 1) and A4W4 ("S4S4": ``ml_dtypes.int4`` x and weight)
take the arguments the 2026 GroupedMatmulV5 doc lists; UINT64 scales come from
:func:`aclnn_py.ops.trans.trans_quant_param_v2` or
:func:`aclnn_py.golden.quant_params.trans_quant_param`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import dtypes, soc
from .._ffi import ffi
from .._loader import library
from ..golden import grouped_matmul as golden
from ..rules import grouped_matmul as rules
from ..runtime import Stream
from ..tensor import IntArray, Tensor, TensorList
from ._two_phase import launch

__all__ = ["grouped_matmul_v5", "OP"]

OP = "aclnnGroupedMatmulV5"


def _profile() -> str | None:
    name = library().aclrtGetSocName()
    if name == ffi.NULL:
        return None
    try:
        return soc.profile(ffi.string(name).decode())
    except ValueError:
        return None


def _as_tensor(value: Any, created: list[Tensor]) -> Tensor:
    if isinstance(value, Tensor):
        return value
    t = Tensor.from_numpy(np.asarray(value))
    created.append(t)
    return t


def _as_list(values: Sequence[Any] | Any | None, created: list[Tensor]) -> list[Tensor] | None:
    if values is None:
        return None
    if isinstance(values, (Tensor, np.ndarray)):
        values = [values]
    return [_as_tensor(v, created) for v in values]


def _descs(tensors: list[Tensor] | None):
    return None if tensors is None else [t.desc for t in tensors]


def _default_out_dtype(x: list[Tensor], weight: list[Tensor], scale, antiquant_scale) -> str:
    x_name = dtypes.name(x[0].desc.dtype)
    w_name = dtypes.name(weight[0].desc.dtype)
    scale_name = None if scale is None else dtypes.name(scale[0].desc.dtype)
    try:
        kind = golden.scenario(x_name, w_name, scale_dtype=scale_name,
                               has_antiquant_scale=antiquant_scale is not None)
    except ValueError:
        return x_name
    if kind in ("nonquant", "a16w8", "a16w4", "weight_fp8"):
        return x_name
    raise ValueError(f"out_dtype is required for the quantized scenario {kind} (e.g. 'bfloat16')")


def grouped_matmul_v5(x, weight, *, stream: Stream, bias=None, scale=None, offset=None, antiquant_scale=None,
                      antiquant_offset=None, per_token_scale=None, group_list=None, split_item: int = 0,
                      group_type: int = -1, group_list_type: int = 0, act_type: int = 0,
                      tuning_config: Sequence[int] | None = None, out=None, out_dtype=None) -> list[Tensor]:
    """Queue aclnnGroupedMatmulV5 on ``stream`` and return the output tensors.

    Tensor-list arguments take a list of :class:`Tensor` / NumPy arrays (a single
    one is wrapped). ``group_list`` is a Tensor (INT64 device data) or a host
    array. Outputs are created from the scenario's shapes and ``out_dtype``
    (default: the x dtype for non-quantized and weight-only calls; required for
    full quantization) unless ``out`` is given; the per-group outputs of a single
    x split along M (groupType 0, splitItem 0/1) need either ``out`` or a host
    ``group_list`` (its values size the outputs; a device groupList is never read
    back). Argument errors raise :class:`~aclnn_py.errors.AclnnParamError`
    (161001/161002) before C is called.
    """
    created: list[Tensor] = []
    xs = _as_list(x, created)
    ws = _as_list(weight, created)
    lists = {name: _as_list(v, created) for name, v in (
        ("bias", bias), ("scale", scale), ("offset", offset), ("antiquant_scale", antiquant_scale),
        ("antiquant_offset", antiquant_offset), ("per_token_scale", per_token_scale))}
    group_host = None
    if group_list is None:
        gl = None
    elif isinstance(group_list, Tensor):
        gl = group_list
    else:
        group_host = np.asarray(group_list, dtype=np.int64)
        gl = Tensor.from_numpy(group_host)
        created.append(gl)
    if xs is None or ws is None:
        raise rules.AclnnParamError(rules.NULLPTR, rules.FUNCTION, f"{'x' if xs is None else 'weight'} is nullptr")
    outs = _as_list(out, created)
    if outs is None:
        if out_dtype is None:
            out_dtype = _default_out_dtype(xs, ws, lists["scale"], lists["antiquant_scale"])
        try:
            shapes = rules.output_shapes(
                [t.desc for t in xs], [t.desc for t in ws], split_item=split_item, group_type=group_type,
                group_list_len=None if gl is None else gl.shape[0], group_list_values=group_host,
                group_list_type=group_list_type)
        except ValueError as exc:
            if group_type == 0 and len(xs) == 1 and split_item in (0, 1) and group_host is None:
                raise ValueError(str(exc)) from None
            raise rules.AclnnParamError(rules.INVALID, rules.FUNCTION, str(exc)) from None
        outs = [Tensor.empty(s, out_dtype) for s in shapes]
    profile = _profile()
    if profile is not None:
        rules.check(x=[t.desc for t in xs], weight=[t.desc for t in ws], out=[t.desc for t in outs],
                    **{k: _descs(v) for k, v in lists.items()}, group_list=None if gl is None else gl.desc,
                    split_item=split_item, group_type=group_type, group_list_type=group_list_type,
                    act_type=act_type, tuning_config=tuning_config, profile=profile)

    handles: list[Any] = []
    def tl(tensors):
        if tensors is None:
            return ffi.NULL
        lst = TensorList(tensors)
        handles.append(lst)
        return lst.handle

    tuning = None if tuning_config is None else IntArray(tuning_config)
    args = (tl(xs), tl(ws), tl(lists["bias"]), tl(lists["scale"]), tl(lists["offset"]),
            tl(lists["antiquant_scale"]), tl(lists["antiquant_offset"]), tl(lists["per_token_scale"]),
            ffi.NULL if gl is None else gl.handle, ffi.NULL, ffi.NULL, ffi.NULL, int(split_item),
            int(group_type), int(group_list_type), int(act_type),
            ffi.NULL if tuning is None else tuning.handle, tl(outs), ffi.NULL, ffi.NULL)
    launch(OP, args, stream, keep=(handles, tuning, created, xs, ws, lists, gl, outs))
    return outs
