"""Score one trained generator against the judge of its data set; write metrics/<dataset>/<model>.json.

Usage: python stages/evaluate.py <dataset> <model>
"""

import sys

import torch

from glyphgen.evaluation.classifier import load_classifier
from glyphgen.evaluation.scorecard import EvaluateConfig, Splits, ReferenceStats, score_generator
from glyphgen.io import write_json
from glyphgen.params import get_section, load_params, parse_config
from glyphgen.stage import run_stage
from glyphgen.training.checkpoint import load_generator
from glyphgen.training.device import pick_device


def main() -> None:
    dataset, model_name = sys.argv[1], sys.argv[2]
    config = parse_config(EvaluateConfig, get_section(load_params(), "evaluate"), "params.yaml:evaluate")
    torch.set_grad_enabled(False)
    splits = Splits.load(f"data/processed/{dataset}", f"models/{dataset}/classifier")
    judge = load_classifier(f"models/{dataset}/classifier", splits.image_size)
    reference = ReferenceStats.load(f"models/{dataset}/reference_stats.npz")
    generator = load_generator(f"models/{dataset}/{model_name}", pick_device("auto"), splits.image_size)

    scores = score_generator(generator, judge, splits, reference, config)
    write_json(f"metrics/{dataset}/{model_name}.json", scores)
    print(f"{dataset}/{model_name}: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()))


if __name__ == "__main__":
    run_stage(main)
