"""Device memory of the mock: NumPy byte arrays behind fake device addresses.

Device addresses live in a range of their own, one terabyte per device
(``DEVICE_SPAN``, the largest aclrtMalloc a device grants), so the mock can
tell a device pointer from a host pointer and from a pointer outside every
allocation. Allocations are placed first-fit and separated by an unmapped
guard of ``ALIGN`` bytes, so an overrun lands outside every allocation.

Freed memory and reuse
----------------------
A freed allocation drops its bytes at once but keeps its address range in a
*quarantine* (the last ``QUARANTINE_COUNT`` frees, at most
``QUARANTINE_BYTES`` of address space): an access there is reported as a use
after free, a second aclrtFree as a double free. Older ranges go back to the
device's free address space and are reused, so a program may allocate and
free forever while the bookkeeping stays bounded. Work queued before a free
also holds the :class:`Allocation` object it was checked against; an
allocation is never revived, so a later one at the same address is told apart
(see :mod:`mock_runtime.core.tensor_io`).

aclrtMalloc fails with ACL_ERROR_RT_MEMORY_ALLOCATION (207001) and a message
when the size exceeds the device's span, when the host cannot back the bytes
(NumPy refuses the array), or when the device's address space is full.

Each device has :data:`DEVICE_MEMORY` bytes (64 GiB, a mock choice: the HBM
of an Atlas A2/A3 device is 32 or 64 GB by model): an allocation that does
not fit in what the live allocations leave fails with 207001 as well, and
aclrtGetMemInfo reports total = DEVICE_MEMORY, free = DEVICE_MEMORY minus the
bytes of the device's live allocations (their requested sizes).

New device memory reads as zeros (what CANN's HCCL samples print for a receive buffer no call
wrote). Host memory from aclrtMallocHost is real memory a C program can write to.
"""
from __future__ import annotations

import bisect
import mmap
import threading
from collections import deque
from dataclasses import dataclass

import cffi
import numpy as np

from mock_runtime.core.errors import C, MockError

_ffi = cffi.FFI()

DEVICE_BASE = 1 << 52
DEVICE_SPAN = 1 << 40
MAX_DEVICES = 1024
ALIGN = 512
QUARANTINE_COUNT = 1024
QUARANTINE_BYTES = 64 << 30
DEVICE_MEMORY = 64 << 30

_ALLOCATION = C["ACL_ERROR_RT_MEMORY_ALLOCATION"]
_FREE = C["ACL_ERROR_RT_MEMORY_FREE"]


@dataclass(eq=False)
class Allocation:
    """One aclrtMalloc. Identity matters: a later allocation at the same address is another object."""

    base: int
    size: int
    device: int
    data: np.ndarray  # uint8, the bytes
    live: bool = True

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def reserved(self) -> int:
        """Address space held: the size rounded up to ALIGN plus the guard after it."""
        return -(-self.size // ALIGN) * ALIGN + ALIGN

    def __repr__(self) -> str:
        state = "live" if self.live else "freed"
        return f"<{state} allocation of {self.size} bytes at {self.base:#x} on device {self.device}>"


class _AddressSpace:
    """The free address ranges of one device, sorted and coalesced; first fit."""

    def __init__(self, low: int, high: int) -> None:
        self._starts = [low]
        self._ends = {low: high}

    def take(self, size: int) -> int | None:
        for i, start in enumerate(self._starts):
            end = self._ends[start]
            if end - start >= size:
                del self._ends[start]
                if end - start == size:
                    del self._starts[i]
                else:
                    self._starts[i] = start + size
                    self._ends[start + size] = end
                return start
        return None

    def give(self, start: int, end: int) -> None:
        i = bisect.bisect(self._starts, start)
        if i < len(self._starts) and self._starts[i] == end:  # merge with the next range
            end = self._ends.pop(self._starts.pop(i))
        if i and self._ends[self._starts[i - 1]] == start:  # merge with the previous one
            self._ends[self._starts[i - 1]] = end
            return
        self._starts.insert(i, start)
        self._ends[start] = end


#: From this size on, device memory is a private anonymous mapping of its own.
_MAPPED = 1 << 20


def _zeroed(size: int) -> np.ndarray:
    """``size`` bytes reading as zeros. Large ones are mapped from the kernel, whose pages are zero
    until written and go back to it when freed: NumPy's calloc would zero memory the C heap
    recycles byte by byte (a 16 MiB allocation freed and taken again cost ~0.4 ms each time)."""
    if size < _MAPPED:
        return np.zeros(size, np.uint8)
    return np.frombuffer(mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS), np.uint8)


class MemoryTable:
    """Live and quarantined device allocations of the process, plus host allocations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bases: list[int] = []
        self._allocs: dict[int, Allocation] = {}
        self._spaces: dict[int, _AddressSpace] = {}
        self._quarantine: deque[Allocation] = deque()
        self._quarantined_bytes = 0
        self._used: dict[int, int] = {}  # device -> bytes of its live allocations
        self._host: dict[int, np.ndarray] = {}

    # -- device memory -------------------------------------------------------
    def allocate(self, device: int, size: int) -> Allocation:
        """aclrtMalloc: ``size`` bytes on ``device`` (207001 with a message when impossible)."""
        what = f"aclrtMalloc: size {size} bytes on device {device}"
        if size > DEVICE_SPAN - 2 * ALIGN:
            raise MockError(_ALLOCATION, f"{what}: more than the device's {DEVICE_SPAN} bytes of address space")
        self._check_fits(device, size, self.used(device))
        try:
            data = _zeroed(size)  # never garbage: fresh device memory reads as zeros
        except (MemoryError, ValueError, OverflowError, OSError):  # OSError: no mapping to be had
            raise MockError(_ALLOCATION, f"{what}: the host cannot back that much memory for the mock") from None
        alloc = Allocation(0, size, device, data)
        with self._lock:
            space = self._spaces.get(device)
            if space is None:
                low = DEVICE_BASE + device * DEVICE_SPAN
                space = self._spaces[device] = _AddressSpace(low + ALIGN, low + DEVICE_SPAN)
            base = space.take(alloc.reserved)
            while base is None and self._evict_one(device):
                base = space.take(alloc.reserved)
            if base is None:
                held = sum(a.size for a in self._allocs.values() if a.device == device and a.live)
                raise MockError(_ALLOCATION, f"{what}: the device's address space is exhausted "
                                             f"({held} bytes are allocated and not freed)")
            used = self._used.get(device, 0)
            try:
                self._check_fits(device, size, used)  # again: another thread may have taken the room
            except MockError:
                space.give(base, base + alloc.reserved)
                raise
            self._used[device] = used + size
            alloc.base = base
            bisect.insort(self._bases, base)
            self._allocs[base] = alloc
            return alloc

    @staticmethod
    def _check_fits(device: int, size: int, used: int) -> None:
        if size > DEVICE_MEMORY - used:
            raise MockError(_ALLOCATION, f"aclrtMalloc: size {size} bytes do not fit on device {device}: "
                                         f"{DEVICE_MEMORY - used} of its {DEVICE_MEMORY} bytes are free")

    def free(self, address: int) -> Allocation:
        """aclrtFree: quarantine the allocation that starts at ``address``."""
        with self._lock:
            alloc = self._allocs.get(address)
            if alloc is None:
                inside = self._find(address)
                where = f" (it is inside {inside})" if inside is not None else ""
                raise MockError(_FREE, f"aclrtFree: {address:#x} is not the start of a device allocation{where}")
            if not alloc.live:
                raise MockError(_FREE, f"aclrtFree: double free of {address:#x} ({alloc.size} bytes on device {alloc.device})")
            alloc.live = False
            alloc.data = np.empty(0, np.uint8)
            self._used[alloc.device] -= alloc.size
            self._quarantine.append(alloc)
            self._quarantined_bytes += alloc.reserved
            while len(self._quarantine) > QUARANTINE_COUNT or self._quarantined_bytes > QUARANTINE_BYTES:
                self._evict(self._quarantine.popleft())
            return alloc

    def _evict(self, alloc: Allocation) -> None:
        """Return a quarantined range to its device's free address space."""
        self._quarantined_bytes -= alloc.reserved
        del self._allocs[alloc.base]
        del self._bases[bisect.bisect_left(self._bases, alloc.base)]
        self._spaces[alloc.device].give(alloc.base, alloc.base + alloc.reserved)

    def _evict_one(self, device: int) -> bool:
        """Release the oldest quarantined range of ``device`` early (its space is needed)."""
        for alloc in self._quarantine:
            if alloc.device == device:
                self._quarantine.remove(alloc)
                self._evict(alloc)
                return True
        return False

    def used(self, device: int) -> int:
        """Bytes of the live allocations on ``device``."""
        with self._lock:
            return self._used.get(device, 0)

    def live(self) -> list[Allocation]:
        with self._lock:
            return [a for a in self._allocs.values() if a.live]

    def bookkeeping(self) -> int:
        """Allocations the table holds (live and quarantined): bounded by live + QUARANTINE_COUNT."""
        with self._lock:
            return len(self._allocs)

    def _find(self, address: int) -> Allocation | None:
        i = bisect.bisect_right(self._bases, address) - 1
        if i >= 0:
            alloc = self._allocs[self._bases[i]]
            if address < alloc.end:
                return alloc
        return None

    def find(self, address: int) -> Allocation | None:
        """The live or quarantined allocation holding ``address``."""
        with self._lock:
            return self._find(address)

    @staticmethod
    def is_device_address(address: int) -> bool:
        return DEVICE_BASE <= address < DEVICE_BASE + MAX_DEVICES * DEVICE_SPAN

    def locate(self, address: int, nbytes: int, what: str, code: int | None = None) -> tuple[Allocation, int]:
        """``(allocation, start)`` for the bytes [address, address + nbytes), which must lie in one
        live allocation; ``code`` (default ACL_ERROR_RT_PARAM_INVALID) otherwise."""
        code = C["ACL_ERROR_RT_PARAM_INVALID"] if code is None else code
        with self._lock:
            alloc = self._find(address)
        if alloc is None:
            hint = "" if not self.is_device_address(address) else \
                " (not allocated, or freed long enough ago that its range was reused)"
            raise MockError(code, f"{what}: {address:#x} is not inside any device allocation{hint}")
        if not alloc.live:
            raise MockError(code, f"{what}: use after free: {address:#x} is in an allocation of {alloc.size} bytes that was freed")
        start = address - alloc.base
        if nbytes < 0 or start + nbytes > alloc.size:
            raise MockError(code, f"{what}: bytes [{start}, {start + nbytes}) are outside the allocation of "
                                  f"{alloc.size} bytes at {alloc.base:#x}")
        return alloc, start

    def view(self, alloc: Allocation, start: int, nbytes: int, what: str, code: int | None = None) -> np.ndarray:
        """The bytes [start, start + nbytes) of ``alloc``, which must still be live."""
        with self._lock:
            if alloc.live:
                return alloc.data[start : start + nbytes]
        code = C["ACL_ERROR_RT_PARAM_INVALID"] if code is None else code
        raise MockError(code, f"{what}: use after free: the allocation of {alloc.size} bytes at {alloc.base:#x} "
                              f"was freed after the work was queued")

    def region(self, address: int, nbytes: int, what: str) -> np.ndarray:
        """The bytes [address, address + nbytes) of one live allocation, as a view."""
        alloc, start = self.locate(address, nbytes, what)
        return self.view(alloc, start, nbytes, what)

    # -- host memory ---------------------------------------------------------
    def allocate_host(self, size: int) -> int:
        try:
            buf = np.empty(size + 64, np.uint8)
        except (MemoryError, ValueError, OverflowError):
            raise MockError(_ALLOCATION, f"aclrtMallocHost: the host cannot give {size} bytes") from None
        address = (buf.ctypes.data + 63) // 64 * 64
        with self._lock:
            self._host[address] = buf
        return address

    def free_host(self, address: int) -> None:
        with self._lock:
            if self._host.pop(address, None) is None:
                raise MockError(C["ACL_ERROR_RT_MEMORY_FREE"], f"aclrtFreeHost: {address:#x} was not returned by aclrtMallocHost (or was freed already)")


def host_bytes(address: int, nbytes: int) -> np.ndarray:
    """A uint8 view of host memory owned by the caller."""
    if address == 0:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], "host pointer is NULL")
    return np.frombuffer(_ffi.buffer(_ffi.cast("char *", address), nbytes), np.uint8)


table = MemoryTable()
