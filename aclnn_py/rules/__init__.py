"""Argument rules of each operator's GetWorkspaceSize, shared by the binding and the mock.

Each rule module checks :class:`~aclnn_py.descriptors.TensorDesc` arguments for
a product profile (``"A2"``, ``"A3"``, ``"950"``) and raises
:class:`~aclnn_py.errors.AclnnParamError` (161001/161002) or
:class:`~aclnn_py.errors.AclnnInternalError` (561002, tiling-stage rules) with a
message naming the parameter and the rule. The binding runs them before
calling C; the mock runs the same functions inside GetWorkspaceSize.
"""
