"""The mock's operators: argument checks at GetWorkspaceSize, NumPy math on the stream."""
