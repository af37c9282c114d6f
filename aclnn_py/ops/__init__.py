"""One Python function per aclnn operator, over the raw two-phase C API."""
