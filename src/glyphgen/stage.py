"""What every stage script shares: a one-line error instead of a traceback, and its timing record."""

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
    """By default glibc maps each large block fresh and the kernel zero-fills every page: judging spent more
    time in those page faults than in the convolutions."""
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
    stage = os.environ.get("DVC_STAGE")
    if stage:
        cpu = os.times()
        record_timing(StageTiming(stage, time.time() - psutil.Process().create_time(), cpu.user, cpu.system,
                                  time.time(), dict(figures)))
