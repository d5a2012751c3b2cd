import numpy as np
import pytest

from glyphgen.data.split import cap, class_counts, family_groups, grouped_split
from glyphgen.errors import GlyphgenError
from glyphgen.io import ImageSet


def augmented_glyphs(classes=4, glyphs_per_class=10, copies=6):
    """Each source glyph appears `copies` times, as after augmentation."""
    source = np.repeat(np.arange(classes * glyphs_per_class), copies)
    labels = source % classes
    images = (source[:, None, None] % 256).astype(np.uint8) * np.ones((1, 4, 4), np.uint8)
    return ImageSet(images, labels, [f"c{i}" for i in range(classes)], {"source_glyph": source})


def test_split_is_grouped_stratified_and_seeded():
    glyphs = augmented_glyphs()
    train, test = grouped_split(glyphs, glyphs.extras["source_glyph"], test_size=0.2, seed=0)
    assert not set(glyphs.extras["source_glyph"][train]) & set(glyphs.extras["source_glyph"][test])
    assert len(train) + len(test) == len(glyphs) and len(test) == pytest.approx(0.2 * len(glyphs), rel=0.1)
    np.testing.assert_array_equal(np.bincount(glyphs.labels[test]), [12, 12, 12, 12])  # 2 glyphs x 6 per class
    again, _ = grouped_split(glyphs, glyphs.extras["source_glyph"], test_size=0.2, seed=0)
    other, _ = grouped_split(glyphs, glyphs.extras["source_glyph"], test_size=0.2, seed=1)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)


def test_cap_takes_a_stratified_subsample():
    glyphs = augmented_glyphs()
    capped = cap(glyphs, 40, seed=0, where="split.glyphs.max_train")
    np.testing.assert_array_equal(np.bincount(capped.labels), [10, 10, 10, 10])
    assert cap(glyphs, None, seed=0, where="x") is glyphs
    with pytest.raises(GlyphgenError, match=r"split.glyphs.max_train: expected a value in \[4, 240\]"):
        cap(glyphs, 3, seed=0, where="split.glyphs.max_train")


def test_class_counts_table():
    glyphs = augmented_glyphs(classes=3, glyphs_per_class=2, copies=1)
    counts = class_counts(glyphs, glyphs.subset(np.array([0, 1])))
    assert counts.to_dict("list") == {"class": ["c0", "c1", "c2"], "train": [2, 2, 2], "test": [1, 1, 0]}


def test_glyphs_split_by_font_family_with_every_face_of_a_family_on_one_side():
    # 6 families of 1 to 4 faces, every face drawing every class (what render_glyphs gives)
    faces = {"Sans": ["Sans", "Sans-Bold", "Sans-Oblique", "Sans-BoldOblique"], "Serif": ["Serif", "Serif-Bold"],
             "Mono": ["Mono"], "cmr10": ["cmr10"], "cmb10": ["cmb10"], "Script": ["Script"], "Hand": ["Hand"]}
    family = np.array([name for name, members in faces.items() for _ in members for _ in range(4)])
    labels = np.tile(np.arange(4), len(family) // 4)
    glyphs = ImageSet(np.zeros((len(family), 4, 4), np.uint8), labels, [f"c{i}" for i in range(4)],
                      {"family": family})
    groups = family_groups(family, {"Computer Modern": "^cm(r|b)10$"})
    assert set(groups) == {"Sans", "Serif", "Mono", "Computer Modern", "Script", "Hand"}
    for seed in range(5):
        train, test = grouped_split(glyphs, groups, test_size=0.2, seed=seed)
        assert not set(groups[train]) & set(groups[test]) and len(train) + len(test) == len(glyphs)
        assert {"cmr10", "cmb10"} <= set(family[train]) or {"cmr10", "cmb10"} <= set(family[test])  # joined


def test_too_few_families_for_the_folds_is_a_one_line_error():
    glyphs = augmented_glyphs(classes=2, glyphs_per_class=2, copies=1)
    with pytest.raises(GlyphgenError, match=r"^params.yaml:split.glyphs.test_size: cannot split 2 font families"):
        grouped_split(glyphs, np.array(["a", "a", "b", "b"]), test_size=0.2, seed=0)
