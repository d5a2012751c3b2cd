import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTCollection, TTFont

from glyphgen.data.fonts import (MATPLOTLIB_FONTS, MATPLOTLIB_FONTS_RECORD, RenderConfig, check_matplotlib_fonts,
                                 font_files, matplotlib_font_hashes, read_faces, render_face, unique_faces)
from glyphgen.errors import GlyphgenError

DEJAVU = MATPLOTLIB_FONTS / "DejaVuSans.ttf"
REPO = Path(__file__).resolve().parents[1]
SMALL_FONTS = [MATPLOTLIB_FONTS / "cmr10.ttf", MATPLOTLIB_FONTS / "cmtt10.ttf"]


def test_renders_black_on_white_glyphs_and_reports_missing_ones():
    face, = read_faces(DEJAVU)
    drawings, missing = render_face(face, "Ag\u3042", font_size=32)  # DejaVu has no hiragana
    assert sorted(drawings) == ["A", "g"] and missing == ["\u3042"]
    a = drawings["A"]
    assert a.dtype == np.uint8 and a[0, 0] == 255 and a.min() == 0  # white margin, black ink


def test_placeholder_font_draws_nothing():
    face, = read_faces(MATPLOTLIB_FONTS / "LastResortHE-Regular.ttf")  # one box glyph for every letter
    drawings, missing = render_face(face, "A\u3042", font_size=32)
    assert drawings == {} and missing == list("A\u3042")


def test_blank_glyph_counts_as_missing():
    face, = read_faces(DEJAVU)
    drawings, missing = render_face(face, "A ", font_size=32)  # the space is in the cmap but has no ink
    assert list(drawings) == ["A"] and missing == [" "]


def test_every_face_of_a_collection_is_rendered(tmp_path):
    collection = TTCollection()
    collection.fonts = [TTFont(path) for path in SMALL_FONTS]
    collection.save(tmp_path / "pair.ttc")
    faces = read_faces(tmp_path / "pair.ttc")
    assert [face.index for face in faces] == [0, 1] and faces[0].family != faces[1].family
    second, _ = render_face(faces[1], "x", font_size=32)
    alone, _ = render_face(read_faces(SMALL_FONTS[1])[0], "x", font_size=32)
    np.testing.assert_array_equal(second["x"], alone["x"])


def test_duplicate_faces_are_counted_once(tmp_path):
    copy = tmp_path / "copy.ttf"
    shutil.copy(SMALL_FONTS[0], copy)
    assert len(unique_faces([SMALL_FONTS[0], copy, SMALL_FONTS[1]], exclude=[])) == 2
    assert [f.family for f in unique_faces(SMALL_FONTS, exclude=["cmtt"])] == ["cmr10"]


def test_font_folder_and_globs_are_searched(tmp_path):
    fonts_dir = tmp_path / "fonts"
    (fonts_dir / "nested").mkdir(parents=True)
    shutil.copy(SMALL_FONTS[0], fonts_dir / "nested" / "mine.TTF")
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(SMALL_FONTS[1], extra / "other.otf")
    config = RenderConfig(matplotlib_fonts=False, font_globs=[str(extra / "*")])
    assert [p.name for p in font_files(config, fonts_dir)] == ["mine.TTF", "other.otf"]


def test_glob_matching_no_font_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    config = RenderConfig(matplotlib_fonts=False, font_globs=[str(tmp_path / "empty" / "*.ttf")])
    with pytest.raises(GlyphgenError, match=r"render_glyphs.font_globs\[0\]: .* matched no"):
        font_files(config, tmp_path / "fonts")


def test_a_file_that_is_not_a_font_is_an_error(tmp_path):
    fake = tmp_path / "fake.ttf"
    fake.write_text("not a font")
    with pytest.raises(GlyphgenError, match="fake.ttf: not a readable TrueType/OpenType font"):
        read_faces(fake)


def damaged_glyph_table(source: Path, target: Path) -> Path:
    """A copy of `source` whose glyf table (the outlines) is noise: its cmap and names still read fine."""
    table = TTFont(source).reader.tables["glyf"]
    data = bytearray(source.read_bytes())
    data[table.offset:table.offset + table.length] = np.random.default_rng(0).bytes(table.length)
    target.write_bytes(data)
    return target


def test_a_font_with_a_damaged_glyph_table_is_a_one_line_error_naming_the_file(tmp_path):
    damaged = damaged_glyph_table(SMALL_FONTS[1], tmp_path / "damaged.ttf")
    face, = read_faces(damaged)  # the tables FreeType reads first are intact
    with pytest.raises(GlyphgenError, match=rf"^{damaged}: face Cmtt10 cannot be drawn \(.*\); is the font file"):
        render_face(face, "ABC", font_size=32)


def test_no_font_at_all_says_so(tmp_path):
    (tmp_path / "fonts").mkdir()
    with pytest.raises(GlyphgenError, match=rf"^{tmp_path / 'fonts'}: no font found \(no .ttf/.otf/.ttc file there"):
        font_files(RenderConfig(matplotlib_fonts=False), tmp_path / "fonts")


def test_the_installed_matplotlib_bundles_the_recorded_fonts():
    # render_glyphs depends on the record, not on the fonts: after a matplotlib upgrade that changes them, this
    # fails until `python -m glyphgen record-fonts` renews the record (which then re-runs the stage).
    check_matplotlib_fonts(REPO / MATPLOTLIB_FONTS_RECORD)


def test_fonts_that_differ_from_the_record_are_a_one_line_error(tmp_path):
    record = tmp_path / "matplotlib_fonts.json"
    fonts = matplotlib_font_hashes()
    fonts["DejaVuSans.ttf"] = "0" * 32
    del fonts["cmr10.ttf"]
    record.write_text(json.dumps({**fonts, "Old.ttf": "1" * 32}))
    with pytest.raises(GlyphgenError) as error:
        check_matplotlib_fonts(record)
    message = str(error.value)
    assert message.startswith(f"{record}: matplotlib's bundled fonts differ from this record (") and "\n" not in message
    assert "new cmr10.ttf" in message and "gone Old.ttf" in message and "changed DejaVuSans.ttf" in message
    assert "python -m glyphgen record-fonts" in message
    with pytest.raises(GlyphgenError, match=r"matplotlib_fonts.json: not found; `python -m glyphgen record-fonts`"):
        check_matplotlib_fonts(tmp_path / "missing" / "matplotlib_fonts.json")
