"""The C heap is not handed back to the kernel between batches (`ucsiem.heap`): counted in page faults."""

from __future__ import annotations

import json
import subprocess
import sys

from ucsiem.heap import TOP_PAD_BYTES, keep_heap_top

# What a batch does to the heap: objects over pymalloc's limit (documents, dicts' tables), freed together.
_BATCHES = """
import json, resource, sys
if sys.argv[1] == "kept":
    from ucsiem.heap import keep_heap_top
    assert keep_heap_top()
def batch():
    docs = [bytes(1200) for _ in range(1500)]  # ~1.8 MB through malloc, like 512 documents and their dicts
    del docs
batch()  # the heap's first growth is paid either way
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    batch()
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before))
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _BATCHES, mode], capture_output=True, text=True, check=True)
    return int(json.loads(done.stdout))


def test_the_heap_top_is_kept_so_batches_reuse_their_pages() -> None:
    trimmed, kept = _faults("trimmed"), _faults("kept")
    # glibc's default trims the freed top after every batch: each one faults its pages in again (~440 a batch)
    assert trimmed > 200 * 100, trimmed
    assert kept < 200, kept  # the same pages serve every batch


def test_keeping_the_heap_top_is_accepted_by_this_c_library() -> None:
    assert keep_heap_top(TOP_PAD_BYTES) is True  # Debian's glibc: the production platform
