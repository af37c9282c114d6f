"""Exact int8 products at the CPU's integer speed: onnxruntime's ``MatMulInteger`` (the
``fast`` extra), plugged into the pure layer with :func:`aclnn_py.semantics.matmul.set_int_kernel`.

How the product is made exact (docs/int-products.md has the measurements): x is shifted to
unsigned, ``x' = x + 128`` with a zero point of 128, so ``MatMulInteger`` computes
``sum (x' - 128) w = sum x w``. Of onnxruntime's two forms:

- unsigned x signed (``w`` as it is) is the fast one, but on x86-64 with AVX2 or AVX-512
  without VNNI its MLAS kernel adds each pair of byte products in int16 with saturation
  (``vpmaddubsw``, ``MLAS_GEMM_U8S8_KERNEL_AVX2``): full-range data come out wrong. With
  AVX-512 VNNI, AVX-VNNI or AMX (``vpdpbusd``, tile products) and on aarch64 (``udot``,
  ``ummla``) the byte products go straight into int32 and it is exact (the dispatch:
  onnxruntime's ``core/mlas/lib/platform.cpp``);
- unsigned x unsigned (``w' = w + 128``, zero point 128) is exact on every kernel MLAS has: on
  x86-64 the bytes are widened to int16 and multiplied pairwise into int32 (``vpmaddwd``;
  ``MLAS_GEMM_U8U8_KERNEL_AVX2``, ``PackedAType int16_t``, ``core/mlas/lib/qgemm_kernel_avx2.cpp``),
  with AVX-VNNI-INT8 ``vpdpbuud`` and on aarch64 ``udot``/``ummla`` go into int32 directly.

The kernel takes the unsigned x signed form where a probe proves it does not saturate: products
of the most extreme bytes (every pair of ``255 * -128`` or ``255 * 127`` leaves int16), at the
shapes of MLAS's matrix and vector kernels and with odd tails, equal to the int64 reference.
Else (and where the probe finds a difference, as on this project's AVX2 machines) it takes the
unsigned x unsigned form, exact by construction, and where even that fails the probe (a
broken install) it declines and the pure layer computes on float32 BLAS.

The int32 arithmetic cannot overflow: a call covers at most ``CHUNK = 2**14`` values of k, and
every value MLAS forms is a partial sum of the byte products and the zero-point terms -- for
unsigned x unsigned the products ``x' w'`` in [0, 255**2], ``-128 * sum x'`` and
``-128 * sum w'`` in [-128 * 255 * k, 0] and ``128 * 128 * k``; for unsigned x signed the
products ``x' w`` in [-255 * 128, 255 * 127] and ``-128 * sum w`` in [-128 * 127 * k,
128 * 128 * k]. Whatever the order, a partial sum lies in [-65280 k, 81409 k], inside
+-1.34e9 < 2**31 for k = 2**14. The pure layer hands over only products whose exact result
fits int32, so the chunks add up in int32 exactly.

onnxruntime is imported on the first product, never at import; its threads are as many as the
compute pool's cores and do not spin between calls. A forked child makes its own session (the
parent's threads do not exist there; its session is kept, never destroyed, in the child).
Where onnxruntime is not installed, or is a release outside :data:`SUPPORTED`, the kernel is not
installed (:func:`unusable` says why).
"""
from __future__ import annotations

import ctypes
import importlib.metadata
import os
import threading
import warnings
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import numpy as np

from aclnn_py.semantics import matmul

#: The most k one onnxruntime call covers (the module docstring's overflow bound).
CHUNK = 2**14
#: The onnxruntime releases the kernel runs on: from 1.19 (NumPy 2), below 1.29, which starts a
#: thread when imported that makes a forked child hang when it exits (docs/int-products.md).
SUPPORTED = ((1, 19), (1, 29))

_UINT8, _INT8, _INT32 = 2, 3, 6  # onnx TensorProto.DataType values
#: (m, k, n) of the probe: the vector kernel (m = 1), tails of every blocking, a blocked product.
PROBE_SHAPES = ((1, 67, 40), (7, 131, 33), (50, 520, 270))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    """One protobuf field: a varint (int) or length-delimited (bytes, str) payload."""
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _tensor_info(name: str, elem_type: int, dims: str) -> bytes:
    """ValueInfoProto {name: 1, type: 2} of a matrix: TypeProto {tensor_type: 1 = {elem_type: 1,
    shape: 2 = TensorShapeProto {dim: 1 = {dim_param: 2}}}}, one named dimension per letter."""
    shape = b"".join(_field(1, _field(2, dim)) for dim in dims)
    return _field(1, name) + _field(2, _field(1, _field(1, elem_type) + _field(2, shape)))


def model_bytes(signed_b: bool) -> bytes:
    """The ONNX model ``Y = MatMulInteger(A, B, 128[, 128])``: uint8 A (m, k), int8 B (k, n)
    (``signed_b``) or uint8 B with a zero point of 128 as well, int32 Y (m, n).

    Written with the field numbers of ``onnx/onnx.proto`` (ModelProto: ir_version 1, graph 7,
    opset_import 8; GraphProto: node 1, name 2, initializer 5, input 11, output 12; NodeProto:
    input 1, output 2, op_type 4; TensorProto: data_type 2, name 8, raw_data 9): the onnx
    package is not needed.
    """
    zero_points = ("za",) if signed_b else ("za", "zb")
    initializers = b"".join(_field(5, _field(2, _UINT8) + _field(8, name) + _field(9, b"\x80"))
                            for name in zero_points)
    node = b"".join(_field(1, name) for name in ("A", "B") + zero_points) + _field(2, "Y") \
        + _field(4, "MatMulInteger")
    graph = (_field(1, node) + _field(2, "int_product") + initializers
             + _field(11, _tensor_info("A", _UINT8, "mk"))
             + _field(11, _tensor_info("B", _INT8 if signed_b else _UINT8, "kn"))
             + _field(12, _tensor_info("Y", _INT32, "mn")))
    opset = _field(2, 10)  # the default domain, opset 10 (MatMulInteger's first)
    return _field(1, 8) + _field(7, graph) + _field(8, opset)


def _unsigned(x: np.ndarray) -> np.ndarray:
    """``x + 128`` as C-ordered uint8 (int8, or int4 widened to int8)."""
    signed = x if x.dtype == np.int8 else x.astype(np.int8)
    return np.bitwise_xor(signed.view(np.uint8), np.uint8(0x80), out=np.empty(x.shape, np.uint8))


def _signed(x: np.ndarray) -> np.ndarray:
    """``x`` as C-ordered int8 (int4 widened)."""
    return np.ascontiguousarray(x, dtype=np.int8)


@dataclass(frozen=True)
class Form:
    """One form of the product on onnxruntime: its session and how w is handed to it."""

    name: str  # "u8s8" or "u8u8"
    session: Any

    def product(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """``out = a @ b`` for k <= CHUNK (out: C-ordered int32)."""
        binding = self.session.io_binding()
        binding.bind_cpu_input("A", _unsigned(a))
        binding.bind_cpu_input("B", _signed(b) if self.name == "u8s8" else _unsigned(b))
        binding.bind_output("Y", "cpu", 0, np.int32, out.shape, out.ctypes.data)
        self.session.run_with_iobinding(binding)


def _probe_operands(m: int, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the extreme bytes: every pair of products leaves int16 somewhere."""
    a = np.empty((m, k), np.int8)
    a[0::3], a[1::3], a[2::3] = 127, -128, np.where(np.arange(k) % 2, 127, -128)
    b = np.empty((k, n), np.int8)
    b[:, 0::3], b[:, 1::3], b[:, 2::3] = -128, 127, np.where(np.arange(k) % 2, -128, 127)[:, None]
    return a, b


def passes_probe(product: Callable[[np.ndarray, np.ndarray, np.ndarray], None]) -> bool:
    """``product(a, b, out)`` (``out = a @ b``, int32) is exact on the extreme bytes of
    :data:`PROBE_SHAPES`."""
    for m, k, n in PROBE_SHAPES:
        a, b = _probe_operands(m, k, n)
        out = np.empty((m, n), np.int32)
        product(a, b, out)
        if not np.array_equal(out, a.astype(np.int64) @ b.astype(np.int64)):
            return False
    return True


class Kernel:
    """The exact product ``a @ b`` of 2-D int8 or int4 operands as int32, on onnxruntime
    (None: declined, where no form of it is exact here)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._form: Form | None = None
        self._chosen = False

    def _session(self, signed_b: bool) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False  # the output is ours; nothing to keep between calls
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(model_bytes(signed_b), options, providers=["CPUExecutionProvider"])

    def form(self) -> Form | None:
        """The form this process uses, chosen on first use (the module docstring)."""
        with self._lock:
            if not self._chosen:
                self._form = self._choose()
                self._chosen = True
            return self._form

    def _choose(self) -> Form | None:
        try:
            for name in ("u8s8", "u8u8"):
                form = Form(name, self._session(signed_b=name == "u8s8"))
                if passes_probe(form.product):
                    return form
            problem = "no form of MatMulInteger computes the probe exactly"
        except Exception as exc:  # noqa: BLE001 -- a broken install: the float32 path is still exact
            problem = f"{type(exc).__name__}: {exc}"
        warnings.warn(f"the fast extra's integer products are off ({problem}); "
                      "products run on float32 BLAS", RuntimeWarning, stacklevel=2)
        return None

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        form = self.form()
        if form is None:
            return None
        (m, k), n = a.shape, b.shape[1]
        out = np.zeros((m, n), np.int32)
        part = np.empty((m, n), np.int32) if k > CHUNK else out
        for start in range(0, k, CHUNK):
            target = out if start == 0 else part
            form.product(a[:, start:start + CHUNK], b[start:start + CHUNK], target)
            if target is not out:
                out += target  # exact: the pure layer hands over only products whose sum fits int32
        return out

    def forget(self) -> None:
        """In a forked child: the parent's session threads do not exist here; choose again. The
        parent's session is never destroyed here (its destructor would wait for those threads):
        it is kept for good."""
        if self._form is not None:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(self._form.session))
        self._lock = threading.Lock()
        self._form = None
        self._chosen = False


def unusable() -> str | None:
    """Why onnxruntime cannot serve here (None: it can), found without importing it: not
    installed, or a version outside ``SUPPORTED``."""
    try:
        version = importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        return "onnxruntime is not installed (pip install 'aclnn-py[fast]')"
    try:
        release = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        release = ()
    if not SUPPORTED[0] <= release < SUPPORTED[1]:
        return (f"onnxruntime {version} is outside {'.'.join(map(str, SUPPORTED[0]))} <= version < "
                f"{'.'.join(map(str, SUPPORTED[1]))} (docs/int-products.md)")
    return None


def install(threads: int) -> Kernel | None:
    """Register the kernel with the pure layer where onnxruntime can serve; returns it."""
    if unusable() is not None:
        return None
    kernel = Kernel(threads)
    matmul.set_int_kernel(kernel)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=kernel.forget)
    return kernel
