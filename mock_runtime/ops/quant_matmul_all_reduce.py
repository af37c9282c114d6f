"""Placeholder: being written."""
from mock_runtime.core.errors import C, MockError


def prepare(*args, **kwargs):
    raise MockError(C["ACLNN_ERR_INNER"], "quant_matmul_all_reduce is not implemented yet")


def calculate_size(*args, **kwargs):
    raise MockError(C["ACLNN_ERR_INNER"], "quant_matmul_all_reduce is not implemented yet")
