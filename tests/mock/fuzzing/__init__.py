"""A seeded fuzzer of the operators' C entry points and of the Python API.

Its parts, one job each:

* :mod:`.cases` -- pure data, no runtime: :func:`~.cases.generate` turns
  ``(seed, SoC profile, index)`` into one :class:`~.cases.Case` (an operator
  call: tensors described by shape, aclDataType number, strides, offset,
  format, storage shape, address kind and contents; attributes; strings; the
  communicator size; the path, C ABI or Python API; whether to execute it). A
  case starts from a valid call of the profile and gets mutations: invalid
  dtype numbers, 0-d / empty / huge / mismatched shapes, strides of both signs
  and extreme values, offsets, ND/NZ/bogus formats, storage shapes, NULL,
  freed, host, wild and other-device addresses, short allocations, NULL and
  empty lists, attribute and string values.
* :mod:`.child` -- runs cases in a child process (``python tests/mock/fuzzing/child.py``)
  and prints one JSON line per case; rank 1 of a 2-rank communicator on a
  second thread. :mod:`.memory` places every tensor of a case in its own
  allocation and checks that nothing outside each output changed (the bytes
  of the output's allocation outside its elements, a guard allocation placed
  after it, every input allocation). :mod:`.c_calls` makes the call through
  raw cffi calls of ``aclnn_py.lib``, :mod:`.python_calls` through
  ``aclnn_py.ops``; a share of the accepted ones runs on a stream.
* :mod:`.generic_ops` -- the operators reached through the generic, header-driven
  path (Mm, Matmul, Cast, Permute): their valid calls, the calls made from their
  header signatures (C and ``aclnn_py.ops.call``), and their goldens, which the
  outputs of every accepted call that ran must equal. One entry of its
  ``GENERIC`` adds an operator of the catalogue to the fuzz.
* :mod:`.verdict` judges what a case reported: only documented status codes,
  a non-empty recent-error message naming a parameter with every failure, only
  the project's exceptions from the Python API, nothing written outside the
  outputs, equal outputs on both ranks. :mod:`.runner` starts children,
  observes crashes (a signal) and hangs (no progress within a timeout) and
  sums the figures.

``tests/mock/test_fuzz.py`` runs a bounded batch in the suite; ``benchmarks/fuzz.py``
runs the same generator for longer. ``ACLNN_FUZZ_SEED`` changes the seed; a
failure prints the seed, the profile and the index of the case and the case
itself; ``python tests/mock/fuzzing/child.py --seed S --soc SOC --start I --count 1``
runs that case alone.
"""
