"""An extension package of the mock (``ACLNN_MOCK_OPERATORS``): one operator, aclnnAxpyCustom.

The package registers the operator's NumPy execution with its rules; its header is in
``include/``. The mock builds it into libcust_opapi.so (tests/mock/test_extensions.py).
"""
from aclnn_py.semantics.catalogue import OperatorRules
from mock_runtime.ops import implements

from . import execution, rules

implements("aclnnAxpyCustom", rules=OperatorRules("aclnnAxpyCustom", "cust_opapi", check=rules.check,
                                                  outputs=rules.outputs))(execution.prepare)
