"""Transitional: the QuantMatmulAllReduce mock (and its tests) still import
``find_communicator`` from here. It lives in :mod:`mock_runtime.hccl.registry`;
delete this module once mock_runtime/ops/quant_matmul_all_reduce.py and
tests/test_qmmar.py import it from there."""
from __future__ import annotations

from mock_runtime.hccl.registry import find_communicator

__all__ = ["find_communicator"]
