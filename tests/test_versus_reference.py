"""benchmarks/versus_reference.py and its tutorial-style loops: every model's reference step runs on the same
networks as glyphgen's, and one comparison row comes out whole (the timing itself is a figure, not a test)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from glyphgen.io import ImageSet
from glyphgen.models import MODEL_NAMES, model_class
from glyphgen.training.loop import TrainConfig
from tiny_models import tiny_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reference_loops import (own_step, reference_batches, reference_optimizers,  # noqa: E402
                             reference_step)
from versus_reference import compare, training_table, write_results  # noqa: E402

CPU = torch.device("cpu")


def random_set(count: int = 64, side: int = 28) -> ImageSet:
    rng = np.random.default_rng(0)
    return ImageSet(rng.integers(0, 256, (count, side, side), dtype=np.uint8), rng.integers(0, 10, count),
                    [str(c) for c in range(10)])


@pytest.mark.parametrize("preset", ["default", "reference"])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_the_reference_step_trains_every_model_with_its_own_optimiser_settings(name, preset):
    config = dataclasses.replace(model_class(name).presets[preset], batch_size=4)
    if name == "aae_semi":  # a labelled subset the 40 images below can give
        config = dataclasses.replace(config, n_labels=10, labelled_batch_size=4)
    model = model_class(name)(config, 28, 10)
    optimizers = reference_optimizers(model)
    for optimizer, ours in zip(optimizers.values(), model.configure_optimizers().values()):
        assert optimizer.defaults["fused"] is None and ours.defaults["fused"] is True  # Adam's default vs glyphgen's
        assert optimizer.param_groups[0]["lr"] == ours.param_groups[0]["lr"]
        assert optimizer.param_groups[0]["betas"] == ours.param_groups[0]["betas"]
    step = reference_step(model)
    # The tutorials' models have a tutorial-style step of their own; the AAE family and wgan_gp run their own
    # train_step inside the tutorial-style loop (DataLoader, NumPy noise, .item() on every loss).
    assert (step is own_step) == (name.startswith("aae_") or name == "wgan_gp")
    images, labels = next(reference_batches(random_set().images, random_set().labels, 4, CPU))
    model.start_training(torch.zeros(40, 1, 28, 28, dtype=torch.uint8), torch.arange(40) % 10, 0)
    assert images.shape == (4, 1, 28, 28) and images.dtype == torch.float32 and float(images.max()) <= 1
    before = [p.detach().clone() for p in model.parameters()]
    losses = step(model, images, labels, optimizers)
    assert all(isinstance(loss, float) and np.isfinite(loss) for loss in losses)
    assert any(not torch.equal(old, new) for old, new in zip(before, model.parameters()))


def test_a_comparison_row_has_both_loops_and_their_ratio():
    row = compare("ae", "default", tiny_config("ae", batch_size=8), random_set(), CPU,
                  TrainConfig(device="cpu", log_every=2), seconds=0.01, repeats=2, default_threads=1)
    assert row["model"] == "ae" and row["steps"] >= 3
    assert len(row["glyphgen"].images_per_second) == len(row["reference"].images_per_second) == 2
    assert row["ratio"] == pytest.approx(row["glyphgen"].median / row["reference"].median)
    line = training_table([row], peak=None).splitlines()[-1]
    assert line.startswith("| ae | 8 |") and f"| {row['ratio']:.1f}x |" in line


def test_the_results_file_keeps_what_is_written_around_the_generated_part(tmp_path):
    results = tmp_path / "RESULTS.md"
    write_results(results, "first run")
    results.write_text("# by hand\n" + results.read_text() + "\nGPU figures by hand\n")
    write_results(results, "second run")
    text = results.read_text()
    assert text.startswith("# by hand\n") and text.endswith("GPU figures by hand\n")
    assert "second run" in text and "first run" not in text
