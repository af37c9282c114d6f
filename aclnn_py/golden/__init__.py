"""NumPy golden references for the aclnn operators and the helpers they share."""
