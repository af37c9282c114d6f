"""How a mock communicator is configured: HCCL_CONNECT_TIMEOUT, HCCL_EXEC_TIMEOUT,
ACLNN_MOCK_HCCL_HANDSHAKE_TIMEOUT and the checked fields of an HcclCommConfig (its header, name
and version-10 fields), and what HcclGetCommConfigCapability reports.

Every field CANN documents up to ``hcclSymWinMaxMemSizePerRank`` is accepted with CANN's checks
(hcomm ``src/legacy/ascend910/framework/communicator/comm_config.cc``, ``CommConfig::Load``;
``src/coll_communicator_mgr/config_mgr/coll_comm_config.cc`` for the traffic class, service level
and QoS ranges): hcclBufferSize >= 1 MB, hcclDeterministic 0, 1 or 2 (2, strict, on Atlas A2
only), aclGraphZeroCopyEnable 0 or 1, hcclRdmaTrafficClass <= 255 and a multiple of 4,
hcclRdmaServiceLevel and hcclQos <= 7 (each also "not set", 0xffffffff), the strings
NUL-terminated within their arrays. The name and hcclExecTimeOut take effect; the mock is always
deterministic and has nothing to act on for the others (the hcclAlgo and retry strings are not
parsed)."""
from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass

from mock_runtime.core.errors import C
from mock_runtime.hccl.names import fail

COMM_NAME_MAX = C["COMM_NAME_MAX_LENGTH"]
DEFAULT_CONNECT_TIMEOUT = 120.0
DEFAULT_EXEC_TIMEOUT = 120.0
DEFAULT_HANDSHAKE_TIMEOUT = 10.0
_NOT_SET = 0xFFFFFFFF


def capability(profile: str) -> int:
    """HcclGetCommConfigCapability as CANN answers it (hcomm op_base.cc, HcclGetCommConfigCapability):
    HCCL_COMM_CONFIG_RESERVED (every capability before it) on Atlas A2/A3; on Ascend 950 the
    V2 implementation's HCCL_COMM_CONFIG_RETRY (op_base_v2.cc, HcclGetCommConfigCapabilityV2)."""
    return C["HCCL_COMM_CONFIG_RETRY"] if profile == "950" else C["HCCL_COMM_CONFIG_RESERVED"]


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise fail("HCCL_E_PARA", f"{name}={raw!r} must be a positive number of seconds")
    return value


def connect_timeout() -> float:
    return _env_seconds("HCCL_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)


def exec_timeout() -> float:
    return _env_seconds("HCCL_EXEC_TIMEOUT", DEFAULT_EXEC_TIMEOUT)


def handshake_timeout() -> float:
    """Seconds a connection to a hub's listener has, from its accept, to deliver its whole join
    request (the mock's own variable; a rank sends it at once, so only a stalling peer meets it)."""
    return _env_seconds("ACLNN_MOCK_HCCL_HANDSHAKE_TIMEOUT", DEFAULT_HANDSHAKE_TIMEOUT)


@dataclass
class Config:
    """What an HcclCommConfig asks of the mock: a communicator name and an exec timeout."""

    name: str = ""
    exec_timeout: float | None = None


def config_header(header: bytes, what: str) -> tuple[int, int]:
    """Check the 24-byte header of an HcclCommConfig; (size, version). Read nothing else before this."""
    size, magic, version, _ = struct.unpack("<QIIQ", header)
    if magic != C["HCCL_COMM_CONFIG_MAGIC_WORD"]:
        raise fail("HCCL_E_PARA", f"{what}: config magic word is {magic:#x}, expected {C['HCCL_COMM_CONFIG_MAGIC_WORD']:#x}: initialise the config with HcclCommConfigInit")
    if size < 160 or version < 1:
        raise fail("HCCL_E_PARA", f"{what}: config header says size {size} / version {version}: not an HcclCommConfig (HcclCommConfigInit writes size 2240, version {C['HCCL_COMM_CONFIG_VERSION']})")
    return size, version


def parse_config(header: bytes, name: bytes, tail: dict | None, what: str, profile: str = "A2") -> Config:
    """Check an HcclCommConfig: ``header`` = its first 24 bytes, ``tail`` = v10 fields (and
    ``strings``: the bytes of its char arrays) or None; ``profile``: the runtime's product."""
    size, version = config_header(header, what)
    raw = name.split(b"\0", 1)[0]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("HCCL_E_PARA", f"{what}: hcclCommName is not UTF-8 text") from None
    if len(raw) >= COMM_NAME_MAX:
        raise fail("HCCL_E_PARA", f"{what}: hcclCommName is not NUL-terminated within {COMM_NAME_MAX} bytes")
    config = Config(name=text)
    if tail is not None and version >= 10 and size >= 2240:
        det = tail["hcclDeterministic"]
        if det not in (0, 1, 2, _NOT_SET):
            raise fail("HCCL_E_PARA", f"{what}: hcclDeterministic must be 0, 1, 2 (strict) or not set, got {det}")
        if det == 2 and profile != "A2":
            raise fail("HCCL_E_PARA", f"{what}: hcclDeterministic 2 (strict) is for Atlas A2 only")
        buf = tail["hcclBufferSize"]
        if buf != _NOT_SET and buf < 1:
            raise fail("HCCL_E_PARA", f"{what}: hcclBufferSize must be >= 1 MB, got {buf}")
        if tail["aclGraphZeroCopyEnable"] > 1:
            raise fail("HCCL_E_PARA", f"{what}: aclGraphZeroCopyEnable must be 0 or 1, got {tail['aclGraphZeroCopyEnable']}")
        tc = tail["hcclRdmaTrafficClass"]
        if tc != _NOT_SET and (tc > 255 or tc % 4):
            raise fail("HCCL_E_PARA", f"{what}: hcclRdmaTrafficClass must be not set or in [0, 255] and a multiple of 4, got {tc}")
        for field in ("hcclRdmaServiceLevel", "hcclQos"):
            if tail[field] != _NOT_SET and tail[field] > 7:
                raise fail("HCCL_E_PARA", f"{what}: {field} must be not set or in [0, 7], got {tail[field]}")
        for field, raw in tail["strings"].items():
            if 0 not in raw:
                raise fail("HCCL_E_PARA", f"{what}: {field} is not NUL-terminated within its {len(raw)} bytes")
        timeout = tail["hcclExecTimeOut"]
        if timeout != -1:
            if timeout <= 0:
                raise fail("HCCL_E_PARA", f"{what}: hcclExecTimeOut must be -1 (not set) or > 0 seconds, got {timeout}")
            config.exec_timeout = float(timeout)
    return config


def check_name(name: str, what: str) -> None:
    """A communicator name must fit hcclCommName with its NUL."""
    if len(name.encode()) >= COMM_NAME_MAX:
        raise fail("HCCL_E_PARA", f"{what}: communicator name {name!r} is longer than {COMM_NAME_MAX - 1} bytes")
