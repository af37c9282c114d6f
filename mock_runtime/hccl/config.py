"""How a mock communicator is configured: HCCL_CONNECT_TIMEOUT, HCCL_EXEC_TIMEOUT,
ACLNN_MOCK_HCCL_HANDSHAKE_TIMEOUT and the checked fields of an HcclCommConfig (its header, name
and version-10 fields)."""
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
#: HcclGetCommConfigCapability: fields 0..8 (up to hcclExecTimeOut) are read.
CAPABILITY = 9


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


def parse_config(header: bytes, name: bytes, tail: dict | None, what: str) -> Config:
    """Check an HcclCommConfig: ``header`` = its first 24 bytes, ``tail`` = v10 fields or None."""
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
        if det not in (0, 1, 0xFFFFFFFF):
            raise fail("HCCL_E_PARA", f"{what}: hcclDeterministic must be 0, 1 or not set, got {det}")
        buf = tail["hcclBufferSize"]
        if buf != 0xFFFFFFFF and buf < 1:
            raise fail("HCCL_E_PARA", f"{what}: hcclBufferSize must be >= 1 MB, got {buf}")
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
