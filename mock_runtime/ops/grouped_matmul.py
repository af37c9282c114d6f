"""Placeholder: being written."""
from mock_runtime.core.errors import C, MockError


def prepare(*args, **kwargs):
    raise MockError(C["ACLNN_ERR_INNER"], "grouped_matmul is not implemented yet")


def calculate_size(*args, **kwargs):
    raise MockError(C["ACLNN_ERR_INNER"], "grouped_matmul is not implemented yet")
