"""docs/hccl.md's table of HCCL operations says what aclnn_py.semantics.hccl.OPERATIONS holds: per
operation (in hccl.h's order) and product, the data types (by the page's named sets) and the
reduce operations; and the rules of aclnn_py.semantics.hccl that the mock and the binding share."""
from __future__ import annotations

import re
from pathlib import Path

from aclnn_py.semantics.hccl import ALL_OPS, MOVE_950, MOVE_A2, OPERATIONS, REDUCE_950, REDUCE_A2

PAGE = Path(__file__).resolve().parents[2] / "docs" / "hccl.md"
SETS = {"move": MOVE_A2, "move8": MOVE_950, "reduce": REDUCE_A2, "reduce64": REDUCE_950,
        "reduce − INT64": REDUCE_A2 - {"INT64"}}


def rows() -> dict[str, list[str]]:
    table = {}
    for line in PAGE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("Hccl"):
            table[cells[0]] = cells[1:]
    return table


def ops(cell: str, profile: str) -> frozenset[str]:
    if cell == "—":
        return frozenset()
    if cell == "all":
        return ALL_OPS
    for part in cell.split("; "):
        where, names = part.split(": ")
        if profile in where.split("/"):
            return ALL_OPS if names == "all" else frozenset(n.strip().lower() for n in names.split(","))
    raise AssertionError(f"no reduce ops for {profile} in {cell!r}")


def test_the_page_lists_every_operation_with_its_types_and_ops():
    table = rows()
    assert list(table) == list(OPERATIONS)
    for name, (method, a2, a3, b950, reduce_ops) in table.items():
        operation = OPERATIONS[name]
        assert re.fullmatch(r"`[a-z_]+\(.*\)`", method), method
        for profile, cell in (("A2", a2), ("A3", a3), ("950", b950)):
            assert SETS[cell] == operation.dtypes[profile], (name, profile)
            want = frozenset() if operation.ops is None else operation.ops[profile]
            assert ops(reduce_ops, profile) == want, (name, profile)


def test_the_rules_name_the_type_the_op_and_the_product():
    from aclnn_py.semantics.dtypes import HcclDataType as T

    rs = OPERATIONS["HcclReduceScatterV"]
    assert rs.dtype_problem("A2", T.HCCL_DATA_TYPE_INT64).startswith(
        "HcclReduceScatterV does not support dataType INT64 on Atlas A2 (supported: INT8, INT16, INT32, FP16")
    assert rs.dtype_problem("A3", T.HCCL_DATA_TYPE_INT64) is None
    assert "op PROD on Atlas A3" in rs.op_problem("A3", T.HCCL_DATA_TYPE_FP32, 1)
    assert rs.op_problem("950", T.HCCL_DATA_TYPE_FP32, 1) is None
    assert "PROD excludes INT16 and BFP16" in rs.op_problem("950", T.HCCL_DATA_TYPE_BFP16, 1)
    assert "not an HcclReduceOp" in rs.op_problem("950", T.HCCL_DATA_TYPE_FP32, 9)
    assert OPERATIONS["HcclAlltoAll"].dtype_problem("950", T.HCCL_DATA_TYPE_HIF8) is None
    assert "INT128" in OPERATIONS["HcclAlltoAll"].dtype_problem("950", T.HCCL_DATA_TYPE_INT128)


def test_segments_fit_their_buffer_and_written_ones_do_not_overlap():
    from aclnn_py.semantics.hccl import segments_problem

    assert segments_problem([2, 0, 3], [0, 99, 2], 5, "c", "d", "buf", disjoint=True) is None  # empty ignored
    assert segments_problem([2, 3], [0, 3], 5, "c", "d", "buf", disjoint=True) == (
        "d[1] + c[1] = 3 + 3 = 6 elements exceed buf (5 elements)")
    assert segments_problem([2, 2], [0, 1], 5, "c", "d", "buf", disjoint=False) is None  # reads may share
    assert segments_problem([2, 2], [0, 1], 5, "c", "d", "buf", disjoint=True) == (
        "buf segments 0 and 1 overlap: elements [0, 2) and [1, 3) (d, c)")


def test_the_count_matrix_packs_segments_in_rank_order():
    from aclnn_py.semantics.hccl import matrix_layout

    matrix = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert matrix_layout(matrix, 1) == ([4, 5, 6], [0, 4, 9], [2, 5, 8], [0, 2, 7])
