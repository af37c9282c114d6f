"""The tolerant reader of operator headers and the signatures derived from them (the pure layer).

``operator_headers/aclnn_constructs.h`` is a synthetic header in CANN's style holding each
construct CANN's public operator headers use; every function it names is either declared (and
a C/C++ compiler agrees with the declaration) or refused with the reason. The signature tests
check the conventions :mod:`aclnn_py.semantics.signatures` documents.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aclnn_py.semantics import catalogue, headers, operator_headers
from aclnn_py.semantics.signatures import Kind, op_name, python_name, signature, snake_case

HERE = Path(__file__).resolve().parent / "operator_headers"
INCLUDE = headers.include_dir()
KNOWN = headers.load().type_names


def _read(name: str) -> operator_headers.HeaderReading:
    return operator_headers.read_file(HERE / name, KNOWN, name)


def test_every_construct_is_declared_or_refused_with_its_reason():
    reading = _read("aclnn_constructs.h")
    assert reading.problem is None
    assert sorted(reading.functions) == sorted([
        "aclnnConstructsGetWorkspaceSize", "aclnnConstructs", "aclnnVisibleGetWorkspaceSize", "aclnnVisible",
        "aclnnOldGetWorkspaceSize", "aclnnOld", "aclnnHelperSize", "aclnnHelperVersion", "aclnnHelperMode",
        "aclnnHelperRank"])
    assert reading.refused == {
        "aclnnReferenceRefused": "C++ reference parameter (uint64_t &size): no C declaration",
        "aclnnDefaultRefused": "C++ default argument (int64_t axis = 0): no C declaration",
        "aclnnUnknownTypeRefused": "unknown type 'std_like_type' (declared neither by the aclnn-py headers nor by "
                                   "aclnn_constructs.h)",
        "aclnnInlineRefused": "defined in the header (a static inline function): no library exports it",
        "aclnnCxxOnlyRefused": "declared for C++ only (inside #ifdef __cplusplus)",
    }
    functions = reading.functions
    # ACLNN_API, __attribute__((visibility/deprecated)), ACL_DEPRECATED_MESSAGE(...) and the header's own
    # attribute macro are gone; const aclrtStream, unnamed and array parameters and (void) are read
    assert functions["aclnnOld"].declaration == (
        "aclnnStatus aclnnOld(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);")
    assert functions["aclnnConstructs"].parameters[-1] == ("const aclrtStream", "stream")
    assert functions["aclnnHelperSize"].declaration == (
        "aclnnStatus aclnnHelperSize(const aclIntArray *arg0, int64_t *shape, uint64_t *size);")
    assert functions["aclnnHelperVersion"].declaration == "aclnnStatus aclnnHelperVersion(void);"
    # a header-local type travels with the prototype that uses it; the #if took its first branch
    assert functions["aclnnHelperMode"].types == (
        "typedef enum { CONSTRUCTS_MODE_A = 0L, CONSTRUCTS_MODE_B = 1L, } ConstructsMode;",)
    assert "aclnnHelperRankRefused" not in reading.refused


def test_a_header_it_cannot_read_refuses_every_function_it_names():
    reading = _read("aclnn_error.h")
    assert reading.problem == 'aclnn_error.h:8: #error "this header is C++ only"'
    assert reading.refused == {"aclnnErrorRefused": f"the header cannot be read: {reading.problem}"}
    assert not reading.functions


@pytest.mark.parametrize("line,problem", [
    ("#if FOO ? 1 : 0", "the conditional operator in #if is not supported"),
    ("#frobnicate", "unsupported directive #frobnicate"),
    ("#if 1", "an #if/#ifdef/#ifndef is never closed"),
    ("#endif", "#endif without #if"),
])
def test_constructs_it_cannot_take_refuse_the_header(line, problem):
    text = f"#ifndef G_H\n#define G_H\n{line}\naclnnStatus aclnnX(const aclTensor *x);\n#endif\n"
    reading = operator_headers.read(text, "g.h", KNOWN)
    assert problem in reading.problem
    assert set(reading.refused) == {"aclnnX"}


def test_without_extern_c_a_function_has_cxx_linkage():
    text = "#ifndef G_H\n#define G_H\naclnnStatus aclnnX(const aclTensor *x);\n#endif\n"
    reading = operator_headers.read(text, "g.h", KNOWN)
    assert reading.refused == {"aclnnX": 'declared without extern "C" (C++ linkage): the library exports a '
                                         'mangled name'}


def test_two_different_declarations_refuse_the_function():
    text = ('extern "C" {\naclnnStatus aclnnX(const aclTensor *x);\naclnnStatus aclnnX(const aclTensor *y, '
            'int64_t n);\n}\n')
    reading = operator_headers.read(text, "g.h", KNOWN)
    assert "declared twice, differently" in reading.refused["aclnnX"]


@pytest.mark.skipif(shutil.which("g++") is None or shutil.which("gcc") is None, reason="no C/C++ compiler")
@pytest.mark.parametrize("compiler", ["gcc", "g++"])
def test_the_compiler_agrees_with_every_declaration(tmp_path, compiler):
    """Redeclaring every prototype the reader gives after the header itself: a type that differs is a
    conflicting declaration (C), a C++-linkage function redeclared extern "C" an error (C++). The
    C++-only parts of the header (std includes, references, defaults) are what C compilers lack, so
    the C check compiles a copy with those lines removed."""
    reading = _read("aclnn_constructs.h")
    text = (HERE / "aclnn_constructs.h").read_text()
    if compiler == "gcc":
        text = "\n".join(line for line in text.splitlines() if not any(
            cxx in line for cxx in ("<string>", "<array>", "<cstring>", "&size", "= 0)", "std_like_type")))
    header = tmp_path / "aclnn_constructs.h"
    header.write_text(text)
    source = tmp_path / ("redeclare.c" if compiler == "gcc" else "redeclare.cpp")
    protos = "\n".join(p.declaration for p in reading.functions.values())
    if compiler == "g++":
        protos = f'extern "C" {{\n{protos}\n}}'
    # std_like_type stands for a type of some C++ header the binding does not read
    prelude = "typedef int std_like_type;\n" if compiler == "g++" else ""
    source.write_text(f'{prelude}#include "aclnn_constructs.h"\n{protos}\n')
    result = subprocess.run([compiler, "-fsyntax-only", "-Wno-cpp", "-Wno-deprecated-declarations", f"-I{INCLUDE}",
                             f"-I{INCLUDE / 'aclnnop'}", f"-I{tmp_path}", str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_signature_kinds_outputs_and_names():
    reading = _read("aclnn_constructs.h")
    sig = signature(reading.functions["aclnnConstructsGetWorkspaceSize"])
    assert sig.op == "aclnnConstructs" and sig.two_phase and sig.python_name == "constructs"
    kinds = {p.name: p.kind for p in sig.parameters}
    assert kinds == {
        "self": Kind.TENSOR, "bias": Kind.TENSOR, "xs": Kind.TENSOR_LIST, "alpha": Kind.SCALAR,
        "dims": Kind.INT_ARRAY, "weights": Kind.FLOAT_ARRAY, "mask": Kind.BOOL_ARRAY, "levels": Kind.SCALAR_LIST,
        "axis": Kind.INTEGER, "keep_dim": Kind.BOOL, "eps": Kind.FLOAT, "beta": Kind.FLOAT, "level": Kind.INTEGER,
        "dtype": Kind.DTYPE, "mode": Kind.STRING, "group": Kind.STRING, "raw": Kind.POINTER, "out": Kind.TENSOR,
        "softmax_out": Kind.TENSOR}
    # non-const out, and the const ...Out CANN also declares, are outputs; Optional is optional
    assert [p.name for p in sig.parameters if p.output] == ["out", "softmax_out"]
    assert [p.name for p in sig.parameters if p.optional] == ["bias"]
    assert sig.by_name["bias"].label == "bias" and sig.by_name["bias"].c_name == "biasOptional"
    # an in-place ...Ref tensor is read and written; the protocol's parameters are found by type
    visible = signature(reading.functions["aclnnVisibleGetWorkspaceSize"])
    (ref,) = visible.parameters
    assert ref.output and ref.input and ref.name == "self_ref"
    single = signature(reading.functions["aclnnHelperSize"])
    assert not single.two_phase and single.names == ("arg0", "shape", "size")


@pytest.mark.parametrize("c_name,python", [
    ("perTokenScaleOptional", "per_token_scale"), ("x1ScaleOptional", "x1_scale"), ("groupListType", "group_list_type"),
    ("commQuantScale1Optional", "comm_quant_scale1"), ("lambda", "lambda_"), ("from", "from_"), ("stream", "stream_"),
    ("workspace_size", "workspace_size"), ("topKOutput", "top_k_output"), ("gradOutput", "grad_output")])
def test_python_names(c_name, python):
    assert python_name(c_name) == python


def test_operator_names():
    assert op_name("aclnnQuantMatmulAllReduceV4") == "quant_matmul_all_reduce_v4"
    assert op_name("aclnnAddRmsNorm") == "add_rms_norm"
    assert snake_case("FFNV3") == "ffnv3"
    assert op_name("aclnnMoeGatingTopKSoftmax") == "moe_gating_top_k_softmax"


def test_grad_output_is_an_input():
    """CANN's backward operators take the incoming gradient as a const gradOutput: not an output."""
    text = ('extern "C" {\naclnnStatus aclnnXBackwardGetWorkspaceSize(const aclTensor *gradOutput, '
            'const aclTensor *self, aclTensor *gradInput, uint64_t *workspaceSize, aclOpExecutor **executor);\n}\n')
    sig = signature(operator_headers.read(text, "g.h", KNOWN).functions["aclnnXBackwardGetWorkspaceSize"])
    assert [p.name for p in sig.parameters if p.output] == ["grad_input"]


def test_the_project_catalogue_has_rules_for_every_operator_it_declares():
    """Each pair and single function of include/aclnnop has its OperatorRules (the library CANN
    exports it from), and their canonical names apply to the header's parameters."""
    index = catalogue.project_index()
    declared = {name.removesuffix("GetWorkspaceSize") for name in index.names()}
    assert declared == set(catalogue.all_rules())
    v2 = catalogue.project_signature("aclnnQuantMatmulAllReduceV2")
    assert v2.names == ("x1", "x2", "bias", "x3", "x2_scale", "x1_scale", "group", "reduce_op", "comm_turn",
                        "stream_mode", "output")
    assert v2.label("x2_scale") == "dequantScale"
    gmm = catalogue.project_signature("aclnnGroupedMatmulV5")
    assert gmm.names[:3] == ("x", "weight", "bias") and gmm.by_name["group_list"].kind is Kind.TENSOR
    assert {r.library for r in catalogue.all_rules().values()} == {"opapi_math", "opapi_nn", "opapi_transformer"}
