import numpy as np
import pytest

from glyphgen.data.augment import AugmentConfig, augment_glyphs, augment_images
from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet
from glyphgen.params import parse_config


def square_glyphs(count=3, size=28):
    images = np.zeros((count, size, size), np.uint8)
    for i in range(count):
        images[i, 6 + i:20, 8:12 + 2 * i] = 255
    return ImageSet(images, np.arange(count) % 2, ["a", "b"],
                    {"font": np.array([f"font{i}" for i in range(count)]), "source_glyph": np.arange(count)})


def config(**overrides):
    always = {name: {"probability": 1.0} for name in ("rotate", "zoom", "shear", "skew", "distort")}
    return parse_config(AugmentConfig, {"n_samples": 24, "seed": 3, **always, **overrides}, "test")


def test_same_bytes_whatever_the_number_of_workers():
    sources = square_glyphs().images
    serial = augment_images(sources, config(workers=1))
    parallel = augment_images(sources, config(workers=2))
    assert serial.shape == (24, 28, 28) and serial.dtype == np.uint8
    np.testing.assert_array_equal(serial, parallel)
    assert not np.array_equal(serial, augment_images(sources, config(workers=1, seed=4)))
    assert not np.array_equal(serial[:3], serial[3:6])  # same sources, different seeds per image


def test_probability_zero_leaves_images_untouched():
    off = {name: {"probability": 0.0} for name in ("rotate", "zoom", "shear", "skew", "distort")}
    sources = square_glyphs().images
    np.testing.assert_array_equal(augment_images(sources, config(**off, n_samples=3)), sources)


def test_augmented_set_keeps_originals_and_source_columns():
    glyphs = square_glyphs()
    augmented = augment_glyphs(glyphs, config(n_samples=7))
    assert len(augmented) == 3 + 7
    np.testing.assert_array_equal(augmented.images[:3], glyphs.images)
    assert list(augmented.extras["source_glyph"]) == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    assert list(augmented.extras["augmented"]) == [False] * 3 + [True] * 7
    assert list(augmented.labels) == [glyphs.labels[i] for i in augmented.extras["source_glyph"]]
    assert len(augment_glyphs(glyphs, config(n_samples=7, keep_originals=False))) == 7


@pytest.mark.parametrize("raw, message", [
    ({"rotate": {"probability": 1.5}}, r"augment_glyphs.rotate.probability: expected a value in \[0.0, 1.0\]"),
    ({"distort": {"magnitde": 2}}, "unknown key 'magnitde'"),
    ({"workers": 0}, r"augment_glyphs.workers: expected a value in \[1, 256\]"),
])
def test_bad_params_are_errors(raw, message):
    with pytest.raises(GlyphgenError, match=message):
        parse_config(AugmentConfig, raw, "params.yaml:augment_glyphs")
