"""What every stage script shares: one-line errors and a non-zero exit instead of a traceback for bad input,
and where a stage records how long it took."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from glyphgen.errors import GlyphgenError
from glyphgen.io import write_json

# Not a DVC output and git-ignored: timing differs between identical runs, so inside a cached output it would
# give the same inputs new output hashes (and re-run everything downstream).
TIMINGS_DIR = Path("timings")


def run_stage(main: Callable[[], None]) -> None:
    try:
        main()
    except GlyphgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


def record_timing(stage: str, **figures: float) -> None:
    """Write a stage's timing figures (seconds, throughput) to timings/<stage>.json, e.g.
    timings/train@kmnist-vae.json: {"stage": "train@kmnist-vae", "train_seconds": 41.2, ...}."""
    write_json(TIMINGS_DIR / f"{stage}.json", {"stage": stage, **figures})
