"""The six GroupedMatmul entry points: one operator, each version V5's call restricted.

ops-transformer exports ``aclnnGroupedMatmul`` (V1), ``V2``, ``V3``, ``V4``, ``V5`` and
``aclnnGroupedMatmulWeightNz`` from one op_api source (gmm/grouped_matmul/op_api/
aclnn_grouped_matmul.cpp): each ``...GetWorkspaceSize`` runs its own entry checks, then the
shared ``aclnnGroupedMatmulGetWorkspaceSizeCommon`` with its ``GMMApiVersion``, which a few
shared checks consult. Here likewise: an :class:`EntryPoint` names an entry point's header
parameters with V5's canonical arguments (``y`` -> ``out``) and says what the version changes;
:func:`.rules.check` takes it and runs V5's rules with those changes; the golden and the mock's
execution are V5's.

What the versions change (upstream code at the 2026-08 commit of docs/op-api-replay.md):

- V1 and V2 take the groupList as a host ``aclIntArray`` of cumulative sizes
  (``groupListType`` 0), checked value by value at GetWorkspaceSize
  (``CheckGroupListCommonIntArray``, ``CheckGroupListSplitM`` / ``SplitK``); V3-V5 and
  WeightNz take an INT64 device tensor (``CheckGroupListCommonTensor``).
- V1 has no ``groupType``: the lists choose it (``aclnnGroupedMatmulGetWorkspaceSize``: -1
  when x and y both hold several tensors or x, weight and y one each, else 0).
- V1-V3 have no ``groupListType``, ``actType``, ``perTokenScale`` or activation lists (0 and
  NULL); V4 no ``tuningConfig``; WeightNz adds ``quantGroupSize``.
- V1 and V2 alone take a single x split along M into one output per weight
  (``CheckCaseSplitM`` refuses it to the tensor-groupList versions).
- WeightNz reads the weight as FRACTAL_NZ data whatever its format
  (``GetGMMResultByL0Api``: ``SetTensorToNZFormat``) and refuses K grouping.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

from .. import catalogue, signatures

__all__ = ["ENTRY_POINTS", "EntryPoint", "V1", "V2", "V3", "V4", "V5", "WEIGHT_NZ"]


@dataclass(frozen=True)
class EntryPoint:
    """One GroupedMatmul entry point: its header's parameters as V5's canonical arguments and
    what its version changes in the rules."""

    op: str  # the phase-2 function, e.g. "aclnnGroupedMatmulV3"
    version: str  # upstream's GMMApiVersion: "V1" .. "V5", "WeightNz"
    #: header parameter name -> canonical argument, where not its snake case (V1-V3: y -> out)
    renamed: Mapping[str, str] = field(default_factory=dict)
    #: header parameters the operator writes though declared ``const`` (V1-V3's y)
    written: tuple[str, ...] = ()
    host_group_list: bool = False  # V1, V2: the groupList is an aclIntArray of cumulative sizes

    @property
    def function(self) -> str:
        return f"{self.op}GetWorkspaceSize"

    @cached_property
    def header(self) -> signatures.Signature:
        """The header's parameters in order, with their canonical names."""
        return catalogue.project_signature(self.op)

    def label(self, key: str) -> str:
        """The name a message uses for a canonical argument (``out`` -> ``y`` for V1-V3)."""
        return self.header.label(key)

    def has(self, key: str) -> bool:
        """Whether the header has the canonical argument ``key`` (V1 has no ``group_type``)."""
        return key in self.header.by_name

    @property
    def tensor_group_list(self) -> bool:
        """The groupList is an INT64 device tensor (V3-V5, WeightNz)."""
        return not self.host_group_list


_Y = {"y": "out"}
V1 = EntryPoint("aclnnGroupedMatmul", "V1", renamed=_Y, written=("y",), host_group_list=True)
V2 = EntryPoint("aclnnGroupedMatmulV2", "V2", renamed=_Y, written=("y",), host_group_list=True)
V3 = EntryPoint("aclnnGroupedMatmulV3", "V3", renamed=_Y, written=("y",))
V4 = EntryPoint("aclnnGroupedMatmulV4", "V4")
V5 = EntryPoint("aclnnGroupedMatmulV5", "V5")
WEIGHT_NZ = EntryPoint("aclnnGroupedMatmulWeightNz", "WeightNz")

ENTRY_POINTS = {e.op: e for e in (V1, V2, V3, V4, V5, WEIGHT_NZ)}
