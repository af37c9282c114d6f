"""State of the mock runtime: errors, configuration, devices, memory, streams, objects."""
