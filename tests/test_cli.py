import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from glyphgen.cli import main
from glyphgen.data.fonts import matplotlib_font_hashes
from glyphgen.training.checkpoint import save_checkpoint
from tiny_models import tiny_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def model_dir(tmp_path):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "vae" / "model.pt", tiny_model("vae"))
    return tmp_path / "vae"


def test_sample_writes_seeded_uint8_arrays(model_dir, tmp_path):
    for name in ("a.npy", "b.npy", "c.npy"):
        seed = "2" if name == "c.npy" else "1"
        assert main(["sample", str(model_dir), "-n", "5", "-o", str(tmp_path / name), "--seed", seed]) == 0
    first, again, other = (np.load(tmp_path / name) for name in ("a.npy", "b.npy", "c.npy"))
    assert first.dtype == np.uint8 and first.shape == (5, 28, 28)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_sample_writes_a_png_grid_from_the_command_line(model_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "glyphgen", "sample", str(model_dir / "model.pt"), "-n", "4", "-o",
         str(tmp_path / "grid.png"), "--device", "cpu"],
        capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "grid.png").size == (2 * (2 * 30 + 2), 2 * (2 * 30 + 2))


def test_sample_errors_are_one_line(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "missing"), "-n", "2", "-o", str(tmp_path / "x.npy")]) == 1
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing'}: checkpoint not found"


def test_record_fonts_writes_the_record_render_glyphs_depends_on(tmp_path):
    assert main(["record-fonts", "-o", str(tmp_path / "fonts.json")]) == 0
    assert json.loads((tmp_path / "fonts.json").read_text()) == matplotlib_font_hashes()
