"""What every stage script shares: one-line errors and a non-zero exit instead of a traceback for bad input, the
stage's own wall time (and any figures its `main` returns, e.g. the training loop's seconds) for
`python -m glyphgen timings`, and a memory allocator that keeps freed memory."""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import Callable, Mapping

import psutil

from glyphgen.errors import GlyphgenError
from glyphgen.timings import StageTiming, record_timing


def keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed memory instead of handing every large block back to the kernel.

    By default a block over 32 MiB (a batch of activations at 64 px, a distance matrix) is mapped fresh on
    every allocation and unmapped when freed, and the kernel zero-fills each new page: judging 2,000 glyphs
    spent more time in those page faults (system time) than in the convolutions. No-op outside glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # mallopt parameters from <malloc.h>
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, 1 << 30)


def run_stage(main: Callable[[], Mapping[str, float] | None]) -> None:
    keep_freed_memory()
    try:
        figures = main() or {}
    except GlyphgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    stage = os.environ.get("DVC_STAGE")  # set by DVC for each command it runs
    if stage:
        cpu = os.times()
        record_timing(StageTiming(stage, time.time() - psutil.Process().create_time(), cpu.user, cpu.system,
                                  time.time(), dict(figures)))
