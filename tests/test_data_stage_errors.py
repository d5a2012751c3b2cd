"""Bad input to a data stage: a one-line error, exit status 1, and no output left behind."""

import shutil

import numpy as np
import pytest
from PIL import Image

from glyphgen.data.fonts import MATPLOTLIB_FONTS_RECORD
from glyphgen.data.kmnist import CLASS_MAP, MIRROR_ENV
from glyphgen.io import ImageSet, save_image_set
from pipeline_repo import PROJECT_ROOT, run_stage_recording_writes, run_stage_script
from test_fonts import SMALL_FONTS, damaged_glyph_table

pytestmark = pytest.mark.slow  # each test runs a stage script as its own process


@pytest.mark.parametrize("stage, params, message", [
    ("render_glyphs", {"render_glyphs": {"charset": "\u3042\u3044"}},
     "error: params.yaml:render_glyphs.charset: none of"),
    ("render_glyphs", {"render_glyphs": {"matplotlib_fonts": False, "font_globs": ["empty/*.ttf"]}},
     "error: params.yaml:render_glyphs.font_globs[0]: 'empty/*.ttf' matched no"),
    ("render_glyphs", {"render_glyphs": {"charsets": "AB"}},
     "error: params.yaml:render_glyphs: unknown key 'charsets'"),
    ("fetch_kmnist", {"fetch_kmnist": {"format": "csv"}},
     "error: params.yaml:fetch_kmnist.format: expected one of ['npz', 'idx'], got 'csv'"),
    ("split", {"split": {"seed": 0, "glyphs": {"test_size": 0.9}}},
     "error: params.yaml:split.glyphs.test_size: expected a value in [0.05, 0.5], got 0.9"),
])
def test_bad_input_fails_in_one_line_without_output(tmp_path, stage, params, message):
    (tmp_path / "data" / "fonts").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    shutil.copy(PROJECT_ROOT / MATPLOTLIB_FONTS_RECORD, tmp_path / MATPLOTLIB_FONTS_RECORD)
    args = ["glyphs"] if stage == "split" else []
    failed = run_stage_script(tmp_path, stage, params, *args)
    assert failed.returncode == 1
    assert failed.stderr.strip().startswith(message) and len(failed.stderr.strip().splitlines()) == 1
    assert [p for p in (tmp_path / "data").rglob("*") if p.is_file()] == [tmp_path / MATPLOTLIB_FONTS_RECORD]


def blank_png(path):
    Image.new("L", (20, 20), 255).save(path)


def glyph_png(path):
    picture = Image.new("L", (20, 20), 255)
    picture.paste(0, (5, 5, 15, 15))
    picture.save(path)


def broken_png(path):
    path.write_bytes(b"\x89PNG not really")


def bad_glyph_folder(root, make_bad, folder="U+0042", name="bad.png"):
    for char_folder, maker in [("U+0041", glyph_png), (folder, make_bad)]:
        (root / "data/interim/rendered" / char_folder).mkdir(parents=True, exist_ok=True)
        maker(root / "data/interim/rendered" / char_folder / name)


def kmnist_train_split_only(root):
    save_image_set(root / "data/raw/kmnist/train.npz",
                   ImageSet(np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10, [str(i) for i in range(10)]))


def fonts_with_a_damaged_one_last(root):
    shutil.copy(SMALL_FONTS[0], root / "data/fonts/a_good.ttf")
    damaged_glyph_table(SMALL_FONTS[1], root / "data/fonts/b_damaged.ttf")


def no_input(root):
    pass


# (stage, its args, params, how to break its input, the error, whether it had begun writing when it failed)
BAD_INPUT = {
    "blank image": ("convert_glyphs", [], {"convert_glyphs": {"image_size": 28}}, lambda root: bad_glyph_folder(
        root, blank_png), "data/interim/rendered/U+0042/bad.png: blank image", False),
    "unreadable image": ("convert_glyphs", [], {"convert_glyphs": {"image_size": 28}}, lambda root: bad_glyph_folder(
        root, broken_png), "data/interim/rendered/U+0042/bad.png: not a readable image", False),
    "wrongly named image folder": ("convert_glyphs", [], {"convert_glyphs": {"image_size": 28}},
                                   lambda root: bad_glyph_folder(root, glyph_png, folder="AB"),
                                   "data/interim/rendered/AB: a glyph folder must be named by one character", False),
    "missing augment input": ("augment_glyphs", [], {"augment_glyphs": {"n_samples": 10}}, no_input,
                              "data/interim/converted/glyphs.npz: file not found", False),
    "missing raw test split": ("split", ["kmnist"], {"split": {"seed": 0, "kmnist": {}}}, kmnist_train_split_only,
                               "data/raw/kmnist/test.npz: file not found", True),
    "damaged font": ("render_glyphs", [], {"render_glyphs": {"matplotlib_fonts": False, "charset": "AB"}},
                     fonts_with_a_damaged_one_last, "/data/fonts/b_damaged.ttf: face Cmtt10 cannot be drawn", True),
    "no font at all": ("render_glyphs", [], {"render_glyphs": {"matplotlib_fonts": False}}, no_input,
                       "data/fonts: no font found", False),
}


def files_under(root):
    return {path for path in root.rglob("*") if path.name != "params.yaml"}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_data_fails_in_one_line_and_leaves_nothing(tmp_path, case):
    stage, args, params, break_input, message, began_writing = BAD_INPUT[case]
    root = tmp_path / "project"
    (root / "data" / "fonts").mkdir(parents=True)
    break_input(root)
    inputs = files_under(root)
    failed, writes = run_stage_recording_writes(root, stage, params, *args)
    assert failed.returncode == 1
    error = failed.stderr.strip()
    assert error.startswith("error: ") and message in error and len(error.splitlines()) == 1, error
    assert files_under(root) == inputs  # no output, no temporary file left
    # The stages that stream their output clean up what they had written; the others fail before writing.
    assert bool(writes) == began_writing, writes


def test_a_wrong_md5_at_stage_level_fails_after_writing_began_and_leaves_nothing(tmp_path, kmnist_mirror,
                                                                                 monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(kmnist_mirror / CLASS_MAP, mirror / CLASS_MAP)
    (mirror / "kmnist-train-imgs.npz").write_bytes((kmnist_mirror / "kmnist-test-labels.npz").read_bytes())
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    root = tmp_path / "project"
    root.mkdir()
    failed, writes = run_stage_recording_writes(root, "fetch_kmnist", {"fetch_kmnist": {"format": "npz"}})
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"error: {mirror / 'kmnist-train-imgs.npz'}: MD5 ")
    assert "does not match the official" in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert any(path.endswith(CLASS_MAP) for path in writes)  # the class map was in the output folder already
    assert files_under(root) == set()
