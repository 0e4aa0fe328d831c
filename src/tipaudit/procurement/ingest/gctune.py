"""Garbage-collector tuning for the bulk phases of ingest and flattening.

Parsing and merging allocate millions of short-lived containers (every JSON object and array).
With the default thresholds the cyclic collector runs every 700 allocations and, every few
hundred of those runs, walks every long-lived object of the process (the classifier's indexes,
country names, caches): about 15 % of a run's time. Parsed JSON holds no reference cycles
(reference counting frees it), so collecting rarely loses nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["relaxed_gc"]

# A collection every 100,000 net allocations instead of 700; older generations scale with it.
_RELAXED_THRESHOLD = 100_000


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Collect garbage rarely inside the block; the previous thresholds come back after it."""
    previous = gc.get_threshold()
    if previous[0] == 0 or previous[0] >= _RELAXED_THRESHOLD:  # disabled or already relaxed
        yield
        return
    gc.set_threshold(_RELAXED_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
