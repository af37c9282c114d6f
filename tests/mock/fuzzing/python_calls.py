"""The Python path of a fuzz case: the same call through aclnn_py.ops (Tensors over the placed
memory or host arrays, odd values), what it raised recorded for the verdict."""
from __future__ import annotations

import traceback
from typing import Any

import numpy as np

from fuzzing.cases import Case, TensorSpec
from fuzzing.generic_ops import GENERIC, golden_problems, python_call as generic_python_call
from fuzzing.memory import OUTPUTS, Memory, Placed, Rank

def _python_value(spec: TensorSpec | None, placed: Placed | None, host: bool, tensors: list) -> Any:
    """A Tensor over the placed memory (``Tensor.from_pointer``), or a host array with ``host``."""
    from aclnn_py import Tensor
    from aclnn_py.semantics import dtypes

    if spec is None:
        return None
    if host and spec.name is not None and 0 <= len(spec.shape) <= 4 and all(0 <= d <= 256 for d in spec.shape):
        try:
            return np.zeros(spec.shape, dtypes.host_dtype(spec.name))
        except Exception:
            pass
    assert placed is not None
    tensor = Tensor.from_pointer(placed.address, spec.shape, spec.dtype, strides=spec.strides, offset=spec.offset,
                                 format=spec.format, storage_shape=spec.storage)
    tensors.append(tensor)
    return tensor


def _odd_array(kind: str, value: Any) -> Any:
    """A host value of ``kind`` (cases.ODD_ARRAYS) shaped like the spec (or the list's first spec)."""
    spec = value[0] if isinstance(value, tuple) and value and value[0] is not None else value
    shape = spec.shape if isinstance(spec, TensorSpec) and all(0 <= d <= 64 for d in spec.shape) \
        and len(spec.shape) <= 4 else (2, 3)
    make = {"complex": lambda: np.ones(shape, np.complex64),
            "object": lambda: np.full(shape, None, object),
            "text": lambda: np.full(shape, "x"),
            "datetime": lambda: np.zeros(shape, "datetime64[s]"),
            "huge_values": lambda: np.full(shape, 1e30, np.float64),
            "fractions": lambda: np.full(shape, 0.5, np.float64),
            "strided": lambda: np.ones(tuple(2 * d for d in shape), np.float32)[tuple(slice(None, None, 2)
                                                                                     for _ in shape)],
            "zero_d": lambda: np.float32(1.5),
            "nan": lambda: np.full(shape, np.nan, np.float32),
            "list": lambda: np.zeros(shape, np.float32).tolist(),
            "nested_lists": lambda: [[1, 2], [3]],
            "empty": lambda: np.zeros((0,), np.float32)}
    array = make[kind]()
    return [array] if isinstance(value, tuple) else array


#: Extras whose values are not the placed memory's or the case's (host arrays, odd values): no golden.
_OWN_VALUES = {"host_arrays", "odd_array", "odd_int"}


def run_python(case: Case, rank: Rank, memory: Memory) -> None:
    """Make the call through aclnn_py.ops; synchronise and check the memory when it was queued.
    Only what the Python API raises is its outcome: a failure of the placing or checking code here
    reaches :func:`run_case` as a failure of the fuzzer."""
    outputs = OUTPUTS[case.op]
    made: list = []
    extras = case.python
    host = bool(extras.get("host_arrays"))
    placed: dict[str, Any] = {}
    for key, value in case.tensors.items():
        if isinstance(value, TensorSpec):
            placed[key] = memory.place(key, value, key in outputs)
        elif isinstance(value, tuple):
            placed[key] = [None if s is None else memory.place(f"{key}[{i}]", s, key in outputs)
                           for i, s in enumerate(value)]

    def arg(key: str, as_host: bool = host) -> Any:
        odd_key, odd_kind = extras.get("odd_array", (None, None))
        if key == odd_key:
            return _odd_array(odd_kind, case.tensors[key])
        value = case.tensors.get(key)
        if isinstance(value, tuple):
            return [_python_value(s, p, as_host and key not in outputs, made) for s, p in zip(value, placed[key])]
        return _python_value(value, placed.get(key), as_host and key not in outputs, made)

    try:
        try:
            kwargs = _python_call(case, rank, arg)
            key, value = extras.get("odd_int", (None, None))
            if key in kwargs:
                kwargs[key] = value
            function = kwargs.pop("__function__")
            returned = function(**kwargs)
            made_by_call = _tensors(returned, made) if "out" in kwargs and kwargs["out"] is None else []
            made += made_by_call
        except Exception as exc:  # noqa: BLE001 -- the verdict judges what was raised
            memory.record.python = exception_record(exc, "call")
            return
        memory.record.python = {"type": None}
        try:
            rank.stream.synchronize()
        except Exception as exc:  # noqa: BLE001
            memory.record.python = exception_record(exc, "synchronize")
        memory.record.executed = True
        memory.record.violations += memory.check_untouched(case.op)
        memory.record.output_digest = memory.output_digest(made_by_call)
        if case.op in GENERIC and memory.record.python == {"type": None} and not extras.keys() & _OWN_VALUES:
            results = dict(zip(OUTPUTS[case.op], returned if isinstance(returned, tuple) else (returned,)))
            made_outputs = {name: tensor for name, tensor in results.items() if kwargs[name] is None}
            memory.record.violations += golden_problems(case, memory, dict(case.ints), made_outputs)
    finally:
        try:
            rank.stream.synchronize()
        except Exception:  # noqa: BLE001 -- already reported
            pass
        for tensor in made:
            tensor.close()


def _python_call(case: Case, rank: Rank, arg) -> dict[str, Any]:
    from aclnn_py import ops

    extras = case.python
    out_given = not extras.get("allocate_out")
    kwargs: dict[str, Any] = {"stream": rank.stream}
    if case.op in GENERIC:
        return {**generic_python_call(case, arg, out_given), "stream": rank.stream}
    if case.op == "quant_matmul_all_reduce":
        functions = {"V1": ops.quant_matmul_all_reduce, "V2": ops.quant_matmul_all_reduce_v2,
                     "V3": ops.quant_matmul_all_reduce_v3, "V4": ops.quant_matmul_all_reduce_v4}
        scale_name = "x2_scale" if case.version == "V4" else "dequant_scale"
        kwargs.update(__function__=functions[case.version], x1=arg("x1"), x2=arg("x2"), bias=arg("bias"),
                      x3=arg("x3"), comm_turn=case.ints["comm_turn"], stream_mode=case.ints["stream_mode"],
                      reduce_op=case.strings["reduce_op"])
        kwargs[scale_name] = arg("x2_scale")
        if case.version != "V1":
            kwargs["x1_scale" if case.version == "V4" else "pertoken_scale"] = arg("x1_scale")
        if case.version in ("V3", "V4"):
            kwargs.update(comm_quant_scale_1=arg("comm_quant_scale_1"), comm_quant_scale_2=arg("comm_quant_scale_2"))
        if case.version == "V4":
            kwargs.update(group_size=case.ints["group_size"], comm_quant_mode=case.ints["comm_quant_mode"])
            if "x_dtype" in extras:
                kwargs["x_dtype"] = extras["x_dtype"]
        kind = case.strings["group"]
        if "group_value" in extras:
            kwargs["group"] = extras["group_value"]
        elif kind == "comm":
            kwargs["group"] = rank.comms.get(case.ranks, "no_such_group")
        else:
            kwargs["group"] = {"null": None, "bogus": "no_such_group", "empty": "", "bytes": b"\xff\xfe",
                               "long": "g" * 5000}[kind]
        out_key = "output"
    elif case.op == "grouped_matmul":
        kwargs.update(__function__=ops.grouped_matmul_v5, x=arg("x"), weight=arg("weight"),
                      bias=arg("bias"), scale=arg("scale"), offset=arg("offset"),
                      antiquant_scale=arg("antiquant_scale"), antiquant_offset=arg("antiquant_offset"),
                      per_token_scale=arg("per_token_scale"), group_list=arg("group_list"),
                      split_item=case.ints["split_item"], group_type=case.ints["group_type"],
                      group_list_type=case.ints["group_list_type"], act_type=case.ints["act_type"],
                      tuning_config=case.ints.get("tuning_config"))
        out_key = "out"
    elif case.op == "trans_weight":
        return {"__function__": ops.trans_matmul_weight, "tensor": arg("weight", False), "stream": rank.stream}
    else:
        kwargs.update(__function__=ops.trans_quant_param_v2, scale=arg("scale"), offset=arg("offset"))
        out_key = "out"
    kwargs["out"] = arg(out_key, False) if out_given else None
    if "out_dtype" in extras:
        kwargs["out_dtype"] = extras["out_dtype"]
    elif case.op == "trans_quant":
        spec = case.tensors["out"]
        kwargs["out_dtype"] = spec.dtype if isinstance(spec, TensorSpec) else "uint64"
    return kwargs


def _tensors(returned: Any, known: list) -> list:
    """The Tensors a Python call returned (a Tensor or a list of them) that it made itself."""
    from aclnn_py import Tensor

    found = [returned] if isinstance(returned, Tensor) else list(returned or ())
    return [t for t in found if isinstance(t, Tensor) and not any(t is k for k in known)]


def exception_record(exc: BaseException, stage: str) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return {"type": type(exc).__name__, "classes": [c.__name__ for c in type(exc).__mro__],
            "code": getattr(exc, "code", None), "function": getattr(exc, "function", None),
            "message": str(getattr(exc, "message", "") or exc), "parameter": getattr(exc, "parameter", None),
            "stage": stage, "where": where}
