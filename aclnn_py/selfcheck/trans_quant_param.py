"""TransQuantParamV2: the packed words are compared with
:func:`aclnn_py.semantics.quant_params.trans_quant_param`.
"""
from __future__ import annotations

import numpy as np

from ..ops import trans_quant_param_v2
from ..semantics.quant_params import trans_quant_param
from .framework import Comparison, Host, Mode, exact, rng_for

__all__ = ["modes"]


def _trans_quant_param(host: Host) -> list[Comparison]:
    rng = rng_for("trans_quant_param/v2")
    scale = rng.uniform(1e-4, 10, 96).astype(np.float32)
    offset = np.round(rng.uniform(-300, 300, 96)).astype(np.float32)
    scale_2d = rng.uniform(1e-3, 1, (3, 40)).astype(np.float32)
    offset_2d = np.round(rng.uniform(-20, 20, (3, 40))).astype(np.float32)
    cases = [("scale (96,)", (scale, None), "uint64"), ("scale and offset (96,)", (scale, offset), "uint64"),
             ("scale (96,) broadcast offset (1,)", (scale, offset[:1]), "int64"),
             ("2-D scale and offset", (scale_2d, offset_2d), "uint64")]

    def body(rank) -> list[np.ndarray]:
        results = []
        for _, (s, o), out_dtype in cases:
            with trans_quant_param_v2(s, o, stream=rank.stream, out_dtype=out_dtype) as out:
                rank.stream.synchronize()
                results.append(out.to_numpy())
        return results

    got = host.ranks.run(body)[0]
    return [exact(what, result.view(np.uint64), trans_quant_param(s, o))
            for (what, (s, o), _), result in zip(cases, got)]


def modes() -> list[Mode]:
    return [Mode("trans_quant_param/v2", _trans_quant_param)]
