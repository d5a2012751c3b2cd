import numpy as np
import pytest
from PIL import Image

from glyphgen.data.convert import ConvertConfig, convert_glyphs, normalise_glyph, read_gray
from glyphgen.data.glyph_folders import FAMILIES_FILE, list_glyph_files, write_families
from glyphgen.errors import GlyphgenError
from glyphgen.params import parse_config


def l_shape(height=60, width=40, paper=255, ink=0):
    """An off-centre, asymmetric 'L' on a canvas bigger than the glyph."""
    picture = np.full((100, 90), paper, np.uint8)
    picture[10:10 + height, 5:13] = ink
    picture[10 + height - 8:10 + height, 5:5 + width] = ink
    return picture


def ink_box(image):
    rows, cols = np.flatnonzero(image.max(axis=1) > 25), np.flatnonzero(image.max(axis=0) > 25)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


@pytest.mark.parametrize("image_size", [28, 64])
def test_glyph_is_white_on_black_fitted_and_centred_by_mass(image_size):
    out = normalise_glyph(l_shape(), image_size)
    assert out.shape == (image_size, image_size) and out.dtype == np.uint8
    assert out[0].max() == 0 and out.max() == 255  # black border, white strokes
    height, width = ink_box(out)
    assert abs(max(height, width) - round(image_size * 20 / 28)) <= 1
    assert abs(height / width - 60 / 40) < 0.15  # aspect ratio kept
    rows, cols = np.indices(out.shape)
    centre = (image_size - 1) / 2
    assert abs((rows * out).sum() / out.sum() - centre) <= 0.5
    assert abs((cols * out).sum() / out.sum() - centre) <= 0.5


def test_polarity_and_paper_tone_do_not_matter():
    dark_on_light = normalise_glyph(l_shape(paper=255, ink=0), 28)
    light_on_dark = normalise_glyph(l_shape(paper=0, ink=255), 28)
    grey_scan = normalise_glyph(l_shape(paper=210, ink=40), 28)
    np.testing.assert_array_equal(dark_on_light, light_on_dark)
    np.testing.assert_array_equal(dark_on_light, grey_scan)


def test_transparent_background_counts_as_paper(tmp_path):
    ink_alpha = 255 - l_shape()  # black strokes drawn on a fully transparent sheet
    rgba = np.zeros((*ink_alpha.shape, 4), np.uint8)
    rgba[..., 3] = ink_alpha
    Image.fromarray(rgba, "RGBA").save(tmp_path / "specimen.png")
    from_specimen = normalise_glyph(read_gray(tmp_path / "specimen.png"), 28)
    np.testing.assert_array_equal(from_specimen, normalise_glyph(l_shape(), 28))


def test_glyph_folders_are_labelled_by_character_and_source(tmp_path):
    for folder, source in [("U+0041", "serif"), ("b", "scan_07"), ("U+0041", "sans")]:
        (tmp_path / folder).mkdir(exist_ok=True)
        Image.fromarray(l_shape()).save(tmp_path / folder / f"{source}.png")
    glyphs = convert_glyphs(list_glyph_files(tmp_path), image_size=32)
    assert glyphs.class_names == ["A", "b"]
    assert [glyphs.class_names[label] for label in glyphs.labels] == ["A", "A", "b"]
    assert list(glyphs.extras["font"]) == ["sans", "serif", "scan_07"]
    assert list(glyphs.extras["family"]) == ["sans", "serif", "scan_07"]  # no families.csv: each its own family
    assert list(glyphs.extras["source_glyph"]) == [0, 1, 2]
    write_families(tmp_path / FAMILIES_FILE, {"sans": "Book", "serif": "Book"})
    assert [glyph.family for glyph in list_glyph_files(tmp_path)] == ["Book", "Book", "scan_07"]
    (tmp_path / FAMILIES_FILE).write_text("source\nsans\n")
    with pytest.raises(GlyphgenError, match=r"families.csv: expected the columns source,family"):
        list_glyph_files(tmp_path)


def test_bad_glyph_folders_are_errors(tmp_path):
    with pytest.raises(GlyphgenError, match="no glyph images found"):
        list_glyph_files(tmp_path)
    (tmp_path / "AB").mkdir()
    Image.new("L", (20, 20), 255).save(tmp_path / "AB" / "blank.png")
    with pytest.raises(GlyphgenError, match="named by one character or U\\+XXXX"):
        list_glyph_files(tmp_path)
    (tmp_path / "AB").rename(tmp_path / "c")
    with pytest.raises(GlyphgenError, match="blank.png: blank image"):
        convert_glyphs(list_glyph_files(tmp_path), image_size=32)


@pytest.mark.parametrize("image_size", [15, 257])
def test_image_size_out_of_range_is_an_error(image_size):
    with pytest.raises(GlyphgenError, match=r"convert_glyphs.image_size: expected a value in \[16, 256\]"):
        parse_config(ConvertConfig, {"image_size": image_size}, "params.yaml:convert_glyphs")


def test_a_link_out_of_the_glyph_folder_is_refused_and_one_inside_is_followed(tmp_path):
    folder, elsewhere = tmp_path / "glyphs", tmp_path / "elsewhere"
    (folder / "A").mkdir(parents=True)
    elsewhere.mkdir()
    Image.fromarray(l_shape()).save(folder / "A" / "scan.png")
    (folder / "A" / "copy.png").symlink_to(folder / "A" / "scan.png")  # inside: DVC hashes what it reads
    assert [glyph.source for glyph in list_glyph_files(folder)] == ["copy", "scan"]
    Image.fromarray(l_shape()).save(elsewhere / "outside.png")
    (folder / "A" / "outside.png").symlink_to(elsewhere / "outside.png")
    with pytest.raises(GlyphgenError, match=r"A/outside.png: a link to .*elsewhere/outside.png, outside the glyph "
                                            r"folder .*glyphs: DVC would not see it change"):
        list_glyph_files(folder)
    (folder / "A" / "outside.png").unlink()
    (folder / "B").symlink_to(elsewhere, target_is_directory=True)  # a whole character folder elsewhere
    with pytest.raises(GlyphgenError, match=r"glyphs/B: a link to .*elsewhere, outside the glyph folder"):
        list_glyph_files(folder)


def test_an_image_past_the_decompression_bomb_limit_is_one_line(tmp_path, monkeypatch):
    Image.fromarray(l_shape()).save(tmp_path / "glyph.png")  # 100 x 90 = 9000 pixels
    for limit in (6000, 3000):  # PIL warns above the limit and raises above twice the limit: both are refused
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
        with pytest.raises(GlyphgenError, match=rf"glyph.png: more than {limit} pixels, too large for a glyph image"):
            read_gray(tmp_path / "glyph.png")
