"""aclnnGroupedMatmulV5: grouped (mixture-of-experts) matrix multiplication.

The raw pair is ``aclnn_py.lib.aclnnGroupedMatmulV5GetWorkspaceSize`` /
``aclnn_py.lib.aclnnGroupedMatmulV5``. :func:`grouped_matmul_v5` is the
Pythonic call: tensor-list arguments as lists of :class:`Tensor` or host
arrays (arrays are copied to the device), output shapes from the scenario,
the same argument rules as the mock (``aclnn_py.spec.grouped_matmul.rules``)
checked before C is called, and the output tensors returned. The work is
queued on ``stream``; synchronise before reading the outputs.

The feature set follows the SoC (``aclrtGetSocName``): on an Ascend 950,
A8W4 ("S8S4": INT8 x, ``ml_dtypes.int4`` or INT32-packed weight (E, K, N),
FLOAT bias (E, N), UINT64 scale, FLOAT per-token scale, optional FLOAT offset
(E, 1, N), groupListType 1) and A4W4 ("S4S4": ``ml_dtypes.int4`` x and weight)
take the arguments the 2026 GroupedMatmulV5 doc lists; UINT64 scales come from
:func:`aclnn_py.ops.trans.trans_quant_param_v2` or
:func:`aclnn_py.spec.quant_params.trans_quant_param`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import arguments
from ..spec import dtypes, codecs, soc
from .._ffi import ffi
from .._loader import library
from ..spec.descriptors import TensorDesc
from ..errors import AclnnParamError, ArgumentError, raising
from ..spec.grouped_matmul import call
from ..spec.grouped_matmul import rules
from ..runtime import Stream
from ..tensor import IntArray, Tensor, TensorList
from ._two_phase import dispose, launch

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


def _as_tensor(value: Any, parameter: str, created: list) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if value is None:
        raise TypeError(f"{parameter}: expected a Tensor or an array, got None")
    try:
        t = Tensor.from_numpy(value)
    except ArgumentError as exc:
        raise ArgumentError(parameter, exc.detail) from None
    created.append(t)
    return t


def _as_list(values: Sequence[Any] | Any | None, parameter: str, created: list) -> list[Tensor] | None:
    if values is None:
        return None
    if isinstance(values, (Tensor, np.ndarray)):
        values = [values]
    return [_as_tensor(v, f"{parameter}[{i}]", created) for i, v in enumerate(values)]


def _descs(tensors: list[Tensor] | None):
    return None if tensors is None else [t.desc for t in tensors]


def _default_out_dtype(x: list[Tensor], weight: list[Tensor], scale, antiquant_scale) -> dtypes.DataType:
    x_name = dtypes.name(x[0].desc.dtype)
    w_name = dtypes.name(weight[0].desc.dtype)
    scale_name = dtypes.name(scale[0].desc.dtype) if scale else None
    try:
        kind = call.scenario(x_name, w_name, scale_dtype=scale_name,
                             has_antiquant_scale=antiquant_scale is not None)
    except ValueError:
        return dtypes.from_name(x_name)
    name = call.default_out_name(kind, x_name)
    if name is not None:
        return dtypes.from_name(name)
    raise ArgumentError("out_dtype", f"required for the quantized scenario {kind} (e.g. 'bfloat16')")


def _output_shapes(xs, ws, gl, group_host, split_item, group_type, group_list_type) -> list[tuple[int, ...]]:
    """Shapes of the outputs the scenario implies (AclnnParamError when the inputs imply none)."""
    try:
        with raising():
            shapes = rules.output_shapes(
                [t.desc for t in xs], [t.desc for t in ws], split_item=split_item, group_type=group_type,
                group_list_len=None if gl is None or gl.desc.ndim == 0 else gl.shape[0],
                group_list_values=group_host, group_list_type=group_list_type)
    except AclnnParamError:
        raise
    except ValueError as exc:
        if call.per_group_outputs(len(xs), split_item, group_type) and group_host is None:
            raise ArgumentError("out", str(exc)) from None
        raise AclnnParamError(rules.INVALID, rules.FUNCTION, str(exc)) from None
    return shapes


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
    (161001/161002) before C is called. Device copies made from arrays are
    released once the stream has passed the work (:meth:`Stream.release`).
    """
    attrs = {name: arguments.integer(value, name) for name, value in (
        ("split_item", split_item), ("group_type", group_type), ("group_list_type", group_list_type),
        ("act_type", act_type))}
    if out_dtype is not None:
        out_dtype = dtypes.to_acl(out_dtype, "out_dtype")
    if tuning_config is not None:
        tuning_config = arguments.integers(tuning_config, "tuning_config")
    created: list[Any] = []  # released with the work
    try:
        xs = _as_list(x, "x", created)
        ws = _as_list(weight, "weight", created)
        lists = {name: _as_list(v, name, created) for name, v in (
            ("bias", bias), ("scale", scale), ("offset", offset), ("antiquant_scale", antiquant_scale),
            ("antiquant_offset", antiquant_offset), ("per_token_scale", per_token_scale))}
        group_host = None
        if group_list is None or isinstance(group_list, Tensor):
            gl = group_list
        else:
            try:
                group_host = codecs.to_host(np.asarray(group_list), "int64")
            except ValueError as exc:
                raise ArgumentError("group_list", str(exc)) from None
            gl = Tensor.from_numpy(group_host)
            created.append(gl)
        if xs is None or ws is None:
            raise AclnnParamError(rules.NULLPTR, rules.FUNCTION, f"{'x' if xs is None else 'weight'} is nullptr")
        made_outs: list[Tensor] = []  # returned to the caller, never released here
        outs = _as_list(out, "out", made_outs)
        out_descs = None
        if outs is None:  # descriptors only: the memory is allocated once the rules accept the call
            shapes = _output_shapes(xs, ws, gl, group_host, attrs["split_item"], attrs["group_type"],
                                    attrs["group_list_type"])
            dtype = out_dtype or _default_out_dtype(xs, ws, lists["scale"], lists["antiquant_scale"])
            out_descs = [TensorDesc.contiguous(shape, int(dtype)) for shape in shapes]
        profile = _profile()
        if profile is not None:
            with raising():
                rules.check(x=[t.desc for t in xs], weight=[t.desc for t in ws],
                            out=out_descs if outs is None else [t.desc for t in outs],
                            **{k: _descs(v) for k, v in lists.items()}, group_list=None if gl is None else gl.desc,
                            tuning_config=tuning_config, profile=profile, **attrs)
        if outs is None:
            outs = [Tensor.empty(d.shape, d.dtype) for d in out_descs]

        def tl(tensors):
            if tensors is None:
                return ffi.NULL
            lst = TensorList(tensors)
            created.append(lst)
            return lst.handle

        tuning = None if tuning_config is None else IntArray(tuning_config)
        created.append(tuning)
        args = (tl(xs), tl(ws), tl(lists["bias"]), tl(lists["scale"]), tl(lists["offset"]),
                tl(lists["antiquant_scale"]), tl(lists["antiquant_offset"]), tl(lists["per_token_scale"]),
                ffi.NULL if gl is None else gl.handle, ffi.NULL, ffi.NULL, ffi.NULL, attrs["split_item"],
                attrs["group_type"], attrs["group_list_type"], attrs["act_type"],
                ffi.NULL if tuning is None else tuning.handle, tl(outs), ffi.NULL, ffi.NULL)
    except BaseException:
        dispose(created, stream)
        raise
    users = [t for t in [*xs, *ws, *(t for v in lists.values() for t in v or ()), gl] if t is not None]
    launch(OP, args, stream, keep=(*users, *outs), release=created)
    return outs
