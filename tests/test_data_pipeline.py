"""End to end: the real `dvc repro` of the data stages in a temporary git repository."""

import numpy as np
import pytest

from pipeline_repo import PipelineRepo

TINY = {
    "render_glyphs.charset": "ABCDEFGHab",  # ~220 glyphs from matplotlib's fonts
    "augment_glyphs.n_samples": 200,
    "split.kmnist.max_train": 500,
    "split.kmnist.max_test": 100,
}
DATA_STAGES = ["check_params", "fetch_kmnist", "render_glyphs", "convert_glyphs", "augment_glyphs", "split@kmnist",
               "split@glyphs"]


@pytest.mark.slow
def test_data_stages_reproduce_and_rerun_only_what_changed(tmp_path, kmnist_mirror):
    repo = PipelineRepo(tmp_path)
    repo.set_params(TINY)

    first = repo.repro("split")
    assert first.returncode == 0, first.stderr
    assert sorted(repo.stages_run(first)) == sorted(DATA_STAGES)
    for dataset, classes, size in [("kmnist", 10, 28), ("glyphs", 10, 32)]:
        train = repo.image_set(f"data/processed/{dataset}/train.npz")
        test = repo.image_set(f"data/processed/{dataset}/test.npz")
        assert len(train.class_names) == classes and train.image_size == size
        metrics = repo.metrics(f"metrics/data/{dataset}.json")
        assert (metrics["train_size"], metrics["test_size"]) == (len(train), len(test))
    kmnist_sizes = repo.metrics("metrics/data/kmnist.json")
    assert (kmnist_sizes["train_size"], kmnist_sizes["test_size"]) == (500, 100)
    glyph_train = repo.image_set("data/processed/glyphs/train.npz")
    glyph_test = repo.image_set("data/processed/glyphs/test.npz")
    # Every face of a family (bold, oblique; the Computer Modern roman's four, joined in params.yaml) on one side
    train_families, test_families = set(glyph_train.extras["family"]), set(glyph_test.extras["family"])
    assert not train_families & test_families and "DejaVu Sans" in train_families | test_families
    computer_modern_roman = {"cmr10", "cmb10", "cmti10", "cmmi10"}
    assert computer_modern_roman <= train_families or computer_modern_roman <= test_families
    glyph_sizes = repo.metrics("metrics/data/glyphs.json")
    assert glyph_sizes["train_families"] + glyph_sizes["test_families"] == 7  # 10 families, 4 of them joined

    second = repo.repro("split")
    assert second.returncode == 0 and repo.stages_run(second) == []

    repo.set_params({"augment_glyphs.seed": 1})
    third = repo.repro("split")
    assert third.returncode == 0, third.stderr
    assert sorted(repo.stages_run(third)) == ["augment_glyphs", "check_params", "split@glyphs"]  # (new params: checked)
    assert not np.array_equal(repo.image_set("data/processed/glyphs/train.npz").images, glyph_train.images)


@pytest.mark.slow
def test_bad_param_fails_in_one_line_without_output(tmp_path, kmnist_mirror):
    repo = PipelineRepo(tmp_path)
    repo.set_params({**TINY, "convert_glyphs.image_size": 8})
    failed = repo.repro("convert_glyphs")
    assert failed.returncode != 0
    assert "error: params.yaml:convert_glyphs.image_size: expected a value in [16, 256], got 8" in failed.stderr
    assert not (tmp_path / "data/interim/converted").exists()
