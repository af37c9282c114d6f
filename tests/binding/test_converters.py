"""The header-driven operators' converters: a ``const char *`` (C only reads it) passes one shared
NUL-terminated copy per distinct str or bytes; a ``char *`` C may write (``char *`` or
``char *const``) gets a copy of its own at every call; every call keeps the buffer it passes.
The kinds the call may skip converting for None pass NULL for it."""
from __future__ import annotations

import pytest

from aclnn_py import ffi
from aclnn_py.ops._arguments import NULL_FOR_NONE, Conversion, converter
from aclnn_py.semantics.signatures import Kind, Parameter


def _convert(c_type: str, value):
    parameter = Parameter("group", "group", c_type, Kind.STRING, False, False)
    call = Conversion(None)
    buffer, text = converter(parameter)(value, parameter, call)
    return buffer, text, call


def test_const_char_pointers_share_one_copy_per_text():
    first, text, call = _convert("const char *", "grüße")
    again, _, again_call = _convert("const char *", "grüße")
    assert again is first and text == "grüße"
    assert ffi.string(first) == "grüße".encode() and ffi.sizeof(first) == len("grüße".encode()) + 1
    assert call.keep == [first] and again_call.keep == [first]
    raw, raw_text, _ = _convert("const char *", "grüße".encode())  # bytes apart from str
    assert raw is not first and ffi.string(raw) == ffi.string(first) and raw_text == "grüße"
    other, _, _ = _convert("const char *", "sum")
    assert other is not first and ffi.string(other) == b"sum"


@pytest.mark.parametrize("c_type", ["char *", "char *const"])
def test_writable_char_pointers_get_a_copy_per_call(c_type):
    first, text, call = _convert(c_type, "sum")
    again, _, _ = _convert(c_type, "sum")
    assert again is not first and ffi.string(first) == ffi.string(again) == b"sum" and text == "sum"
    assert call.keep == [first]


def test_a_bytearray_is_copied_at_each_call():
    value = bytearray(b"ab")
    first, _, _ = _convert("const char *", value)
    value[0:1] = b"x"
    again, text, _ = _convert("const char *", value)
    assert ffi.string(first) == b"ab" and ffi.string(again) == b"xb" and text == "xb"


@pytest.mark.parametrize("value, error", [("a\0b", "NUL"), (3, "expected str or bytes")])
def test_bad_text_is_refused_by_name(value, error):
    with pytest.raises((TypeError, ValueError), match=error) as info:
        _convert("const char *", value)
    assert "group" in str(info.value)


@pytest.mark.parametrize("kind", sorted(NULL_FOR_NONE, key=str))
def test_kinds_said_to_pass_null_for_none_do(kind):
    """The header-driven call skips the converter of a None of these kinds: each would pass NULL."""
    parameter = Parameter("p", "p", "void *", kind, False, True)
    assert converter(parameter)(None, parameter, Conversion(None)) == (ffi.NULL, None)
