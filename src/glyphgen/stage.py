"""What every stage script shares: one-line errors and a non-zero exit instead of a traceback for bad input."""

from __future__ import annotations

import sys
from typing import Callable

from glyphgen.errors import GlyphgenError


def run_stage(main: Callable[[], None]) -> None:
    try:
        main()
    except GlyphgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
