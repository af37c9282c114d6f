"""HcclCommConfig: ``comm_config_init`` (the header's inline HcclCommConfigInit, in Python)
and HcclGetCommConfigCapability."""
from __future__ import annotations

import struct
from typing import Any

from .. import arguments
from ..semantics.headers import load
from .._ffi import ffi
from .._loader import library
from ..errors import ArgumentError

_K = load().constants


_CONFIG_FIELDS = {
    "buffer_size": "hcclBufferSize", "deterministic": "hcclDeterministic", "name": "hcclCommName",
    "udi": "hcclUdi", "op_expansion_mode": "hcclOpExpansionMode", "rdma_traffic_class": "hcclRdmaTrafficClass",
    "rdma_service_level": "hcclRdmaServiceLevel", "world_rank_id": "hcclWorldRankID", "job_id": "hcclJobID",
    "graph_zero_copy": "aclGraphZeroCopyEnable", "exec_timeout": "hcclExecTimeOut", "algo": "hcclAlgo",
    "retry_enable": "hcclRetryEnable", "retry_params": "hcclRetryParams", "buffer_name": "hcclBufferName",
    "qos": "hcclQos", "sym_win_max_mem_size_per_rank": "hcclSymWinMaxMemSizePerRank",
}


def comm_config_init(**fields: Any) -> Any:
    """A new ``HcclCommConfig *`` filled exactly as the header's inline ``HcclCommConfigInit``.

    Keyword arguments then set fields, by C name (``hcclCommName="tp"``) or by
    the short names ``name``, ``exec_timeout``, ``deterministic``,
    ``buffer_size``, ... (strings are encoded as UTF-8 and must leave room
    for the NUL). The memory lives as long as the returned object.
    """
    config = ffi.new("HcclCommConfig *")  # zero-filled, padding included (as the memset)
    header = struct.pack("<QIIQ", ffi.sizeof("HcclCommConfig"), _K["HCCL_COMM_CONFIG_MAGIC_WORD"],
                         _K["HCCL_COMM_CONFIG_VERSION"], 0)
    ffi.memmove(config.reserved, header, len(header))
    config.hcclBufferSize = _K["HCCL_COMM_BUFFSIZE_CONFIG_NOT_SET"]
    config.hcclDeterministic = _K["HCCL_COMM_DETERMINISTIC_CONFIG_NOT_SET"]
    config.hcclOpExpansionMode = _K["HCCL_COMM_DEFAULT_OP_EXPANSION_MODE"]
    config.hcclRdmaTrafficClass = _K["HCCL_COMM_TRAFFIC_CLASS_CONFIG_NOT_SET"]
    config.hcclRdmaServiceLevel = _K["HCCL_COMM_SERVICE_LEVEL_CONFIG_NOT_SET"]
    config.hcclWorldRankID = 0
    config.hcclJobID = 0
    config.aclGraphZeroCopyEnable = 0
    config.hcclExecTimeOut = _K["HCCL_COMM_EXECTIMEOUT_CONFIG_NOT_SET"]
    config.hcclQos = _K["HCCL_COMM_QOS_CONFIG_NOT_SET"]
    config.hcclSymWinMaxMemSizePerRank = _K["HCCL_DEFAULT_SYMMETRIC_MEMORY_STRIDE"]
    for key, value in fields.items():
        attr = _CONFIG_FIELDS.get(key, key)
        if attr not in _CONFIG_FIELDS.values():
            raise TypeError(f"comm_config_init: unknown HcclCommConfig field {key!r}")
        if isinstance(value, (str, bytes)):
            data = arguments.c_string(value, key)
            size = ffi.sizeof(getattr(config, attr))
            if len(data) >= size:
                raise ArgumentError(key, f"{len(data)} bytes do not fit in {attr} (char[{size}]) with the NUL")
            value = data
        try:
            setattr(config, attr, value)
        except OverflowError:
            raise ArgumentError(key, f"{value!r} is out of range for {attr}") from None
    return config


def as_config(config: Any) -> Any:
    """A constructor's ``config``: None, a :func:`comm_config_init` result, or a dict of its keywords."""
    if config is None:
        return None
    if isinstance(config, dict):
        return comm_config_init(**config)
    return config


def config_capability() -> int:
    """``HcclGetCommConfigCapability``: capability k is supported iff the result is > k."""
    return int(library().HcclGetCommConfigCapability())
