"""Device memory of the mock: NumPy byte arrays behind fake device addresses.

Device addresses live in a range of their own (one terabyte per device,
never reused), so the mock can tell a device pointer from a host pointer, a
pointer outside every allocation, and a pointer into freed memory. Host
memory from aclrtMallocHost is real memory a C program can write to.

Each device has :data:`DEVICE_MEMORY` bytes (64 GiB, a mock choice: the HBM
of an Atlas A2/A3 device is 32 or 64 GB by model): an allocation that does
not fit in what the live allocations leave fails with 207001
(ACL_ERROR_RT_MEMORY_ALLOCATION), and aclrtGetMemInfo reports total =
DEVICE_MEMORY, free = DEVICE_MEMORY minus the bytes of the device's live
allocations (their requested sizes).
"""
from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

import cffi
import numpy as np

from .errors import C, MockError

_ffi = cffi.FFI()

DEVICE_BASE = 1 << 52
DEVICE_SPAN = 1 << 40
ALIGN = 512
DEVICE_MEMORY = 64 << 30


@dataclass
class Allocation:
    base: int
    size: int
    device: int
    data: np.ndarray  # uint8, the bytes
    live: bool = True

    @property
    def end(self) -> int:
        return self.base + self.size


class MemoryTable:
    """Every device allocation of the process, live and freed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bases: list[int] = []
        self._allocs: list[Allocation] = []
        self._next: dict[int, int] = {}
        self._used: dict[int, int] = {}  # device -> bytes of its live allocations
        self._host: dict[int, np.ndarray] = {}

    # -- device memory -------------------------------------------------------
    def allocate(self, device: int, size: int) -> Allocation:
        with self._lock:
            used = self._used.get(device, 0)
            if size > DEVICE_MEMORY - used:
                raise MockError(
                    C["ACL_ERROR_RT_MEMORY_ALLOCATION"],
                    f"aclrtMalloc: {size} bytes do not fit on device {device}: "
                    f"{DEVICE_MEMORY - used} of its {DEVICE_MEMORY} bytes are free",
                )
            base = self._next.get(device, DEVICE_BASE + device * DEVICE_SPAN + ALIGN)
            if base + size > DEVICE_BASE + (device + 1) * DEVICE_SPAN:
                raise MockError(C["ACL_ERROR_RT_MEMORY_ALLOCATION"], f"device {device} address space exhausted")
            self._next[device] = base + -(-size // ALIGN) * ALIGN + ALIGN
            alloc = Allocation(base, size, device, np.empty(size, np.uint8))
            self._used[device] = used + size
            i = bisect.bisect(self._bases, base)
            self._bases.insert(i, base)
            self._allocs.insert(i, alloc)
            return alloc

    def free(self, address: int) -> Allocation:
        with self._lock:
            alloc = self._find(address)
            if alloc is None or alloc.base != address:
                raise MockError(C["ACL_ERROR_RT_MEMORY_FREE"], f"aclrtFree: {address:#x} is not the start of a device allocation")
            if not alloc.live:
                raise MockError(C["ACL_ERROR_RT_MEMORY_FREE"], f"aclrtFree: double free of {address:#x} ({alloc.size} bytes on device {alloc.device})")
            alloc.live = False
            alloc.data = np.empty(0, np.uint8)
            self._used[alloc.device] -= alloc.size
            return alloc

    def used(self, device: int) -> int:
        """Bytes of the live allocations on ``device``."""
        with self._lock:
            return self._used.get(device, 0)

    def live(self) -> list[Allocation]:
        with self._lock:
            return [a for a in self._allocs if a.live]

    def _find(self, address: int) -> Allocation | None:
        i = bisect.bisect_right(self._bases, address) - 1
        if i >= 0 and address < self._allocs[i].end:
            return self._allocs[i]
        return None

    @staticmethod
    def is_device_address(address: int) -> bool:
        return address >= DEVICE_BASE

    def region(self, address: int, nbytes: int, what: str) -> np.ndarray:
        """The bytes [address, address + nbytes) of one live allocation, as a view."""
        with self._lock:
            alloc = self._find(address)
        if alloc is None:
            raise MockError(C["ACL_ERROR_RT_PARAM_INVALID"], f"{what}: {address:#x} is not inside any device allocation")
        if not alloc.live:
            raise MockError(C["ACL_ERROR_RT_PARAM_INVALID"], f"{what}: use after free: {address:#x} is in an allocation of {alloc.size} bytes that was freed")
        start = address - alloc.base
        if nbytes < 0 or start + nbytes > alloc.size:
            raise MockError(
                C["ACL_ERROR_RT_PARAM_INVALID"],
                f"{what}: bytes [{start}, {start + nbytes}) are outside the allocation of {alloc.size} bytes at {alloc.base:#x}",
            )
        return alloc.data[start : start + nbytes]

    # -- host memory ---------------------------------------------------------
    def allocate_host(self, size: int) -> int:
        buf = np.empty(size + 64, np.uint8)
        address = (buf.ctypes.data + 63) // 64 * 64
        with self._lock:
            self._host[address] = buf
        return address

    def free_host(self, address: int) -> None:
        with self._lock:
            if self._host.pop(address, None) is None:
                raise MockError(C["ACL_ERROR_RT_MEMORY_FREE"], f"aclrtFreeHost: {address:#x} was not returned by aclrtMallocHost (or was freed already)")

    def clear(self) -> None:
        with self._lock:
            for a in self._allocs:
                a.live, a.data = False, np.empty(0, np.uint8)
            self._used.clear()


def host_bytes(address: int, nbytes: int) -> np.ndarray:
    """A uint8 view of host memory owned by the caller."""
    if address == 0:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], "host pointer is NULL")
    return np.frombuffer(_ffi.buffer(_ffi.cast("char *", address), nbytes), np.uint8)


table = MemoryTable()
