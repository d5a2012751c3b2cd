"""benchmarks/quality_vs_time.py keeps its CSV and report in the project's model order."""

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from quality_vs_time import in_canonical_order  # noqa: E402


def test_a_model_measured_again_keeps_its_place():
    # As merge_results leaves it after `--models ae`: the re-measured ae rows appended after vae's.
    rows = [("glyphs", "vae", "default", 30), ("kmnist", "vae", "reference", 60), ("kmnist", "vae", "default", 60),
            ("kmnist", "vae", "default", 30), ("kmnist", "ae", "default", 30), ("glyphs", "ae", "default", 30)]
    table = pd.DataFrame(rows, columns=["dataset", "model", "preset", "seconds"])
    ordered = in_canonical_order(table)
    assert list(ordered.itertuples(index=False, name=None)) == [
        ("kmnist", "ae", "default", 30), ("kmnist", "vae", "default", 30), ("kmnist", "vae", "default", 60),
        ("kmnist", "vae", "reference", 60), ("glyphs", "ae", "default", 30), ("glyphs", "vae", "default", 30)]
