"""aclnn-py: Python binding to CANN's aclnn operators."""
