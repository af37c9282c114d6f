"""The pure layer: what CANN specifies, as plain Python and NumPy.

Shared by the binding (which checks arguments before calling C) and the mock
runtime (which implements the C functions with it); it loads no library,
builds no FFI and imports neither the binding nor the mock
(``tests/semantics/test_architecture.py`` checks the import graph).

* :mod:`.headers` -- the runtime headers of ``include/`` parsed: prototypes, constants,
  enums, which library exports what; :mod:`.operator_headers`, :mod:`.signatures`,
  :mod:`.catalogue` -- operator headers as CANN writes them, one signature per
  operator, where each is declared and what the pure layer adds (its rules' library,
  canonical names, rules, output inference); :mod:`.status` -- status names, the neutral
  :class:`~.status.Violation` of an operator rule and :class:`~.status.ArgumentError`;
* :mod:`.dtypes` -- aclDataType / aclFormat / HcclDataType and their NumPy host types;
  :mod:`.codecs` -- HiFloat8, E8M0, 4-bit packing, exact float conversions;
* :mod:`.descriptors`, :mod:`.layout` -- aclTensor descriptors and where their bytes
  are; :mod:`.nz` -- FRACTAL_NZ; :mod:`.quant_params` -- packed UINT64 scales and
  groupSize; :mod:`.soc` -- SoC names and product profiles;
* per operator (:mod:`.quant_matmul_all_reduce`, :mod:`.grouped_matmul`): ``call``
  (the one classification of a call), ``rules`` (the argument rules of
  GetWorkspaceSize) and ``golden`` (the NumPy reference, computing from the
  classification); :mod:`.trans_matmul_weight`, :mod:`.trans_quant_param` -- the
  rules of the weight and scale helpers; :mod:`.precision` -- CANN's precision
  standard; :mod:`.matmul` -- exact integer products on BLAS.
"""
