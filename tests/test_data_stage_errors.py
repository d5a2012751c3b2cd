"""Bad input to a data stage: a one-line error, exit status 1, and no output left behind."""

import shutil

import pytest

from glyphgen.data.fonts import MATPLOTLIB_FONTS_RECORD
from pipeline_repo import PROJECT_ROOT, run_stage_script


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
