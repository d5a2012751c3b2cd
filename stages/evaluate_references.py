"""The floor and ceiling rows for one data set: real test images and per-pixel noise, scored like a model.

Usage: python stages/evaluate_references.py <dataset>
Writes metrics/<dataset>/real_test.json (ceiling), metrics/<dataset>/pixel_noise.json (floor), and
models/<dataset>/reference_stats.npz: what every model of the data set is compared with (see ReferenceStats).
"""

import sys

import torch

from glyphgen.evaluation.classifier import load_classifier
from glyphgen.evaluation.scorecard import EvaluateConfig, Splits, ReferenceStats, score_references
from glyphgen.io import write_json
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage


def main() -> None:
    dataset = sys.argv[1]
    config = parse_config(EvaluateConfig, get_section(load_params(), "evaluate"), "params.yaml:evaluate")
    torch.set_grad_enabled(False)
    splits = Splits.load(f"data/processed/{dataset}", f"models/{dataset}/classifier")
    judge = load_classifier(f"models/{dataset}/classifier", splits.image_size)

    reference = ReferenceStats.measure(splits, config)
    reference.save(f"models/{dataset}/reference_stats.npz")
    rows = score_references(judge, splits, reference, config)
    for name, scores in rows.items():
        write_json(f"metrics/{dataset}/{name}.json", scores)
        print(f"{dataset}/{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()))


if __name__ == "__main__":
    run_stage(main)
