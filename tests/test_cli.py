import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from glyphgen import cli
from glyphgen.cli import main
from glyphgen.data.fonts import matplotlib_font_hashes
from glyphgen.errors import GlyphgenError
from glyphgen.grids import to_uint8
from glyphgen.training.checkpoint import load_generator, save_checkpoint
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


def test_a_long_npy_is_written_in_chunks_drawn_from_one_seeded_stream(model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "CHUNK", 3)  # 7 samples: chunks of 3, 3 and 1
    assert main(["sample", str(model_dir), "-n", "7", "-o", str(tmp_path / "long.npy"), "--seed", "4"]) == 0
    written = np.load(tmp_path / "long.npy", mmap_mode="r")
    assert written.dtype == np.uint8 and written.shape == (7, 28, 28)
    model = load_generator(model_dir)
    assert np.array_equal(written[:3], to_uint8(model.draw(3, seed=4)))  # the first chunk starts the seeded stream
    assert not np.array_equal(written[3:6], written[:3])  # and the next ones go on with it
    monkeypatch.setattr(cli, "CHUNK", 1024)
    assert main(["sample", str(model_dir), "-n", "7", "-o", str(tmp_path / "short.npy"), "--seed", "4"]) == 0
    assert np.array_equal(np.load(tmp_path / "short.npy"), to_uint8(model.draw(7, seed=4)))


@pytest.mark.parametrize("arguments, error", [
    (["-n", "10001", "-o", "{out}.png"], "error: -n: a PNG grid holds at most 10000 samples, got 10001"),
    (["-n", "1000000000000", "-o", "{out}.npy"], "error: -n: 1000000000000 samples of 28x28 pixels need 784000.0 GB"),
    (["-n", "2", "-o", "{out}.png", "--label", "²"], "error: --label: vae is unconditional"),
])
def test_sample_refuses_in_one_line_and_keeps_the_previous_output(model_dir, tmp_path, capsys, arguments, error):
    out = tmp_path / "previous"
    target = Path(arguments[3].format(out=out))
    target.write_bytes(b"the previous output")
    assert main(["sample", str(model_dir), *[word.format(out=out) for word in arguments]]) == 1
    message = capsys.readouterr().err
    assert message.startswith(error) and message.count("\n") == 1
    assert target.read_bytes() == b"the previous output" and sorted(tmp_path.iterdir()) == sorted([model_dir, target])


@pytest.mark.parametrize("label", ["²", "١", "99"])
def test_a_label_that_is_no_class_is_one_line(tmp_path, capsys, label):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "aae_supervised" / "model.pt", tiny_model("aae_supervised"))
    assert main(["sample", str(tmp_path / "aae_supervised"), "-n", "2", "-o", str(tmp_path / "x.png"),
                 "--label", label]) == 1
    message = capsys.readouterr().err
    assert message.startswith("error: --label: expected a class name (0 1 2") and message.count("\n") == 1
    assert f"got {label!r}" in message and not (tmp_path / "x.png").exists()


def test_a_checkpoint_in_another_models_folder_is_refused(tmp_path, capsys):
    save_checkpoint(tmp_path / "kmnist" / "vae" / "model.pt", tiny_model("ae"))  # an ae copied over a vae
    assert main(["sample", str(tmp_path / "kmnist" / "vae"), "-n", "2", "-o", str(tmp_path / "x.npy")]) == 1
    assert capsys.readouterr().err == (f"error: {tmp_path / 'kmnist' / 'vae'}: holds a checkpoint of 'ae', not of "
                                       f"'vae' as its folder says (copied from another run?)\n")
    with pytest.raises(GlyphgenError, match=r"model.pt: holds a checkpoint of 'ae', not of 'vae'"):
        load_generator(tmp_path / "kmnist" / "vae" / "model.pt")


def test_a_checkpoint_of_another_image_size_is_refused_before_it_meets_the_data(model_dir):
    assert load_generator(model_dir, image_size=28).image_size == 28
    with pytest.raises(GlyphgenError, match=r"vae: trained on 28px images, but the data set's are 32px \(retrain"):
        load_generator(model_dir, image_size=32)


def test_alphabet_refuses_a_style_image_past_the_decompression_bomb_limit(tmp_path, capsys, monkeypatch):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "aae_supervised" / "model.pt", tiny_model("aae_supervised"))
    Image.new("L", (100, 90), 255).save(tmp_path / "style.png")
    (tmp_path / "alphabet.png").write_bytes(b"the previous output")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)  # 9000 pixels: past twice the limit, where PIL raises
    assert main(["alphabet", str(tmp_path / "aae_supervised"), "--style", str(tmp_path / "style.png"), "-o",
                 str(tmp_path / "alphabet.png")]) == 1
    assert capsys.readouterr().err == (f"error: {tmp_path / 'style.png'}: more than 3000 pixels, too large for a glyph "
                                       f"image (PIL's decompression-bomb limit)\n")
    assert (tmp_path / "alphabet.png").read_bytes() == b"the previous output"
