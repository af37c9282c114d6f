"""Every declared operator callable from its header: ``aclnn_py.ops.<name>``, ``ops.call``, ``ops.plan``.

The catalogue's operators through the generic path (the same C functions the hand-written
ones call, reached from the header alone); arguments converted by C type; the functions'
signatures and documentation; the headers read (ACLNN_PY_INCLUDE); an unknown SoC.
"""
from __future__ import annotations

import inspect
import os
import warnings

import numpy as np
import pytest

import aclnn_py
from aclnn_py import Tensor, ffi, ops
from aclnn_py import _op_headers
from aclnn_py.errors import AclnnParamError, ArgumentError
from aclnn_py.host_values import BoolArray, FloatArray, Scalar, ScalarList
from aclnn_py.ops import _arguments, _profile
from aclnn_py.semantics import dtypes
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.semantics.signatures import Kind, Parameter
from aclnn_py.tensor import IntArray


def test_a_catalogue_operator_through_the_generic_path(device, stream):
    """aclnnTransQuantParamV2 from its header: the output inferred by the pure layer, the values
    those of the golden (exact: packed words)."""
    scale = np.float32([0.5, 1.25, -3.0])
    offset = np.float32([1.0, -2.0, 7.0])
    out = ops.call("aclnnTransQuantParamV2", scale, offset, stream=stream)
    try:
        stream.synchronize()
        assert out.shape == (3,) and out.dtype == dtypes.DataType.ACL_UINT64
        assert np.array_equal(out.to_numpy(), trans_quant_param(scale, offset))
    finally:
        out.close()
    function = ops.trans_quant_param_v2  # the hand-written function keeps its name ...
    assert function is aclnn_py.ops._trans_quant_param.trans_quant_param_v2
    generic = aclnn_py.ops._generic.function("aclnnTransQuantParamV2")  # ... the generic one is the header's
    assert list(inspect.signature(generic).parameters) == ["scale", "offset", "out", "stream"]


def test_a_plan_of_a_catalogue_operator_runs_again(device, stream):
    scale = np.float32([2.0, 4.0])
    with Tensor.empty((2,), "int64") as out:
        plan = ops.plan("aclnnTransQuantParamV2", scale, None, out=out, stream=stream)
        try:
            assert plan.out is out and plan.arguments["offset"] is None
            plan.execute(stream)
            plan.execute(stream)
            stream.synchronize()
            assert np.array_equal(out.to_numpy(), trans_quant_param(scale).view(np.int64))
        finally:
            plan.close()


def test_tensor_lists_and_attributes_through_the_generic_path(device, stream):
    """aclnnGroupedMatmulV5 from its header: lists of arrays, int attributes by keyword, a list of
    outputs passed in, or made from the pure layer's output inference: out = x @ w, exact for
    small integers."""
    rng = np.random.default_rng(7)
    x = rng.integers(-4, 4, (8, 16)).astype(np.float16)
    w = rng.integers(-4, 4, (16, 12)).astype(np.float16)
    expected = (x.astype(np.float32) @ w.astype(np.float32)).astype(np.float16)
    with Tensor.empty((8, 12), "float16") as out:
        result = ops.call("aclnnGroupedMatmulV5", [x], [w], split_item=0, group_type=-1, group_list_type=0,
                          act_type=0, out=[out], stream=stream)
        stream.synchronize()
        assert result == ([out], None, None)  # out, activationFeatureOutOptional, dynQuantScaleOutOptional
        assert np.array_equal(out.to_numpy(), expected)
    (made,), feature, scale = ops.call("aclnnGroupedMatmulV5", [x], [w], split_item=0, group_type=-1,
                                       group_list_type=0, act_type=0, stream=stream)
    with made:
        stream.synchronize()
        assert feature is None and scale is None and made.shape == (8, 12)
        assert np.array_equal(made.to_numpy(), expected)
    with pytest.raises(AclnnParamError, match="actType must be in"):  # the pure layer's rules, before C
        ops.call("aclnnGroupedMatmulV5", [x], [w], split_item=0, group_type=-1, group_list_type=0, act_type=9,
                 stream=stream)


def test_the_function_shows_its_c_signature():
    function = aclnn_py.ops._generic.function("aclnnGroupedMatmulV5")
    signature = inspect.signature(function)
    parameters = signature.parameters
    assert list(parameters)[:3] == ["x", "weight", "bias"]
    assert parameters["bias"].default is None and parameters["bias"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["split_item"].default is inspect.Parameter.empty  # int64_t splitItem: required
    assert parameters["out"].annotation == "Sequence[Tensor]" and "stream" in parameters
    assert "aclnnStatus aclnnGroupedMatmulV5GetWorkspaceSize(const aclTensorList *x," in function.__doc__
    assert "    group_list: const aclTensor *groupListOptional -- tensor, input, optional (None: NULL)" \
        in function.__doc__
    assert function.__name__ == "grouped_matmul_v5" and callable(function.plan)


def test_unknown_names_and_single_functions():
    with pytest.raises(AttributeError, match="no operator header read by aclnn-py declares an operator of that "
                                             "name"):
        ops.no_such_operator  # noqa: B018
    with pytest.raises(TypeError, match="aclnnCalculateMatmulWeightSizeV2 is a single function, not a two-phase "
                                        "operator"):
        ops.call("aclnnCalculateMatmulWeightSizeV2", [64, 128], "int8", None, stream=None)
    with pytest.raises(TypeError, match=r"trans_quant_param_v2\(\) missing required argument\(s\): offset"):
        ops.call("aclnnTransQuantParamV2", np.float32([1.0]), stream=None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bias'"):
        ops.call("aclnnTransQuantParamV2", np.float32([1.0]), None, bias=None, stream=None)
    with pytest.raises(TypeError, match=r"trans_quant_param_v2\(\) got multiple values for argument 'scale'"):
        ops.call("aclnnTransQuantParamV2", np.float32([1.0]), None, scale=None, stream=None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bias'"):  # the first wrong name, as Python
        ops.call("aclnnTransQuantParamV2", np.float32([1.0]), None, bias=None, scale=None, stream=None)


def _convert(kind: Kind, c_type: str, value, output: bool = False):
    parameter = Parameter("valueOptional", "value", c_type, kind, output, True)
    conversion = _arguments.Conversion(None)
    c_value, made = _arguments.converter(parameter)(value, parameter, conversion)
    return c_value, made, conversion, _arguments.rule_value(parameter, made)


def test_host_values_by_c_type(device):
    """Scalars (dtype from the value, or a Scalar's own), scalar lists, int/float/bool arrays, strings,
    dtypes, numbers: made for the call, or passed as they are."""
    made = []
    try:
        for value, dtype, rule in ((2, "ACL_INT64", (int(dtypes.DataType.ACL_INT64), 2)),
                                   (0.5, "ACL_DOUBLE", (int(dtypes.DataType.ACL_DOUBLE), 0.5)),
                                   (True, "ACL_BOOL", (int(dtypes.DataType.ACL_BOOL), True)),
                                   (np.float16(1.5), "ACL_FLOAT16", (int(dtypes.DataType.ACL_FLOAT16), 1.5))):
            c_value, scalar, conversion, got = _convert(Kind.SCALAR, "const aclScalar *", value)
            made += conversion.created
            assert c_value != ffi.NULL and scalar.dtype == getattr(dtypes.DataType, dtype) and got == rule
        own = Scalar(3, "float16")
        made.append(own)
        c_value, scalar, conversion, _ = _convert(Kind.SCALAR, "const aclScalar *", own)
        assert scalar is own and c_value == own.handle and not conversion.created
        _, levels, conversion, got = _convert(Kind.SCALAR_LIST, "const aclScalarList *", [1, own])
        made += conversion.created
        assert isinstance(levels, ScalarList) and got == ((int(dtypes.DataType.ACL_INT64), 1),
                                                          (int(dtypes.DataType.ACL_FLOAT16), 3))
        for kind, c_type, cls, values in ((Kind.INT_ARRAY, "const aclIntArray *", IntArray, (1, -2)),
                                          (Kind.FLOAT_ARRAY, "const aclFloatArray *", FloatArray, (0.5, 2.0)),
                                          (Kind.BOOL_ARRAY, "const aclBoolArray *", BoolArray, (True, False))):
            _, array, conversion, got = _convert(kind, c_type, list(values))
            made += conversion.created
            assert isinstance(array, cls) and got == values
        c_value, text, conversion, _ = _convert(Kind.STRING, "char *", "sum")
        assert ffi.string(c_value) == b"sum" and text == "sum" and conversion.keep == [c_value]
        assert _convert(Kind.DTYPE, "aclDataType", "bfloat16")[0] == int(dtypes.DataType.ACL_BF16)
        assert _convert(Kind.INTEGER, "int8_t", -128)[0] == -128
        assert _convert(Kind.FLOAT, "double", 2)[0] == 2.0 and _convert(Kind.BOOL, "bool", 1)[0] is True
        for kind, c_type in ((Kind.TENSOR, "const aclTensor *"), (Kind.SCALAR, "const aclScalar *"),
                             (Kind.STRING, "const char *"), (Kind.POINTER, "void *")):
            assert _convert(kind, c_type, None)[0] == ffi.NULL
    finally:
        for resource in made:
            resource.close()


@pytest.mark.parametrize("kind,c_type,value,error,message", [
    (Kind.INTEGER, "int8_t", 128, ArgumentError, "value: 128 is out of range [-128, 127]"),
    (Kind.INTEGER, "uint64_t", -1, ArgumentError, "value: -1 is out of range"),
    (Kind.INTEGER, "int64_t", 1.5, TypeError, "value: expected an integer, got float"),
    (Kind.FLOAT, "float", "1.5", TypeError, "value: expected a real number, got str"),
    (Kind.BOOL, "bool", 2, TypeError, "value: expected a bool, got 2"),
    (Kind.DTYPE, "aclDataType", "float17", ArgumentError, "value: unknown dtype 'float17'"),
    (Kind.STRING, "const char *", 5, TypeError, "value: expected str or bytes, got int"),
    (Kind.POINTER, "void *", "address", TypeError, "value: expected None, a cffi pointer, an address or a resource"),
    (Kind.SCALAR, "const aclScalar *", "2", TypeError, "value: expected a number"),
    (Kind.SCALAR, "const aclScalar *", 300, None, None),
    (Kind.INT_ARRAY, "const aclIntArray *", [1, 2**63], ArgumentError, "value[1]: 9223372036854775808 is out"),
    (Kind.TENSOR, "aclTensor *", np.zeros(2), TypeError, "value: the operator writes it: expected a Tensor"),
    (Kind.TENSOR_LIST, "const aclTensorList *", "xy", TypeError, "value: expected a sequence of Tensors or arrays"),
])
def test_a_value_c_cannot_take_names_the_parameter(device, kind, c_type, value, error, message):
    output = kind is Kind.TENSOR and not c_type.startswith("const")
    if error is None:  # a plain int becomes an INT64 scalar
        _, scalar, conversion, _ = _convert(kind, c_type, value)
        assert scalar.dtype == dtypes.DataType.ACL_INT64
        conversion.created[0].close()
        return
    with pytest.raises(error, match=message.replace("[", r"\[").replace("(", r"\(")):
        _convert(kind, c_type, value, output)


def test_an_unknown_soc_skips_the_python_pre_checks_once_warned(runtime, monkeypatch):
    """A SoC of no known profile: no Python pre-check (the runtime judges the call), one warning per name."""
    lib = aclnn_py.lib
    name = ffi.new("char[]", b"Ascend999Z")
    monkeypatch.setattr(lib, "aclrtGetSocName", lambda: name)
    monkeypatch.setattr(_profile, "_PROFILES", {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ops.current_profile() is None
        assert ops.current_profile() is None
    assert [str(w.message) for w in caught] == [
        "SoC 'Ascend999Z' has no product profile aclnn-py knows (Ascend910B*, Ascend910_93*, Ascend950*): the "
        "operators' Python pre-checks are skipped and the runtime checks each call"]
    assert all(w.category is RuntimeWarning for w in caught)


def test_include_directories_are_absolute_paths_only(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(_op_headers.VARIABLE, f"relative/dir{os.pathsep}{tmp_path}")
    _op_headers.include_dirs.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="aclnn_py"):
            assert _op_headers.include_dirs() == ((tmp_path, "ACLNN_PY_INCLUDE"),)
        assert "ACLNN_PY_INCLUDE entry 'relative/dir' ignored: not an absolute path" in caplog.text
        assert _op_headers.custom_libraries() == []  # not laid out as <vendor>/op_api/include
    finally:
        monkeypatch.delenv(_op_headers.VARIABLE)
        _op_headers.include_dirs.cache_clear()


def test_a_custom_package_brings_its_library(tmp_path, monkeypatch):
    """A CANN custom operator package: <vendor>/op_api/include with <vendor>/op_api/lib/libcust_opapi.so."""
    include = tmp_path / "vendors" / "acme_math" / "op_api" / "include"
    include.mkdir(parents=True)
    library = include.parent / "lib" / "libcust_opapi.so"
    library.parent.mkdir()
    library.write_bytes(b"")
    monkeypatch.setenv(_op_headers.VARIABLE, str(include))
    _op_headers.include_dirs.cache_clear()
    try:
        assert _op_headers.custom_libraries() == [library]
    finally:
        monkeypatch.delenv(_op_headers.VARIABLE)
        _op_headers.include_dirs.cache_clear()


def test_a_refused_value_releases_what_the_call_made(device, stream):
    """A device copy made for an input is released when a later argument is refused."""
    before = aclnn_py.ops._generic.operator("aclnnTransQuantParamV2")
    with pytest.raises(AclnnParamError, match="scale dtype INT32 is not supported"):
        ops.call("aclnnTransQuantParamV2", np.int32([1, 2]), None, stream=stream)
    stream.synchronize()  # the copies queued on the stream are released now; the kit's leak check agrees
    assert before is aclnn_py.ops._generic.operator("aclnnTransQuantParamV2")
