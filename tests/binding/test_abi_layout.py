"""The binding's cffi declarations (built from include/ by aclnn_py.semantics.headers) give the C ABI's
layout and values: what the runtime's functions read and write through them."""
from __future__ import annotations

import aclnn_py
from aclnn_py import ffi
from aclnn_py.semantics.headers import load


def test_struct_sizes_and_alignments_are_the_abi():
    assert ffi.sizeof("HcclCommConfig") == 2240 and ffi.alignof("HcclCommConfig") == 8
    assert ffi.offsetof("HcclCommConfig", "hcclCommName") == 32
    assert ffi.offsetof("HcclCommConfig", "hcclSymWinMaxMemSizePerRank") == 2232
    assert ffi.sizeof("HcclRootInfo") == 4108 and ffi.alignof("HcclRootInfo") == 1
    assert ffi.sizeof("aclCANNPackageVersion") == 512
    assert ffi.sizeof("aclDataType") == 4 and ffi.sizeof("HcclResult") == 4
    assert ffi.typeof("aclnnStatus") is ffi.typeof("int32_t")
    assert len(ffi.typeof("aclnnStatus(*)(void *, uint64_t, aclOpExecutor *, const aclrtStream)").args) == 4


def test_every_constant_of_the_headers_is_the_librarys():
    constants = load().constants
    assert len(constants) > 300
    assert {name: getattr(aclnn_py.lib, name) for name in constants} == constants
