import pytest
import torch

from glyphgen.evaluation.judges import image_tensor
from glyphgen.evaluation.sanity import DEGRADATIONS, REAL, SEVERITIES, check, degraded_scores, is_monotone
from glyphgen.evaluation.scorecard import EvaluateConfig, Splits

CONFIG = EvaluateConfig(kid_subsets=5, kid_subset_size=300, two_sample_epochs=4, sanity_images=500, batch_size=500)


@pytest.fixture(scope="module")
def splits(kmnist_train, kmnist_test) -> Splits:
    return Splits(image_tensor(kmnist_train), image_tensor(kmnist_test), kmnist_train.labels, kmnist_test.labels,
                  kmnist_train.class_names)


def ink(images: torch.Tensor) -> float:
    return float(images.sum())


def degrade(name: str, splits: Splits, severity: int, count: int = 200) -> torch.Tensor:
    images, labels = splits.test_images[:count], torch.from_numpy(splits.test_labels[:count])
    return DEGRADATIONS[name](images, labels, splits.train_images, severity, torch.Generator().manual_seed(0))


def test_each_degradation_grows_with_severity(splits):
    real = splits.test_images[:200]
    thinner = [ink(degrade("thinner", splits, s)) for s in SEVERITIES]
    thicker = [ink(degrade("thicker", splits, s)) for s in SEVERITIES]
    assert ink(real) > thinner[0] > thinner[1] > thinner[2] and ink(real) < thicker[0] < thicker[1] < thicker[2]
    changed = {name: [float((degrade(name, splits, s) - real).abs().mean()) for s in SEVERITIES]
               for name in ("blur", "speckle", "noise")}
    assert all(0 < a < b < c for a, b, c in changed.values()), changed
    labels = torch.from_numpy(splits.test_labels[:200])
    kept = [len(torch.unique(DEGRADATIONS["dropped_classes"](torch.arange(200.0), labels, None, s,
                                                            torch.Generator().manual_seed(0)))) for s in SEVERITIES]
    assert kept[0] > kept[1] > kept[2] >= 1  # images of 8, 5 and 2 of the 10 classes: fewer distinct images
    copies = [degrade("training_copies", splits, s) for s in SEVERITIES]
    distinct = [len(torch.unique(c.flatten(1), dim=0)) for c in copies]
    assert distinct[0] > distinct[1] > distinct[2] and distinct[0] <= 200 // 4
    train_rows = {tuple(row.tolist()) for row in splits.train_images.flatten(1)[:, ::7]}
    assert all(tuple(row.tolist()) in train_rows for row in copies[0].flatten(1)[:, ::7])


def test_monotone_means_worse_at_every_step_and_saturation_may_hold():
    assert is_monotone([1.0, 2.0, 3.0, 4.0])
    assert not is_monotone([1.0, 0.5, 3.0, 4.0])  # severity 1 better than the real images
    assert not is_monotone([1.0, 2.0, 2.0, 4.0])  # a step that changes nothing
    assert is_monotone([0.5, 0.995, 1.0, 0.999], saturates_at=1.0)
    assert not is_monotone([0.5, 0.9, 0.8, 1.0], saturates_at=1.0)
    rows = {REAL: {"m": 1.0}, **{f"{name}@{s}": {"m": 1.0 + s} for name in DEGRADATIONS for s in SEVERITIES}}
    rows["blur@2"]["m"] = 0.0
    assert check(rows) == {"m": {name: name != "blur" for name in DEGRADATIONS}}


def test_on_a_tiny_slice_strong_degradations_rank_below_real_images_for_every_judge(panel, splits):
    rows = degraded_scores(panel, splits, CONFIG)
    assert set(rows) == {REAL} | {f"{name}@{s}" for name in DEGRADATIONS for s in SEVERITIES}
    for name in panel.judges:
        for metric in ("fid", "kid"):
            real = rows[REAL][f"{name}.{metric}"]
            # The strongest severities: even a judge trained for two epochs on 2,000 images sees them.
            for degradation in ("noise@3", "blur@3", "thinner@3", "speckle@3"):
                assert rows[degradation][f"{name}.{metric}"] > real + 0.1 * abs(real), (name, metric, degradation)
            assert rows["noise@1"][f"{name}.{metric}"] < rows["noise@3"][f"{name}.{metric}"]
    assert rows["noise@3"]["c2st_accuracy"] > rows[REAL]["c2st_accuracy"] + 0.15
    passes = check(rows)
    assert set(passes) == {f"{n}.{m}" for n in panel.judges for m in ("fid", "kid")} | {"c2st_accuracy"}
