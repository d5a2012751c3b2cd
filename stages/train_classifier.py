"""Train the judge CNN for one data set; save it with its features of the test split (and of as many train
images, the ceiling's reference) and its test accuracy.

Usage: python stages/train_classifier.py <dataset>
"""

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from glyphgen.evaluation.classifier import (
    ClassifierConfig, accuracy, image_tensor, predict, save_classifier, train_classifier,
)
from glyphgen.evaluation.scorecard import FEATURES_NAME, JudgeFeatures
from glyphgen.io import load_image_set, write_json
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage
from glyphgen.training.device import pick_device


@dataclass
class TrainClassifierParams:
    device: str = "auto"
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)


def read_params(params: Mapping[str, Any], dataset: str) -> TrainClassifierParams:
    """The section with the data set's epochs (stages/check_params.py reads it this way too, for every data set)."""
    section = dict(get_section(params, "train_classifier"))
    epochs = get_section(section, f"epochs.{dataset}", "params.yaml:train_classifier")
    section["classifier"] = {**(section.get("classifier") or {}), "epochs": epochs}
    del section["epochs"]
    return parse_config(TrainClassifierParams, section, "params.yaml:train_classifier")


def main() -> dict[str, float]:
    dataset = sys.argv[1]
    params = read_params(load_params(), dataset)
    train_set = load_image_set(f"data/processed/{dataset}/train.npz")
    test_set = load_image_set(f"data/processed/{dataset}/test.npz")

    started = time.perf_counter()
    model = train_classifier(train_set, params.classifier, pick_device(params.device)).cpu()
    train_seconds = time.perf_counter() - started
    test_features, test_logits = predict(model, image_tensor(test_set))
    test_accuracy = accuracy(test_logits, test_set.labels)
    print(f"{dataset} classifier: test accuracy {test_accuracy:.4f}, trained in {train_seconds:.0f} s")

    out_dir = f"models/{dataset}/classifier"
    save_classifier(f"{out_dir}/classifier.pt", model, train_set.image_size, params.classifier)
    # The ceiling row compares test images with as many train images: only those need features.
    some_train = np.random.default_rng(params.classifier.seed).permutation(len(train_set))[: len(test_set)]
    train_features = predict(model, image_tensor(train_set.subset(some_train)))[0]
    JudgeFeatures(train_features, test_features).save(f"{out_dir}/{FEATURES_NAME}")
    # The training time goes to timings/, not to the metrics: same inputs, same bytes, so DVC re-runs nothing.
    write_json(f"metrics/{dataset}/classifier.json", {"test_accuracy": test_accuracy})
    return {"train_seconds": round(train_seconds, 1)}


if __name__ == "__main__":
    run_stage(main)
