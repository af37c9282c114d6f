"""How this process computes the mock's exact integer products, and the benchmarks' switch."""
from __future__ import annotations

from importlib import metadata

from aclnn_py.semantics import matmul
from mock_runtime.core import compute, int_kernel  # noqa: F401 -- compute installs the kernel


def use_int_products(path: str) -> None:
    """``"fast"``: the kernel the compute pool installed (onnxruntime, where the fast extra is
    installed); ``"blas"``: float32 BLAS whatever is installed."""
    if path == "blas":
        matmul.set_int_kernel(None)


def describe_int_products() -> str:
    """Which path, and why BLAS where it is."""
    kernel = matmul.installed_int_kernel()
    if kernel is None:
        return f"float32 BLAS ({int_kernel.unusable() or 'chosen: --int-products blas'})"
    form = kernel.form()
    if form is None:
        return "float32 BLAS (the onnxruntime kernel declined: see the warning)"
    return (f"onnxruntime {metadata.version('onnxruntime')} MatMulInteger, {form.name} form "
            f"(docs/int-products.md), {kernel.threads} threads")
