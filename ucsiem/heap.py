"""The C heap kept from shrinking after every batch.

A batch's documents, event dicts and result buffers are objects over pymalloc's 512 bytes: they come from
glibc's `malloc` and are freed together when the batch is done. glibc then gives the free top of its heap back
to the kernel (it trims anything over 128 KiB), and the next batch grows it again, page by page: about 1.8
minor page faults a line in a parse worker (5-7 % of its CPU time on Expressway lines, all of it in the
kernel). `M_TOP_PAD` makes glibc keep that much free memory at the top of the heap when it trims
and add it when it grows, so the same pages serve batch after batch. The peak RSS does not change (the pages
were touched at the peak anyway); what the heap keeps between batches is at most `TOP_PAD_BYTES`.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("ucsiem.heap")

M_TOP_PAD = -2  # glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
TOP_PAD_BYTES = 4 << 20  # above what one batch frees: 512 Expressway lines are about 2 MiB through malloc
# Setting any threshold ends glibc's own raising of this one (from 128 KiB up to what was last freed): without
# it, every 256 KiB read buffer and batch result would be a fresh mmap, faulted in page by page.
MMAP_THRESHOLD_BYTES = 4 << 20


def keep_heap_top(pad: int = TOP_PAD_BYTES, mmap_threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Ask the C library to keep `pad` bytes at the top of the heap and to serve blocks under `mmap_threshold`
    from it (glibc's `mallopt`); False where the C library has no such settings (musl, macOS): the agent works
    the same, with more page faults."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already has loaded
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if mallopt(M_MMAP_THRESHOLD, mmap_threshold) != 1 or mallopt(M_TOP_PAD, pad) != 1:
        log.debug("mallopt refused M_MMAP_THRESHOLD or M_TOP_PAD; the heap is trimmed after every batch.")
        return False
    return True
