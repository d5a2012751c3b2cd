"""The floor and ceiling rows for one data set: real test images and per-pixel noise, scored like a model.

Usage: python stages/evaluate_references.py <dataset>
Writes metrics/<dataset>/real_test.json (ceiling) and metrics/<dataset>/pixel_noise.json (floor).
"""

import sys

import torch

from glyphgen.evaluation.classifier import image_tensor, load_classifier
from glyphgen.evaluation.scorecard import EvaluateConfig, JudgeFeatures, score_references
from glyphgen.io import load_image_set, write_json
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    config = parse_config(EvaluateConfig, get_section(load_params(), "evaluate"), "params.yaml:evaluate")
    torch.set_grad_enabled(False)
    train_set = load_image_set(f"data/processed/{dataset}/train.npz")
    test_set = load_image_set(f"data/processed/{dataset}/test.npz")
    judge = load_classifier(f"models/{dataset}/classifier", test_set.image_size)
    features = JudgeFeatures.load(f"models/{dataset}/classifier")

    rows = score_references(judge, features, image_tensor(train_set), image_tensor(test_set), config)
    for name, scores in rows.items():
        write_json(f"metrics/{dataset}/{name}.json", scores)
        print(f"{dataset}/{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()))


if __name__ == "__main__":
    run_stage(main)
